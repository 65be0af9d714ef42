"""The book detail's read without the ORM's per-request work: SQL compiled once, plain dicts out.

Profiled (`bench/cpu.py GET /api/v1/books/{n}`, 100,000 books): an uncached detail spent most
of its CPU in Django's SQL compiler (two querysets compiled on every request: the book with its
rating subqueries, then the authors' prefetch) and in building model instances, then in DRF's
fields. Here each of the two statements is compiled by the ORM once per thread and database
connection (`bookstore.compiled`), then only executed; the rows become the answer's dict
through plain functions.

The answer is the one `catalog.serializers.BookSerializer` gives, key for key and byte for byte
(`catalog/tests/test_reads.py` compares the two on varied books); the serializer stays the
schema's, and the writes' answer.
"""

import re
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.utils import timezone

from bookstore.compiled import PLACEHOLDERS, compiled
from bookstore.filters import MAX_ID
from bookstore.presenting import datetime_text, decimal_text, decimal_value
from catalog.categories import category_subtree_ids
from catalog.filters import BookFilter
from catalog.models import Author, Book, BookQuerySet

_BOOK = PLACEHOLDERS[0]  # the book's id in the compiled statements (bookstore.compiled)

_BOOK_COLUMNS = (
    "id", "isbn", "title", "subtitle", "slug", "category_id", "category__name", "category__slug", "publisher",
    "published_date", "language", "page_count", "format", "description", "price", "stock_record__quantity",
    "in_stock", "cover", "average_rating", "review_count", "created_at", "updated_at",
)  # fmt: skip

_DESCRIPTION = _BOOK_COLUMNS.index("description")


def _book_queryset(*, withdrawn: bool):
    books = Book.objects.filter(pk=_BOOK)
    if not withdrawn:
        books = books.available()
    return books.with_ratings().order_by().values_list(*_BOOK_COLUMNS)


def _authors_queryset():
    return Author.objects.filter(books=_BOOK).values_list("id", "name")  # in Author's order: name, id


def _money(value) -> str:
    return decimal_text(value, max_digits=7)  # Book.price: max_digits=7, decimal_places=2


def _rating(value) -> float | None:
    # DRF's DecimalField (coerce_to_string=False): a Decimal, which the renderer writes as the number
    # `float()` of it (rest_framework.utils.encoders): that float here, the same bytes without the encoder's default.
    if value is None:
        return None
    return float(decimal_value(value, max_digits=3))  # BookListSerializer.average_rating: max_digits=3


def _cover_url(name: str, request) -> str | None:
    if not name:
        return None
    url = Book._meta.get_field("cover").storage.url(name)
    return request.build_absolute_uri(url) if request is not None else url


def _book(row, authors: list[dict], request, *, description: bool, tz, currency: str) -> dict[str, Any]:
    """A row of `_BOOK_COLUMNS` (without "description" unless `description`) as BookListSerializer /
    BookSerializer give it (`tz`: the current time zone; `currency`: the store's)."""
    text = None
    if description:
        text, row = row[_DESCRIPTION], (*row[:_DESCRIPTION], *row[_DESCRIPTION + 1 :])
    (book_id, isbn, title, subtitle, slug, category_id, category_name, category_slug, publisher, published_date,
     language, page_count, book_format, price, stock, in_stock, cover, average_rating, review_count,
     created_at, updated_at) = row  # fmt: skip
    book = {
        "id": book_id,
        "isbn": isbn,
        "title": title,
        "subtitle": subtitle,
        "slug": slug,
        "authors": authors,
        "category": None if category_id is None else {"id": category_id, "name": category_name, "slug": category_slug},
        "publisher": publisher,
        "published_date": None if published_date is None else published_date.isoformat(),
        "language": language,
        "page_count": page_count,
        "format": book_format,
    }
    if description:
        book["description"] = text
    book["price"] = _money(price)
    book["currency"] = currency
    book["stock"] = 0 if stock is None else stock
    book["in_stock"] = bool(in_stock)
    book["cover_url"] = _cover_url(cover, request)
    book["average_rating"] = _rating(average_rating)
    book["review_count"] = review_count
    book["created_at"] = datetime_text(created_at, tz)
    book["updated_at"] = datetime_text(updated_at, tz)
    return book


def book_detail_data(pk: int, *, request, withdrawn: bool) -> dict[str, Any] | None:
    """The detail of book `pk` as `BookSerializer` gives it, or None when there is no such book
    (or it is withdrawn, unless `withdrawn`): two statements, the book's row and its authors."""
    if not 0 < pk <= MAX_ID:
        return None  # beyond a 64-bit id: no book (as the ORM's lookup says), not a database error
    name = "book-withdrawn" if withdrawn else "book"
    rows = compiled(f"catalog.{name}", lambda: _book_queryset(withdrawn=withdrawn), prepare=True).rows({_BOOK: pk})
    if not rows:
        return None
    authors = compiled("catalog.authors", _authors_queryset, prepare=True).rows({_BOOK: rows[0][0]})
    authors_data = [{"id": author_id, "name": author_name} for author_id, author_name in authors]
    tz, currency = timezone.get_current_timezone(), settings.STORE_CURRENCY
    return _book(rows[0], authors_data, request, description=True, tz=tz, currency=currency)


LIST_COLUMNS = tuple(column for column in _BOOK_COLUMNS if column != "description")


def book_list_rows(books: BookQuerySet) -> BookQuerySet:
    """`books` (the list's filtered, ordered queryset) as rows of `LIST_COLUMNS`, for `book_list_data`:
    no model instances, no prefetch (the authors are read by `book_list_data`)."""
    return books.prefetch_related(None).values_list(*LIST_COLUMNS)  # type: ignore[return-value]


# A page's books in the authors' statement: one placeholder per book (a page holds at most 100).
_PAGE_BOOKS = tuple(-7_340_022_000 - i for i in range(100))


def _authors_of_queryset(n: int):
    return (
        Book.authors.through.objects.filter(book_id__in=_PAGE_BOOKS[:n])
        .order_by("author__name", "author_id")  # Author's order
        .values_list("book_id", "author_id", "author__name")
    )


def book_list_data(rows, *, request) -> list[dict[str, Any]]:
    """A page of `book_list_rows` as `BookListSerializer(many=True)` gives it: one statement for the
    authors, compiled once per number of books."""
    rows = list(rows)
    authors: dict[int, list[dict]] = {row[0]: [] for row in rows}
    n = len(authors)
    if 0 < n <= len(_PAGE_BOOKS):
        statement = compiled(
            f"catalog.list-authors:{n}", lambda: _authors_of_queryset(n), placeholders=_PAGE_BOOKS[:n], prepare=True
        )
        links = statement.rows(dict(zip(_PAGE_BOOKS, authors, strict=False)))
    elif n:
        links = list(_authors_of_queryset(0).filter(book_id__in=list(authors)))  # never on a page (at most 100)
    else:
        links = []
    for book_id, author_id, name in links:
        authors[book_id].append({"id": author_id, "name": name})
    tz, currency = timezone.get_current_timezone(), settings.STORE_CURRENCY  # once a page, not twice a book
    return [_book(row, authors[row[0]], request, description=False, tz=tz, currency=currency) for row in rows]


# The public list outside a search, without a filterset
# ------------------------------------------------------
# Profiled (`bench/cpu.py`, 100,000 books), an uncached list spent most of its CPU building the
# filterset (its form, deep copies of its fields), looking up the category subtree, and compiling
# the page's statement with the ORM. `book_list_plan` reads the parameters a shopper's list takes
# when each is in the plain form the filterset would take as it is (canonical digits, a slug, a
# choice); anything else (an empty or repeated value, a search, facets, `is_active`, a value the
# filterset might refuse) is left to the filterset, whose answer (and error) it then is. The page's
# statement is compiled once per *shape* (which filters, how many categories, which ordering:
# the WHERE and ORDER BY), built by the filterset's own filters, and run with the values bound
# (`bookstore.compiled`): its SQL is the ORM's (`catalog/tests/test_reads.py` compares them).

_NUMBER = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,12})?")
_POSITIVE_ID = re.compile(r"[1-9][0-9]{0,18}")
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
_LANGUAGES = frozenset(Book.Language.values)
_FORMATS = frozenset(Book.Format.values)
_ORDERINGS = ("price", "title", "created_at", "published_date", "average_rating", "popularity")
_ORDERING_ITEMS = frozenset((*_ORDERINGS, *(f"-{name}" for name in _ORDERINGS)))
MAX_ORDERINGS = 3
# BookFilter's filters the plan takes (in the filterset's order, which is the WHERE's), and the
# ones it leaves to the filterset.
_PLANNED = ("category", "author", "min_price", "max_price", "in_stock", "language", "format", "min_rating", "ordering")
_FILTERSET_ONLY = frozenset({"search", "facets", "is_active"})
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}  # StrictBooleanField

# Placeholders of the page statement's values.
_AUTHOR = -7_340_023_001
_MIN_PRICE = Decimal("-7340023002.5")
_MAX_PRICE = Decimal("-7340023003.5")
_MIN_RATING = Decimal("-7340023004.25")  # bound as a float (the average is one): exact in binary
_LANGUAGE = "\x00catalog.list.language"
_FORMAT = "\x00catalog.list.format"
_CATEGORIES = tuple(-7_340_024_000 - i for i in range(10_000))  # a subtree's ids
# The filters whose value the statement binds (the others shape it: category by its number of ids,
# in_stock by its value, ordering by its items), with their placeholders.
_BOUND: dict[str, Any] = {
    "author": _AUTHOR, "min_price": _MIN_PRICE, "max_price": _MAX_PRICE, "language": _LANGUAGE, "format": _FORMAT,
    "min_rating": _MIN_RATING,
}  # fmt: skip


class ListPlan(NamedTuple):
    """A public list's page statement: its shape (the statement's name) and the values it binds."""

    shape: tuple
    values: dict


def book_list_plan(request) -> ListPlan | None:
    """The plan of a public (not staff) list's page, or None when the filterset must read its
    parameters (see above)."""
    values: dict[Any, Any] = {}
    given: dict[str, Any] = {}
    for name, raw_values in request.query_params.lists():
        if name in _FILTERSET_ONLY:
            return None
        if name not in _PLANNED:
            continue  # the page, its size, or a parameter no filter reads
        if len(raw_values) != 1 or not raw_values[0]:
            return None
        given[name] = raw_values[0]
    categories = 0
    if (raw := given.get("category")) is not None:
        if not _SLUG.fullmatch(raw):
            return None
        ids = sorted(category_subtree_ids(int(raw) if raw.isdigit() else raw, request))
        if not ids or len(ids) > len(_CATEGORIES):
            return None  # no such category: the filterset's empty answer
        categories = len(ids)
        values.update(zip(_CATEGORIES, ids, strict=False))
    if (raw := given.get("author")) is not None:
        if not _POSITIVE_ID.fullmatch(raw) or int(raw) > MAX_ID:
            return None
        values[_AUTHOR] = int(raw)
    for name in ("min_price", "max_price", "min_rating"):
        if (raw := given.get(name)) is not None:
            if not _NUMBER.fullmatch(raw):
                return None
            number = Decimal(raw)
            if name == "min_rating" and not 1 <= number <= 5:
                return None
            values[_BOUND[name]] = number
    in_stock = None
    if (raw := given.get("in_stock")) is not None:
        in_stock = _BOOLEANS.get(raw.strip().lower())
        if in_stock is None:
            return None
    for name, choices in (("language", _LANGUAGES), ("format", _FORMATS)):
        if (raw := given.get(name)) is not None:
            if raw not in choices:
                return None
            values[_BOUND[name]] = raw
    ordering: tuple[str, ...] = ()
    if (raw := given.get("ordering")) is not None:
        ordering = tuple(raw.split(","))
        if (
            len(ordering) > MAX_ORDERINGS
            or len(set(ordering)) != len(ordering)
            or not _ORDERING_ITEMS.issuperset(ordering)
        ):
            return None
    present = tuple(name for name in _BOUND if name in given)
    return ListPlan((categories, present, in_stock, ordering), values)


def _plan_books(shape: tuple):
    """The page's queryset for `shape`, with placeholders: the view's public queryset through
    BookFilter's own filters, in its order (`BookFilter.filter_queryset`)."""
    categories, present, in_stock, ordering = shape
    filters = BookFilter.base_filters
    books: Any = Book.objects.with_listing_data().defer("description").available()  # the view's, for a shopper
    for name in _PLANNED[:-1]:  # the filterset's order
        if name == "category" and categories:
            books = books.filter(category_id__in=_CATEGORIES[:categories])  # BookFilter.filter_category
        elif name == "in_stock" and in_stock is not None:
            books = books.filter(in_stock=in_stock)  # BookFilter.filter_in_stock
        elif name in present:
            books = filters[name].filter(books, _BOUND[name])
    if ordering:
        books = filters["ordering"].filter(books, list(ordering))
    return books


def _plan_queryset(shape: tuple):
    return book_list_rows(_plan_books(shape))


def _plan_ids_queryset(shape: tuple):
    """The ids of `_plan_books`, without its joins: what a page binding values selects first."""
    return _plan_books(shape).select_related(None).prefetch_related(None).values_list("id")


def _books_by_id_queryset(n: int):
    books = Book.objects.with_listing_data().defer("description").available().filter(pk__in=_PAGE_BOOKS[:n])
    return book_list_rows(books.order_by())


def _plan_placeholders(shape: tuple) -> tuple:
    categories, present, _, _ = shape
    return (*_CATEGORIES[:categories], *(_BOUND[name] for name in present))


def plan_statement(plan: ListPlan):
    """The page's statement of `plan`'s shape, compiled on this thread's connection the first time."""
    shape = plan.shape
    return compiled(
        f"catalog.list:{shape!r}",
        lambda: _plan_queryset(shape),
        placeholders=_plan_placeholders(shape),
        prepare_pages=True,  # a shape binding no value (no filter but in_stock and ordering): its first pages
    )


def plan_ids_statement(plan: ListPlan):
    """The statement of the ids of a page of `plan`'s shape (see `book_list_page`)."""
    shape = plan.shape
    return compiled(
        f"catalog.list-ids:{shape!r}", lambda: _plan_ids_queryset(shape), placeholders=_plan_placeholders(shape)
    )


def book_list_page(plan: ListPlan, limit: int, offset: int) -> list:
    """Rows of `LIST_COLUMNS`, `limit` of them from `offset` on, of the list `plan` selects.

    A list that binds no value (unfiltered, by `in_stock`, ordered) is one statement, its first pages
    prepared (`bookstore.compiled`). A list that binds values (a category, a price range) has a plan
    that depends on them, so PostgreSQL plans it on every run: it selects its page's ids first, on
    the book table alone, then reads those books (their category, stock and ratings) with a
    prepared statement. Measured on the bench data (category and price, one connection, 1,000 runs,
    the backend's CPU from /proc; commit 980acb3): PostgreSQL's CPU for the page went from 3.4 ms
    (one statement, the joins and the ratings' subplans planned on every run and joined for each of
    the category's 193 books before the sort) to 1.35 ms (0.72 for the ids, 0.63 for the books).
    Both statements' plans: `bench/results/2026-12-04-search-100k.md`.
    """
    if not plan.values:
        return plan_statement(plan).rows({}, limit=limit, offset=offset)
    ids = [book_id for (book_id,) in plan_ids_statement(plan).rows(plan.values, limit=limit, offset=offset)]
    n = len(ids)
    if not 0 < n <= len(_PAGE_BOOKS):  # no page holds more (at most 100)
        return plan_statement(plan).rows(plan.values, limit=limit, offset=offset) if n else []
    statement = compiled(
        f"catalog.list-books:{n}", lambda: _books_by_id_queryset(n), placeholders=_PAGE_BOOKS[:n], prepare=True
    )
    found = {row[0]: row for row in statement.rows(dict(zip(_PAGE_BOOKS[:n], ids, strict=True)))}
    return [
        found[book_id] for book_id in ids if book_id in found
    ]  # the page's order (a book withdrawn since: left out)
