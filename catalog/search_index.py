"""Keeping the search columns of books current (the queries are in `catalog.search`).

Every write path of books and authors (API, admin, import, seed) calls these, never signals.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import connections, transaction

from catalog.caching import catalog_changed
from catalog.models import Book

if TYPE_CHECKING:
    pass

# The search vector of a book (see catalog.search): accent-free words weighted by field.
_SEARCH_VECTOR_SQL = """
    setweight(to_tsvector('simple', catalog_search_words({title})), 'A')
    || setweight(to_tsvector('simple', catalog_search_words({names})), 'B')
    || setweight(to_tsvector('simple', catalog_search_words({subtitle} || ' ' || {publisher})), 'C')
    || setweight(to_tsvector('simple', catalog_search_words({description})), 'D')
"""
# New words of the given vectors join the dictionary of typo candidates.
# (`tsvector_to_array` gives the lexemes alone: half the work of `unnest(tsvector)`, which also
# builds each lexeme's positions and weights; the filters run on the distinct words only.)
_ADD_WORDS_SQL = """
    INSERT INTO catalog_searchword (word)
    SELECT d.word FROM (SELECT DISTINCT unnest(tsvector_to_array(v.search_vector)) AS word FROM {source}) AS d
    WHERE length(d.word) <= 100 AND d.word !~ '^[0-9]+$'
    ORDER BY 1
    ON CONFLICT DO NOTHING
"""


def book_search_vector_refresh(*, book_ids: Iterable[int] | None = None, using: str = "default") -> None:
    """Recomputes the search vectors of the given books (title, author names, subtitle,
    publisher, description) and adds their new words to the dictionary of typo candidates.

    Called by every write path of books and authors (API, admin, import, seed), never by
    signals. One statement whatever the number of books; a no-op outside PostgreSQL.
    `book_ids=None` refreshes every book.
    """
    catalog_changed()  # search results change with the search columns
    if connections[using].vendor != "postgresql":
        return
    # Author names are aggregated once for the whole set (a join, not a subquery per book),
    # so the plan stays linear even when table statistics are stale during a bulk import.
    only = "" if book_ids is None else "WHERE ba.book_id = ANY(%(ids)s)"
    where = "" if book_ids is None else "AND b.id = ANY(%(ids)s)"
    vector = _SEARCH_VECTOR_SQL.format(
        title="b.title",
        names="coalesce(n.names, '')",
        subtitle="b.subtitle",
        publisher="b.publisher",
        description="b.description",
    )
    sql = f"""
        WITH names AS (
            SELECT ba.book_id, string_agg(a.name, ' ' ORDER BY a.name) AS names
            FROM catalog_book_authors ba JOIN catalog_author a ON a.id = ba.author_id
            {only}
            GROUP BY ba.book_id
        ), v AS (
            UPDATE catalog_book AS b SET search_vector = {vector}
            FROM catalog_book AS b2 LEFT JOIN names AS n ON n.book_id = b2.id
            WHERE b2.id = b.id {where}
            RETURNING b.search_vector
        )
        {search_words_insert_sql(source="v")}
    """  # noqa: S608 (only fixed fragments are interpolated; values are parameters)
    params: dict[str, Any] = {}
    if book_ids is not None:
        ids = list(book_ids)
        if not ids:
            return
        params["ids"] = ids
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
    book_postings_refresh(book_ids=None if book_ids is None else params["ids"], using=using)


def search_vector_sql(*, title: str, names: str, subtitle: str, publisher: str, description: str) -> str:
    """The SQL expression of a book's search vector from these SQL expressions of its texts (the
    same value `book_search_vector_refresh` computes), for statements that write books in bulk."""
    return _SEARCH_VECTOR_SQL.format(
        title=title, names=names, subtitle=subtitle, publisher=publisher, description=description
    )


def search_words_insert_sql(*, source: str) -> str:
    """The statement that adds the new words of the search vectors of `source` (a table or CTE
    with a `search_vector` column, aliased `v`) to the typo dictionary, for statements that write
    books in bulk (a data-modifying CTE with `RETURNING search_vector`)."""
    return _ADD_WORDS_SQL.format(source=f"{source} AS v")


# A book's postings (catalog.models.SearchPosting): one row per word of its search vector, with
# the word's best field and what the ranking and the facets read; withdrawn books have none.
_POSTINGS_INSERT_SQL = """
    INSERT INTO catalog_searchposting
        (book_id, word, field, title_equal, popularity, rating, created_at, category_id, format, language, price)
    SELECT b.id, l.lexeme,
        CASE WHEN 'A' = ANY(l.weights) THEN 3 WHEN 'B' = ANY(l.weights) THEN 2
             WHEN 'C' = ANY(l.weights) THEN 1 ELSE 0 END,
        l.lexeme = t.title, b.popularity, r.rating, b.created_at, b.category_id, b.format, b.language, b.price
    FROM catalog_book b
    LEFT JOIN (
        SELECT v.book_id, avg(v.rating) AS rating FROM catalog_review v
        WHERE v.status = 'published' {reviews}
        GROUP BY v.book_id
    ) r ON r.book_id = b.id
    CROSS JOIN LATERAL (SELECT catalog_search_words(b.title) AS title OFFSET 0) t
    CROSS JOIN LATERAL unnest(b.search_vector) l
    WHERE b.is_active {books}
    {order}
"""
# (`OFFSET 0` keeps the planner from pulling the title's words up into the select list, where they
# would be computed again for every word of the book: for the bench import's 100,000 books, 49 words
# each, the SELECT took 13.3 s that way and takes 2.2 s.)

# For inserts into the read index: in its order, so that they walk it once, not at random.
_IN_INDEX_ORDER = "ORDER BY l.lexeme"

# The same indexes as migration 0009's.
_POSTINGS_INDEXES_SQL = """
    CREATE INDEX catalog_searchposting_book ON catalog_searchposting (book_id);
    CREATE INDEX catalog_searchposting_read ON catalog_searchposting
        (word, field DESC, title_equal DESC, popularity DESC, rating DESC NULLS LAST, created_at DESC, book_id DESC)
        INCLUDE (category_id, format, language, price);
"""


def book_postings_refresh(*, book_ids: Iterable[int] | None = None, using: str = "default") -> None:
    """Rewrites the search postings of the given books from their rows (search vector, title,
    popularity, published reviews' mean rating, created_at, category, format, language, price;
    none when withdrawn or deleted). A no-op outside PostgreSQL.

    Called by `book_search_vector_refresh` (every write of the searched texts) and by every
    other write of what a posting carries: withdrawal and restoration, deletion, a staff edit
    of price, category, format or language, review moderation, the popularity refresh, the
    import. Three statements whatever the number of books (the books locked, the DELETE through the index on
    `book_id`); `book_ids=None` rebuilds the table (TRUNCATE, one INSERT, then its indexes).
    """
    if connections[using].vendor != "postgresql":
        return
    with connections[using].cursor() as cursor:
        if book_ids is None:  # without its indexes, built again in bulk after the INSERT
            cursor.execute("TRUNCATE catalog_searchposting")
            cursor.execute("DROP INDEX IF EXISTS catalog_searchposting_book")
            cursor.execute("DROP INDEX IF EXISTS catalog_searchposting_read")
            cursor.execute(_POSTINGS_INSERT_SQL.format(reviews="", books="", order=""))
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")  # the bulk builds (this transaction)
            cursor.execute(_POSTINGS_INDEXES_SQL)
            return
        ids = sorted(set(book_ids))
        if not ids:
            return
        with transaction.atomic(using=using, savepoint=False):
            # The books' rows locked first (in id order): a concurrent refresh of one of them waits,
            # then its DELETE sees and replaces what this one wrote (the table has no unique key that
            # would refuse a second set of a book's words).
            cursor.execute("SELECT id FROM catalog_book WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", [ids])
            cursor.execute("DELETE FROM catalog_searchposting WHERE book_id = ANY(%s)", [ids])
            sql = _POSTINGS_INSERT_SQL.format(
                reviews="AND v.book_id = ANY(%(ids)s)", books="AND b.id = ANY(%(ids)s)", order=_IN_INDEX_ORDER
            )
            cursor.execute(sql, {"ids": ids})


def book_postings_popularity_refresh(*, book_ids: Iterable[int], using: str = "default") -> None:
    """The popularity of these books' postings set to their rows' (after `books_popularity_refresh`)."""
    ids = sorted(set(book_ids))
    if connections[using].vendor != "postgresql" or not ids:
        return
    with connections[using].cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_searchposting AS p SET popularity = b.popularity FROM catalog_book AS b "
            "WHERE p.book_id = ANY(%s) AND b.id = p.book_id AND p.popularity <> b.popularity",
            [ids],
        )


def author_books_search_refresh(*, author_ids: Iterable[int]) -> None:
    """After an author's name changed: refresh the search vectors of their books."""
    book_ids = Book.authors.through.objects.filter(author_id__in=list(author_ids)).values_list("book_id", flat=True)
    book_search_vector_refresh(book_ids=set(book_ids))
