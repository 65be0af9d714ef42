"""Catalog search: matching, ranking, facets and suggestions.

PostgreSQL (one database, no search server):

- A book's `search_vector` holds its accent-free, lower-cased words (`catalog_search_words`)
  weighted by field: title A, authors B, subtitle and publisher C, description D.
- A query is cut into words the same way. A word matches a book's word exactly; the last word
  also as a prefix; a word of 5-8 letters with one typo, of 9 or more with two (insertion,
  deletion, substitution, or a swap of two neighbouring letters; a change of the first letter
  counts as two). Typo candidates come from `catalog_searchword` (every word of the catalog)
  through its trigram index, one query for all the query's words, and are accepted by
  `typo_distance`; the corrected words then go to the full-text index like the others.
- Every word must match. When no book (among those the other filters select) matches them
  all, the books matching the most words come first and `search_relaxed` is true. The choice
  is made inside the list's own query (an uncorrelated EXISTS, evaluated once).
- An ISBN (10 or 13, hyphens or spaces) also matches that edition, which comes first.
- Ranking: ISBN, words matched, typos (fewer first), exact over prefix over typo, field
  (title, authors, subtitle/publisher, description), title equal to the query, popularity,
  rating, newest.

Elsewhere (SQLite, for a fresh clone): every word must appear, case-insensitively, in the
title, subtitle or an author's name; no accent folding, typos, prefix rules or ranking.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.postgres.search import SearchQueryField
from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    Expression,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.expressions import Combinable, RawSQL

from catalog.isbn import looks_like_isbn

# The book queryset these functions narrow and return (catalog.models.BookQuerySet, which calls them:
# this module does not import the models back).
Books = TypeVar("Books", bound=QuerySet[Any])

MAX_WORDS = 10
MAX_WORD_LENGTH = 100  # longer words are matched exactly only (and are not in the dictionary)
TYPO_CANDIDATES = 40  # nearest dictionary words (trigram distance) checked per query word
POSTINGS = True  # one-word searches from the search postings where they can (PostingSearch); tests compare

# Characters that NFKD does not decompose but unaccent folds (kept in step with PostgreSQL's).
_FOLD = str.maketrans({"ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ŧ": "t", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th"})
_WORD = re.compile(r"[^\W_]+")


def normalize(text: str) -> str:
    """Lower-case, accent-free text, as `catalog_search_words` makes it in the database."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).translate(_FOLD)


def query_words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))[:MAX_WORDS]


def allowed_typos(word: str) -> int:
    """0 typos in a word of 1-4 letters, 1 in 5-8, 2 in 9 or more."""
    return 0 if len(word) <= 4 else 1 if len(word) <= 8 else 2


def typo_distance(query: str, word: str, limit: int) -> int:
    """Optimal string alignment distance (a neighbour swap is one edit), plus one when the
    first letter differs; any value above `limit` is returned as `limit + 1`."""
    if abs(len(query) - len(word)) > limit:
        return limit + 1
    penalty = 0 if query[:1] == word[:1] else 1
    previous2: list[int] = []
    previous = list(range(len(word) + 1))
    for i in range(1, len(query) + 1):
        current = [i] + [0] * len(word)
        for j in range(1, len(word) + 1):
            cost = 0 if query[i - 1] == word[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and query[i - 1] == word[j - 2] and query[i - 2] == word[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) + penalty > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1] + penalty, limit + 1)


def _lexeme(word: str, *, prefix: bool = False, weight: str = "") -> str:
    # Words are runs of letters and digits: no quote or backslash to escape.
    return f"'{word}'" + (":*" if prefix else (":" if weight else "")) + weight


def _any(terms: list[str]) -> str:
    return " | ".join(terms) if terms else ""


# The nearest dictionary words (trigram distance, a GiST index scan that stops after LIMIT rows)
# of each query word i, kept when within a Levenshtein distance of 2k (a swap is two Levenshtein
# edits); typo_distance decides. Filtering inside the index scan would read the whole dictionary
# when no word is close enough.
CORRECTIONS_SQL = """
    SELECT q.i, c.word
    FROM unnest(%s::int[], %s::text[], %s::int[]) AS q(i, w, k)
    CROSS JOIN LATERAL (
        SELECT d.word FROM catalog_searchword d ORDER BY d.word <-> q.w LIMIT %s
    ) c
    WHERE c.word <> q.w AND levenshtein_less_equal(c.word, q.w, 2 * q.k) <= 2 * q.k
"""


@dataclass
class QueryWord:
    word: str
    last: bool
    typos: dict[int, list[str]] = field(default_factory=dict)  # typo count -> corrected words

    def terms(self, weight: str = "") -> list[str]:
        terms = [_lexeme(self.word, weight=weight)]
        if self.last:
            terms.append(_lexeme(self.word, prefix=True, weight=weight))
        for words in self.typos.values():
            terms.extend(_lexeme(word, weight=weight) for word in words)
        return terms

    @property
    def any(self) -> str:
        return _any(self.terms())


@dataclass
class SearchPlan:
    """What a search text asks for, with its typo corrections looked up."""

    text: str
    words: list[QueryWord]
    isbn: str | None

    @classmethod
    def build(cls, text: str, *, using: str) -> "SearchPlan":
        isbn = looks_like_isbn(text.strip())
        # An ISBN is one word (its characters without separators), not a list of numbers.
        words = [re.sub(r"[\s-]", "", text).casefold()] if isbn else query_words(text)
        plan = cls(
            text=" ".join(words),
            words=[QueryWord(word, last=i == len(words) - 1) for i, word in enumerate(words)],
            isbn=isbn,
        )
        plan._correct(using)
        return plan

    def _correct(self, using: str) -> None:
        """One query for the typo candidates of every word long enough to have typos."""
        wanted = [
            (i, w)
            for i, w in enumerate(self.words)
            if allowed_typos(w.word) and not w.word.isdigit() and len(w.word) <= MAX_WORD_LENGTH
        ]
        if not wanted:
            return
        sql = CORRECTIONS_SQL
        params: list[Any] = [
            [i for i, _ in wanted],
            [w.word for _, w in wanted],
            [allowed_typos(w.word) for _, w in wanted],
            TYPO_CANDIDATES,
        ]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        for i, candidate in rows:
            query_word = self.words[i]
            limit = allowed_typos(query_word.word)
            distance = typo_distance(query_word.word, candidate, limit)
            if distance <= limit:
                query_word.typos.setdefault(distance, []).append(candidate)
        for query_word in self.words:
            for words in query_word.typos.values():
                words.sort()

    @property
    def strict(self) -> str:
        return " & ".join(f"({w.any})" for w in self.words)

    @property
    def relaxed(self) -> str:
        return " | ".join(f"({w.any})" for w in self.words)


class TsMatch(Func):
    """`search_vector @@ <tsquery>`: a tsquery given as text, or a tsquery expression."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, query, **extra):
        if isinstance(query, str):
            query = TsQuery(query)
        super().__init__(F("search_vector"), query, **extra)

    # Its own SQL, so none of `Func.as_sql`'s function/template arguments.
    def as_sql(self, compiler, connection, **extra_context):  # type: ignore[override]
        vector, vector_params = compiler.compile(self.source_expressions[0])
        query, query_params = compiler.compile(self.source_expressions[1])
        return f"({vector} @@ {query})", [*vector_params, *query_params]


class TsQuery(Func):
    """A tsquery written as text (already normalised words: no dictionary is applied)."""

    output_field = SearchQueryField()

    def __init__(self, text: str):
        super().__init__(Value(text))

    def as_sql(self, compiler, connection, **extra_context):  # type: ignore[override]  # as TsMatch's
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql})::tsquery", params


class SearchWords(Func):
    """The lower-cased, accent-free words of a text, separated by single spaces."""

    function = "catalog_search_words"
    output_field = CharField()


def _hit(query: str):
    return TsMatch(query)


def _flag(condition) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _field_rank(word: QueryWord, terms_of) -> Case:
    """3 when the word's best form matched in the title, 2 authors, 1 subtitle/publisher, 0 description."""
    whens = [When(_hit(_any(terms_of("A"))), then=Value(3))]
    whens += [When(_hit(_any(terms_of("B"))), then=Value(2)), When(_hit(_any(terms_of("C"))), then=Value(1))]
    return Case(*whens, default=Value(0), output_field=IntegerField())


def _rank_annotations(plan: SearchPlan) -> dict:
    matched, typos, exactness, fields = [], [], [], []
    for word in plan.words:
        exact = _lexeme(word.word)
        prefix = _lexeme(word.word, prefix=True) if word.last else None
        exact_or_prefix = _any([exact, prefix] if prefix else [exact])
        matched.append(_flag(_hit(word.any)))
        if word.typos:
            typo_whens = [When(_hit(exact_or_prefix), then=Value(0))]
            typo_whens += [
                When(_hit(_any([_lexeme(w) for w in word.typos[n]])), then=Value(n)) for n in sorted(word.typos)
            ]
            typos.append(Case(*typo_whens, default=Value(0), output_field=IntegerField()))
        exact_whens = [When(_hit(exact), then=Value(2))]
        if prefix:
            exact_whens.append(When(_hit(prefix), then=Value(1)))
        exactness.append(Case(*exact_whens, default=Value(0), output_field=IntegerField()))
        # The field of the best form that matched: exact, else prefix, else a typo.
        forms = [lambda weight, w=word: [_lexeme(w.word, weight=weight)]]
        if prefix:
            forms.append(lambda weight, w=word: [_lexeme(w.word, prefix=True, weight=weight)])
        if word.typos:
            forms.append(lambda weight, w=word: [_lexeme(t, weight=weight) for n in w.typos for t in w.typos[n]])
        if len(forms) == 1:
            fields.append(_field_rank(word, forms[0]))
        else:
            form_whens = [When(_hit(_any(form(""))), then=_field_rank(word, form)) for form in forms[:-1]]
            fields.append(Case(*form_whens, default=_field_rank(word, forms[-1]), output_field=IntegerField()))

    def total(parts):
        result = parts[0] if parts else Value(0)
        for part in parts[1:]:
            result = result + part
        return result

    return {
        "search_isbn": _flag(Q(isbn=plan.isbn)) if plan.isbn else Value(0, output_field=IntegerField()),
        "search_matched": total(matched),
        "search_typos": total(typos),
        "search_exact": total(exactness),
        "search_field": total(fields),
        "search_title_equal": _flag(Q(search_title=plan.text)),
    }


def search_books(
    queryset: Books,
    text: str,
    *,
    ranked: bool = True,
    relax_within: Books | None = None,
    plan: SearchPlan | None = None,
    postings: bool = False,
) -> Books:
    """`queryset` narrowed to the books matching `text`; ranked (see the module) unless not `ranked`.

    The result carries `search_relaxed` on each row. `relax_within`: the queryset in which "no book
    matches every word" is decided (the list with all its filters; default `queryset`).
    `plan`: the text's `SearchPlan` when the caller already has it (a list and its facets).
    `postings`: the caller vouches that `queryset` is the public catalog (active books) with no
    filter; then `search_page` and `book_facets` may take the page, the count and the facets from
    the search postings (`PostingSearch`).
    """
    if connections[queryset.db].vendor != "postgresql":
        return _search_plain(queryset, text)
    plan = plan or SearchPlan.build(text, using=queryset.db)
    if not plan.words and not plan.isbn:
        return queryset.none()
    within = queryset if relax_within is None else relax_within
    query: Expression | None
    relaxed: Expression
    if len(plan.words) > 1:
        anywhere = Exists(within.filter(TsMatch(plan.strict)).values("pk"))
        query = Case(
            When(anywhere, then=TsQuery(plan.strict)), default=TsQuery(plan.relaxed), output_field=SearchQueryField()
        )
        relaxed = Case(When(anywhere, then=Value(False)), default=Value(True), output_field=BooleanField())
    else:
        query = TsQuery(plan.strict) if plan.words else None
        relaxed = Value(False, output_field=BooleanField())
    match: TsMatch | Q = TsMatch(query) if query is not None else Q(pk__in=[])
    if plan.isbn:
        match = Q(match) | Q(isbn=plan.isbn)
    books = queryset.filter(match).annotate(search_relaxed=relaxed)
    if postings and POSTINGS and (posting_search := PostingSearch.of(plan)) is not None:
        books.query.search_postings = posting_search  # type: ignore[attr-defined]  # kept by Query.clone
    if not ranked:
        return books
    books = books.alias(search_title=SearchWords(F("title")))
    books = books.annotate(**_rank_annotations(plan))
    rating = [F("average_rating").desc(nulls_last=True)] if "average_rating" in books.query.annotations else []
    return books.order_by(*RANK_ORDER, *rating, "-created_at", "-id")


# The ranking's keys before the rating (`search_books`); then the rating when the books carry it,
# the newest, the highest id.
RANK_ORDER = (
    "-search_isbn",
    "-search_matched",
    "search_typos",
    "-search_exact",
    "-search_field",
    "-search_title_equal",
    "-popularity",
)


def search_page(books: Books, start: int, stop: int, *, count: bool = False) -> Books:
    """The books at positions [start, stop) of a search (`search_books`), in its order: one query.

    On PostgreSQL the order is decided on narrow rows first: a subquery ranks the ids of the
    matches (the ranking keys only, sorted in memory), and only the page's ids are then read with
    the annotations and joins the serializers need (stock, category, ratings), instead of
    computing those for every match before the LIMIT. The rating, a subquery per book, is the
    key after popularity: the ids come sorted on the keys before it, and an incremental sort
    computes it only for the rows that tie up to popularity near the page.
    `count`: each row also carries `list_total`, the number of matches, counted on the match
    condition alone (a bitmap count without the ranking).
    """
    if connections[books.db].vendor != "postgresql":
        if count:
            books = books.annotate(list_total=Window(Count("pk")))
        return books[start:stop]
    order = tuple(books.query.order_by)
    postings = posting_search_of(books)
    ranked = order[: len(RANK_ORDER)] == RANK_ORDER
    if ranked and postings is not None and order == (*RANK_ORDER, RATING_ORDER, "-created_at", "-id"):
        ids: Any = RawSQL(*postings.page_sql(start, stop))  # noqa: S611 (fixed fragments)
    elif ranked:
        ids_sql, ids_params = _ranked_ids_sql(books, start, stop)
        ids = RawSQL(ids_sql, ids_params)  # noqa: S611 (Django's SQL and fixed fragments)
    else:  # an explicit ordering: the ids in that order, then their rows
        ids = books.values("pk")[start:stop]
    page = books.filter(pk__in=ids)
    if count:
        if postings is not None:
            total = RawSQL(*postings.count_sql())  # noqa: S611 (fixed fragments)
        else:
            count_sql, count_params = books.order_by().values("pk").query.sql_with_params()
            total = RawSQL(f"SELECT count(*) FROM ({count_sql}) AS matches", count_params)  # noqa: S608, S611 (Django's SQL)
        page = page.annotate(list_total=total)
    return page


def posting_search_of(books) -> "PostingSearch | None":
    """The `PostingSearch` that `search_books` attached to this search, if any."""
    return getattr(books.query, "search_postings", None)


# The order's key after RANK_ORDER when the books carry their rating (`search_books`).
RATING_ORDER = F("average_rating").desc(nulls_last=True)


@dataclass(frozen=True)
class PostingSearch:
    """A one-word search answered from the search postings (`catalog.models.SearchPosting`).

    The query word `word` matches a book exactly, as a prefix (every posting word in
    [`word`, `upper`): the "C" collation makes a prefix a range of the read index) or through
    one of its typo corrections `typos`, all of one typo count. Each posting's key, in the read
    index's order after the word, is the book's ranking key through that word:
    (form: exact 4 > prefix 3 > typo 2; field; title equal to the query, which only the query's
    own word can be; popularity; rating; newest; id), and a book's ranking key (`search_books`)
    is the largest key of its postings among the query's words. So the first `stop` books of
    the ranking are among the first `stop` postings of each word (a book missing there has
    `stop` books with a larger key
    before it), and their order is the order of their best postings: the page is one pass of
    `LATERAL ... LIMIT stop` per word (the prefix words found by a loose scan of the index),
    merged, with no search vector read. The count and the facets read the postings of the
    words once (index-only).

    Not used, and the GIN path (`search_books`, `_ranked_ids_sql`, `facets_sql`) answers
    instead, when it cannot prove the page this way: more than one query word (the words
    matched and relaxing depend on several words at once), an ISBN, typo corrections of two
    typo counts (a book's typo count and its field may then come from different words), a
    query word ending in the last code point, a search the caller did not vouch for (staff,
    or any filter besides the search, `ordering` and `facets`: the postings carry no stock,
    author or withdrawal), books without their rating (an order without it), and an explicit
    `ordering` (its page; its count still comes from here).
    """

    word: str
    upper: str
    typos: tuple[str, ...]

    EXACT = 4
    PREFIX = 3
    TYPO = 2

    @classmethod
    def of(cls, plan: SearchPlan) -> "PostingSearch | None":
        if plan.isbn or len(plan.words) != 1:
            return None
        word = plan.words[0]
        if not word.word or len(word.typos) > 1 or ord(word.word[-1]) >= 0x10FFFF:
            return None
        typos = tuple(t for n in word.typos for t in word.typos[n])
        return cls(word=word.word, upper=word.word[:-1] + chr(ord(word.word[-1]) + 1), typos=typos)

    # The words and their forms: the word, its prefix words (each found by one descent of the read
    # index: the smallest word after the previous one), its typo corrections. (`ORDER BY ... LIMIT 1`,
    # not `min()`: the planner may answer a `min()` it expects one row for by reading the whole range,
    # 27,702 postings of `drag` at a million books, 8 ms of a suggestion's 9.)
    _FORMS = """
        WITH RECURSIVE prefix(word) AS (
            SELECT (SELECT p.word FROM catalog_searchposting p WHERE p.word > %s AND p.word < %s
                    ORDER BY p.word LIMIT 1)
            UNION ALL
            SELECT (SELECT p.word FROM catalog_searchposting p WHERE p.word > prefix.word AND p.word < %s
                    ORDER BY p.word LIMIT 1)
            FROM prefix WHERE prefix.word IS NOT NULL
        ), forms(word, form) AS (
            SELECT %s::text COLLATE "C", {exact}
            UNION ALL SELECT word, {prefix} FROM prefix WHERE word IS NOT NULL
            UNION ALL SELECT unnest(%s::text[]) COLLATE "C", {typo}
        )
    """

    def _forms(self) -> tuple[str, list]:
        sql = self._FORMS.format(exact=self.EXACT, prefix=self.PREFIX, typo=self.TYPO)
        return sql, [self.word, self.upper, self.upper, self.word, list(self.typos)]

    def page_sql(self, start: int, stop: int) -> tuple[str, list]:
        """The ids of positions [start, stop) of the ranking, in order."""
        forms, params = self._forms()
        key = "p.field DESC, p.title_equal DESC, p.popularity DESC, p.rating DESC NULLS LAST, p.created_at DESC"
        # A title equal to another word than the query's is no title equal to the query: for those
        # words the rows of books titled that word alone (first in the index) are read apart.
        sql = f"""{forms}, top AS (
            SELECT f.form, p.* FROM forms f CROSS JOIN LATERAL (
                SELECT p.book_id, p.field, p.title_equal AND f.form = {self.EXACT} AS title_equal,
                    p.popularity, p.rating, p.created_at
                FROM catalog_searchposting p
                WHERE p.word = f.word AND (f.form = {self.EXACT} OR NOT (p.field = 3 AND p.title_equal))
                ORDER BY {key}, p.book_id DESC LIMIT %s
            ) p
            UNION ALL
            SELECT f.form, p.* FROM forms f CROSS JOIN LATERAL (
                SELECT p.book_id, p.field, FALSE AS title_equal, p.popularity, p.rating, p.created_at
                FROM catalog_searchposting p WHERE p.word = f.word AND p.field = 3 AND p.title_equal
                ORDER BY {key}, p.book_id DESC LIMIT %s
            ) p
            WHERE f.form <> {self.EXACT}
        ), best AS (
            SELECT DISTINCT ON (p.book_id) p.* FROM top p ORDER BY p.book_id, p.form DESC, {key}
        )
        SELECT p.book_id FROM best p ORDER BY p.form DESC, {key}, p.book_id DESC LIMIT %s OFFSET %s
        """  # noqa: S608 (fixed fragments)
        return sql, [*params, stop, stop, stop - start, start]

    def _rows(self, columns: str) -> tuple[str, list]:
        """The postings of the query's words (each book once per word), `columns` of each."""
        sql = f"""
            SELECT {columns} FROM catalog_searchposting p WHERE p.word >= %s AND p.word < %s
            UNION ALL
            SELECT {columns} FROM catalog_searchposting p WHERE p.word = ANY(%s::text[])
        """  # noqa: S608 (fixed fragments)
        return sql, [self.word, self.upper, list(self.typos)]

    def count_sql(self) -> tuple[str, list]:
        """The number of books matching (distinct books over the words' postings)."""
        rows, params = self._rows("p.book_id")
        return f"SELECT count(DISTINCT m.book_id) FROM ({rows}) AS m", params  # noqa: S608 (fixed fragments)

    def facet_rows_sql(self, flags: dict[str, tuple[str, list]]) -> tuple[str, list]:
        """The matching books once each: id, category, format, language, price, rating and the
        facet filters' flags (`flags`: name -> condition on the posting's columns). A book's
        postings carry the same values: any one of them stands for it (`DISTINCT ON` the id alone)."""
        columns = "p.book_id, p.category_id, p.format, p.language, p.price, p.rating"
        rows, params = self._rows(columns)
        flag_sql = "".join(f", CASE WHEN {sql} THEN 1 ELSE 0 END AS {name}" for name, (sql, _) in flags.items())
        flag_params = [param for _, flag_params in flags.values() for param in flag_params]
        sql = (
            "SELECT DISTINCT ON (catalog_searchposting.book_id) "  # noqa: S608 (fixed fragments)
            f"catalog_searchposting.*{flag_sql} FROM ({rows}) AS catalog_searchposting"
        )
        return sql, [*flag_params, *params]


def _ranked_ids_sql(books, start: int, stop: int) -> tuple[str, list]:
    """The ids of positions [start, stop) in the ranking's order, computed on narrow rows.

    `r`: the matches with their ranking keys; `rank()` over the keys before the rating keeps only
    the rows that can reach the page (the first `stop`, and every row tied with the last of them
    up to popularity), so that the rating, a subquery per book, is read for those rows alone.
    """
    keys = [name.lstrip("-") for name in RANK_ORDER]
    narrow = books.order_by().values("id", *keys, "created_at")
    inner, params = narrow.query.sql_with_params()
    head = ", ".join(f"r.{name.lstrip('-')} {'DESC' if name.startswith('-') else 'ASC'}" for name in RANK_ORDER)
    if "average_rating" not in books.query.annotations:
        sql = f"SELECT r.id FROM ({inner}) AS r ORDER BY {head}, r.created_at DESC, r.id DESC LIMIT %s OFFSET %s"  # noqa: S608
        return sql, [*params, stop - start, start]
    # As `BookQuerySet.with_ratings`: the mean of the published reviews, none last.
    review = books.model._meta.get_field("reviews").related_model
    rating = (
        f"(SELECT avg(v.rating) FROM {review._meta.db_table} v "  # noqa: S608 (names from the models)
        "WHERE v.book_id = r.id AND v.status = 'published')"
    )
    sql = (
        f"SELECT r.id FROM (SELECT r.*, rank() OVER (ORDER BY {head}) AS head_rank FROM ({inner}) AS r) AS r "  # noqa: S608
        f"WHERE r.head_rank <= %s ORDER BY {head}, {rating} DESC NULLS LAST, r.created_at DESC, r.id DESC "
        "LIMIT %s OFFSET %s"
    )
    return sql, [*params, stop, stop - start, start]


def _search_plain(queryset: Books, text: str) -> Books:
    """SQLite: every word in the title, subtitle or an author's name (case-insensitive), or the ISBN."""
    Author = queryset.model._meta.get_field("authors").related_model

    words = _WORD.findall(text.casefold())[:MAX_WORDS]
    isbn = looks_like_isbn(text.strip())
    if not words and not isbn:
        return queryset.none()
    match: Q | Combinable = Q()
    for word in words:
        match &= (
            Q(title__icontains=word)
            | Q(subtitle__icontains=word)
            | Exists(Author.objects.filter(books=OuterRef("pk"), name__icontains=word))
        )
    if isbn:
        match = (match | Q(isbn=isbn)) if words else Q(isbn=isbn)
    return queryset.filter(match).annotate(search_relaxed=Value(False, output_field=BooleanField()))


# Facets


FACETS = ("category", "format", "language", "price", "rating")
PRICE_BUCKETS = [
    (Decimal("0.00"), Decimal("10.00")),
    (Decimal("10.00"), Decimal("20.00")),
    (Decimal("20.00"), Decimal("50.00")),
    (Decimal("50.00"), None),
]
RATING_MINIMA = (1, 2, 3, 4)


def book_facets(base, conditions: dict, names: list[str]) -> dict:
    """Counts of `names` over `base` (the books the search and the non-facet filters select),
    each facet with every facet filter applied except its own (`conditions`: facet -> Q or None).

    One query (`facets_sql`): the selected books read once; on PostgreSQL every facet counted in
    that one pass (grouping sets), elsewhere one GROUP BY per facet. The category facet counts
    each category's whole subtree.
    """
    sql, params = facets_sql(base, conditions, names)
    with connections[base.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _facets_from_rows(rows, names)


def facets_sql(base, conditions: dict, names: list[str]) -> tuple[str, list]:
    postings = posting_search_of(base)
    if postings is not None:  # the postings of the query's words, read index-only (PostingSearch)
        flag_names = [f"f_{name}" for name in conditions]
        flag_sql = {f"f_{name}": _posting_condition_sql(base.db, condition) for name, condition in conditions.items()}
        rows_sql, params = postings.facet_rows_sql(flag_sql)
    else:
        flags = {
            f"f_{name}": _flag(condition) if condition is not None else Value(1)
            for name, condition in conditions.items()
        }
        flag_names = list(flags)
        columns = ["pk", "category_id", "format", "language", "price"]
        base = base.order_by().annotate(**flags)
        if "rating" in names:
            columns.append("average_rating")
        rows_sql, params = base.values(*columns, *flags).query.sql_with_params()

    postgres = connections[base.db].vendor == "postgresql"
    bucket = " ".join(f"WHEN price < {high} THEN '{i}'" for i, (_, high) in enumerate(PRICE_BUCKETS) if high)
    floor = "CAST(floor(average_rating) AS INTEGER)" if postgres else "CAST(average_rating AS INTEGER)"
    # Each facet's key (over the columns of `base`), and the condition a book must meet to count in
    # it besides the other facets' filters.
    facets = {
        "format": ("format", "TRUE"),
        "language": ("language", "TRUE"),
        "price": (f"CASE {bucket} ELSE '{len(PRICE_BUCKETS) - 1}' END", "TRUE"),
        "rating": (floor, "k_rating IS NOT NULL"),
        "category": ("category_id", "k_category IS NOT NULL"),
    }
    asked = [name for name in facets if name in names]
    counting = {  # the books each facet counts
        name: " AND ".join([f"f_{other} = 1" for other in FACETS if other != name] + [facets[name][1]])
        for name in asked
    }

    def counted_in(name: str) -> str:
        """The counts of facet `name`: a relation of (key, count), the groups with books only."""
        if postgres:  # its rows of `counts` (GROUPING's bit of a column is 0 in the sets grouped by it)
            mask = (1 << len(asked)) - 1 - (1 << (len(asked) - 1 - asked.index(name)))
            return f"(SELECT k_{name} AS key, n_{name} AS count FROM counts WHERE g = {mask} AND n_{name} > 0)"  # noqa: S608 (fixed fragments)
        return f"(SELECT k_{name} AS key, count(*) AS count FROM keyed WHERE {counting[name]} GROUP BY k_{name})"  # noqa: S608 (fixed fragments)

    parts = [
        f"SELECT '{name}', CAST(n.key AS TEXT), NULL, NULL, n.count FROM {counted_in(name)} n"  # noqa: S608 (fixed fragments)
        for name in asked
        if name != "category"
    ]
    if "category" in asked:  # each category counts the books of its whole subtree
        parts.append(
            "SELECT 'category', CAST(c.id AS TEXT), c.name, c.slug, sum(n.count) "  # noqa: S608 (fixed fragments)
            f"FROM {counted_in('category')} n JOIN ancestors a ON a.category_id = n.key "
            "JOIN catalog_category c ON c.id = a.ancestor_id GROUP BY c.id, c.name, c.slug"
        )
    ancestors = (
        ", ancestors(category_id, ancestor_id) AS (SELECT id, id FROM catalog_category UNION "
        "SELECT a.category_id, c.parent_id FROM ancestors a JOIN catalog_category c ON c.id = a.ancestor_id "
        "WHERE c.parent_id IS NOT NULL)"
        if "category" in asked
        else ""
    )
    keys = ", ".join(f"{facets[name][0]} AS k_{name}" for name in asked)
    keyed = f", keyed AS (SELECT {keys}, {', '.join(flag_names)} FROM base)"  # noqa: S608 (fixed fragments)
    counts = ""
    if postgres:
        # Every facet in one pass over the books (hashed grouping sets), each counting its own books.
        k_columns = ", ".join(f"k_{name}" for name in asked)
        filtered = ", ".join(f"count(*) FILTER (WHERE {counting[name]}) AS n_{name}" for name in asked)
        sets = ", ".join(f"(k_{name})" for name in asked)
        counts = (
            f", counts AS (SELECT GROUPING({k_columns}) AS g, {k_columns}, {filtered} "  # noqa: S608 (fixed fragments)
            f"FROM keyed GROUP BY GROUPING SETS ({sets}))"
        )
    # Column names of `base` are Django's; rename them positionally to ours.
    names_sql = ", ".join(
        ["id", "category_id", "format", "language", "price"]
        + (["average_rating"] if "rating" in names or postings is not None else [])  # a posting row carries it
        + flag_names
    )
    sql = f"WITH RECURSIVE base({names_sql}) AS ({rows_sql}){ancestors}{keyed}{counts} " + " UNION ALL ".join(parts)
    return sql, list(params)


def _posting_condition_sql(using: str, condition: Q | None) -> tuple[str, list]:
    """A facet filter (a condition on the book's category, format, language, price or rating) as
    SQL on the columns of `catalog_searchposting`."""
    if condition is None:
        return "TRUE", []
    from django.apps import apps

    posting = apps.get_model("catalog", "SearchPosting")

    def renamed(node):
        children = [
            renamed(child) if isinstance(child, Q) else (child[0].replace("average_rating", "rating", 1), child[1])
            for child in node.children
        ]
        copy = Q(*children, _connector=node.connector, _negated=node.negated)
        return copy

    query = posting.objects.using(using).filter(renamed(condition)).query
    compiler = query.get_compiler(using=using)
    sql, params = compiler.compile(query.where)
    return sql, list(params)


def _facets_from_rows(rows, names: list[str]) -> dict:
    result: dict[str, list] = {name: [] for name in names}
    rating_counts: dict[int, int] = {}
    for facet, key, name, slug, count in rows:
        if facet == "category":
            result["category"].append({"id": int(key), "name": name, "slug": slug, "count": count})
        elif facet in ("format", "language"):
            result[facet].append({"value": key, "count": count})
        elif facet == "price":
            low, high = PRICE_BUCKETS[int(key)]
            result["price"].append(
                {"min": f"{low:.2f}", "max": f"{high:.2f}" if high is not None else None, "count": count}
            )
        elif facet == "rating":
            rating_counts[int(key)] = count
    if "rating" in names:
        for minimum in RATING_MINIMA:
            count = sum(n for floor, n in rating_counts.items() if floor >= minimum)
            if count:
                result["rating"].append({"min": minimum, "count": count})
    for facet in ("format", "language"):
        if facet in result:
            result[facet].sort(key=lambda item: (-item["count"], item["value"]))
    if "category" in result:
        result["category"].sort(key=lambda item: (-item["count"], item["name"], item["id"]))
    if "price" in result:
        result["price"].sort(key=lambda item: Decimal(item["min"]))
    return result
