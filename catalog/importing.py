"""Bulk import of books from CSV rows: validation with the API's rules, then batched writes."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.db import connections, transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.text import slugify
from rest_framework import serializers

from catalog.caching import catalog_changed
from catalog.models import Author, Book, Category, StockMovement
from catalog.search_index import book_search_values, book_search_vector_refresh, search_words_add
from catalog.serializers import ISBNField
from catalog.stock import stock_record_opening, stock_set_many

COLUMNS = [
    "isbn",
    "title",
    "subtitle",
    "authors",
    "category",
    "publisher",
    "published_date",
    "language",
    "page_count",
    "format",
    "price",
    "stock",
    "description",
]
REQUIRED_COLUMNS = {"isbn", "title", "price"}
AUTHOR_SEPARATOR = ";"
CATEGORY_SEPARATOR = "/"

# Fields copied onto the Book as they are (authors, category and stock are handled apart).
_PLAIN_FIELDS = [
    "title",
    "subtitle",
    "publisher",
    "published_date",
    "language",
    "page_count",
    "format",
    "price",
    "description",
]


def _update_rows(books: list[Book], field_names: list[str]) -> None:
    """One parametrised UPDATE per book, sent with executemany.

    Much faster than `bulk_update` for thousands of rows (its CASE WHEN expressions cost
    Django seconds per batch to build); values go through each field's own database preparation.
    """
    connection = connections[Book.objects.db]
    quote = connection.ops.quote_name
    fields = [cast("Field[Any, Any]", Book._meta.get_field(name)) for name in field_names]  # columns, no relations
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)  # type: ignore[arg-type]  # concrete: a column
    sql = f"UPDATE {quote(Book._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"  # noqa: S608 (names only)
    params = [[f.get_db_prep_save(getattr(book, f.attname), connection) for f in fields] + [book.pk] for book in books]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


class BookImportRowSerializer(serializers.Serializer):
    """One CSV row, checked with the same rules as the API's `BookWriteSerializer` (but no queries)."""

    isbn = ISBNField()
    title = serializers.CharField(max_length=300)
    subtitle = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    authors = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=600, required=False, allow_blank=True, default="")
    publisher = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    published_date = serializers.DateField(required=False, allow_null=True, default=None)
    language = serializers.ChoiceField(choices=Book.Language.choices, required=False, default=Book.Language.ENGLISH)
    page_count = serializers.IntegerField(min_value=1, max_value=100_000, required=False, allow_null=True, default=None)
    format = serializers.ChoiceField(choices=Book.Format.choices, required=False, default=Book.Format.PAPERBACK)
    price = serializers.DecimalField(
        max_digits=7, decimal_places=2, min_value=Decimal("0.01"), max_value=Book.MAX_PRICE
    )
    stock = serializers.IntegerField(
        min_value=0, max_value=Book.MAX_STOCK, required=False, allow_null=True, default=None
    )
    description = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_authors(self, value: str) -> list[str]:
        names = [name.strip() for name in value.split(AUTHOR_SEPARATOR) if name.strip()]
        if any(len(name) > 200 for name in names):
            raise serializers.ValidationError("An author name has at most 200 characters.")
        return list(dict.fromkeys(names))

    def validate_category(self, value: str) -> list[str]:
        parts = [part.strip() for part in value.split(CATEGORY_SEPARATOR) if part.strip()]
        if any(len(part) > 120 for part in parts):
            raise serializers.ValidationError("A category name has at most 120 characters.")
        return parts


def clean_row(row: dict[str, str], validator: BookImportRowSerializer) -> dict:
    """Validated data of one row; raises `serializers.ValidationError` with per-field messages.

    Empty cells count as absent, so optional columns take their defaults.
    """
    data = {key: value.strip() for key, value in row.items() if key in COLUMNS and value is not None and value.strip()}
    for key in ("authors", "category"):
        if key in row and row[key] is not None:
            data.setdefault(key, "")
    return validator.run_validation(data)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    stock_changes: int = 0


class BookImporter:
    """Writes validated rows in batches: creates or updates books by ISBN, authors and categories as needed.

    Keeps small caches (author name → id, category path → id) across batches so that each
    batch runs a constant number of queries whatever its size.
    """

    def __init__(self, *, has_authors: bool, has_category: bool, actor=None):
        self.has_authors = has_authors
        self.has_category = has_category
        self.actor = actor
        self.author_ids: dict[str, int] = {}
        self.category_ids: dict[tuple[int | None, str], int] = {
            (parent_id, name): pk for pk, parent_id, name in Category.objects.values_list("pk", "parent_id", "name")
        }
        self.category_slugs: set[str] = set(Category.objects.values_list("slug", flat=True))

    def _author_ids_for(self, names: set[str]) -> None:
        missing = names - self.author_ids.keys()
        if not missing:
            return
        for pk, name in Author.objects.filter(name__in=missing).order_by("-pk").values_list("pk", "name"):
            self.author_ids[name] = pk  # the oldest author of that name wins
        to_create = [Author(name=name) for name in sorted(missing - self.author_ids.keys())]
        for author in Author.objects.bulk_create(to_create):
            self.author_ids[author.name] = author.pk

    def _category_id_for(self, path: list[str]) -> int | None:
        parent_id = None
        for depth, name in enumerate(path):
            key = (parent_id, name)
            if key not in self.category_ids:
                base = slugify("-".join(path[: depth + 1]))[:130] or "category"
                slug, n = base, 1
                while slug in self.category_slugs:
                    n += 1
                    slug = f"{base}-{n}"
                self.category_slugs.add(slug)
                self.category_ids[key] = Category.objects.create(name=name, slug=slug, parent_id=parent_id).pk
            parent_id = self.category_ids[key]
        return parent_id

    @transaction.atomic
    def write_batch(self, rows: list[dict]) -> ImportResult:
        """Creates or updates the books of `rows` (distinct ISBNs) in one transaction."""
        catalog_changed()
        result = ImportResult()
        existing = {
            book.isbn: book for book in Book.objects.filter(isbn__in=[r["isbn"] for r in rows]).defer("search_vector")
        }
        if self.has_authors:
            self._author_ids_for({name for row in rows for name in row["authors"]})

        to_create: list[Book] = []
        to_update: list[Book] = []
        for row in rows:
            book = existing.get(row["isbn"]) or Book(isbn=row["isbn"], stock=0)
            for name in _PLAIN_FIELDS:
                setattr(book, name, row[name])
            if not book.slug:
                book.slug = slugify(row["title"])[:320] or "book"
            if self.has_category:
                book.category_id = self._category_id_for(row["category"])
            if book.pk is None:
                book.stock = row["stock"] or 0  # the opening level, written to the ledger below
                if self.has_authors:  # search columns computed in the INSERT itself
                    for name, value in book_search_values(
                        title=book.title,
                        subtitle=book.subtitle,
                        author_names=row["authors"],
                        publisher=book.publisher,
                        description=book.description,
                    ).items():
                        setattr(book, name, value)
            (to_update if book.pk else to_create).append(book)

        Book.objects.bulk_create(to_create)
        opened = stock_record_opening(
            books=to_create, reason=StockMovement.Reason.IMPORT, actor=self.actor, note="CSV import"
        )
        now = timezone.now()
        for book in to_update:
            book.updated_at = now
        if to_update:
            fields = [*_PLAIN_FIELDS, "updated_at"] + (["category"] if self.has_category else [])
            _update_rows(to_update, fields)
        books = {book.isbn: book for book in (*to_create, *to_update)}

        if self.has_authors:
            through = Book.authors.through
            through.objects.filter(book_id__in=[b.pk for b in to_update]).delete()
            through.objects.bulk_create(
                [
                    through(book_id=books[row["isbn"]].pk, author_id=self.author_ids[name])
                    for row in rows
                    for name in row["authors"]
                ]
            )

        levels = {
            existing[row["isbn"]].pk: row["stock"]
            for row in rows
            if row["stock"] is not None and row["isbn"] in existing
        }
        result.stock_changes = opened
        if levels:
            result.stock_changes += stock_set_many(
                levels=levels, reason=StockMovement.Reason.IMPORT, actor=self.actor, note="CSV import"
            )
        # New books got their search columns in the INSERT when their authors were known.
        stale = to_update if self.has_authors else [*to_create, *to_update]
        book_search_vector_refresh(book_ids=[book.pk for book in stale])
        if self.has_authors:
            search_words_add(book_ids=[book.pk for book in to_create])
        result.created, result.updated = len(to_create), len(to_update)
        return result
