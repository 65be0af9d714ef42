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

import decimal
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from bookstore.compiled import PLACEHOLDERS, compiled
from bookstore.filters import MAX_ID
from catalog.models import Author, Book, BookQuerySet

_BOOK = PLACEHOLDERS[0]  # the book's id in the compiled statements (bookstore.compiled)

_BOOK_COLUMNS = (
    "id", "isbn", "title", "subtitle", "slug", "category_id", "category__name", "category__slug", "publisher",
    "published_date", "language", "page_count", "format", "description", "price", "stock_record__quantity",
    "in_stock", "cover", "average_rating", "review_count", "created_at", "updated_at",
)  # fmt: skip

_DESCRIPTION = _BOOK_COLUMNS.index("description")

_CENT = Decimal("0.01")
_RATING_CONTEXT = decimal.Context(prec=3)  # BookListSerializer.average_rating: max_digits=3, decimal_places=2
_PRICE_CONTEXT = decimal.Context(prec=7)  # Book.price: max_digits=7, decimal_places=2


def _book_queryset(*, withdrawn: bool):
    books = Book.objects.filter(pk=_BOOK)
    if not withdrawn:
        books = books.available()
    return books.with_ratings().order_by().values_list(*_BOOK_COLUMNS)


def _authors_queryset():
    return Author.objects.filter(books=_BOOK).values_list("id", "name")  # in Author's order: name, id


def _datetime(value) -> str:
    # DRF's DateTimeField: in the current time zone, ISO 8601, UTC as "Z".
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _money(value) -> str:
    # DRF's DecimalField (coerce_to_string): quantized to 2 places within 7 digits.
    if not isinstance(value, Decimal):
        value = Decimal(str(value).strip())
    return f"{value.quantize(_CENT, context=_PRICE_CONTEXT):f}"


def _rating(value) -> Decimal | None:
    # DRF's DecimalField (coerce_to_string=False): a Decimal, which the renderer writes as a number.
    if value is None:
        return None
    if not isinstance(value, Decimal):
        value = Decimal(str(value).strip())
    return value.quantize(_CENT, context=_RATING_CONTEXT)


def _cover_url(name: str, request) -> str | None:
    if not name:
        return None
    url = Book._meta.get_field("cover").storage.url(name)
    return request.build_absolute_uri(url) if request is not None else url


def _book(row, authors: list[dict], request, *, description: bool) -> dict[str, Any]:
    """A row of `_BOOK_COLUMNS` (without "description" unless `description`) as BookListSerializer /
    BookSerializer give it."""
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
    book["currency"] = settings.STORE_CURRENCY
    book["stock"] = 0 if stock is None else stock
    book["in_stock"] = bool(in_stock)
    book["cover_url"] = _cover_url(cover, request)
    book["average_rating"] = _rating(average_rating)
    book["review_count"] = review_count
    book["created_at"] = _datetime(created_at)
    book["updated_at"] = _datetime(updated_at)
    return book


def book_detail_data(pk: int, *, request, withdrawn: bool) -> dict[str, Any] | None:
    """The detail of book `pk` as `BookSerializer` gives it, or None when there is no such book
    (or it is withdrawn, unless `withdrawn`): two statements, the book's row and its authors."""
    if not 0 < pk <= MAX_ID:
        return None  # beyond a 64-bit id: no book (as the ORM's lookup says), not a database error
    name = "book-withdrawn" if withdrawn else "book"
    rows = compiled(f"catalog.{name}", lambda: _book_queryset(withdrawn=withdrawn)).rows({_BOOK: pk})
    if not rows:
        return None
    authors = compiled("catalog.authors", _authors_queryset).rows({_BOOK: rows[0][0]})
    authors_data = [{"id": author_id, "name": author_name} for author_id, author_name in authors]
    return _book(rows[0], authors_data, request, description=True)


LIST_COLUMNS = tuple(column for column in _BOOK_COLUMNS if column != "description")


def book_list_rows(books: BookQuerySet) -> BookQuerySet:
    """`books` (the list's filtered, ordered queryset) as rows of `LIST_COLUMNS`, for `book_list_data`:
    no model instances, no prefetch (the authors are read by `book_list_data`)."""
    return books.prefetch_related(None).values_list(*LIST_COLUMNS)  # type: ignore[return-value]


def book_list_data(rows, *, request) -> list[dict[str, Any]]:
    """A page of `book_list_rows` as `BookListSerializer(many=True)` gives it: one statement for the authors."""
    rows = list(rows)
    authors: dict[int, list[dict]] = {row[0]: [] for row in rows}
    if authors:
        links = (
            Book.authors.through.objects.filter(book_id__in=list(authors))
            .order_by("author__name", "author_id")  # Author's order
            .values_list("book_id", "author_id", "author__name")
        )
        for book_id, author_id, name in links:
            authors[book_id].append({"id": author_id, "name": name})
    return [_book(row, authors[row[0]], request, description=False) for row in rows]
