"""Bulk import of books from CSV rows: validation with the API's rules, then batched writes."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any, cast

from django.db import connections, models, transaction
from django.utils import timezone
from rest_framework import serializers

from catalog.caching import catalog_changed
from catalog.isbn import InvalidISBNError, normalize_isbn
from catalog.models import Author, Book, Category, StockMovement
from catalog.search_index import (
    book_postings_refresh,
    book_search_vector_refresh,
    search_vector_sql,
    search_words_insert_sql,
)
from catalog.serializers import ISBNField
from catalog.slugs import book_slug, category_slug, first_free
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
# Their PostgreSQL types, for the arrays and the staging table a batch is sent as.
_ARRAY_TYPES = {
    "id": "bigint",
    "title": "text",
    "subtitle": "text",
    "publisher": "text",
    "published_date": "date",
    "language": "text",
    "page_count": "int",
    "format": "text",
    "price": "numeric",
    "description": "text",
}
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

# New books of a batch are copied (COPY, text format) into this session's staging table, then
# inserted from it with their search vectors in one statement.
_STAGING_TABLE = "catalog_import_rows"
_STAGING_TYPES = {
    "isbn": "text",
    "slug": "text",
    "category_id": "bigint",
    "in_stock": "boolean",
    **{name: _ARRAY_TYPES[name] for name in _PLAIN_FIELDS},
    "names": "text",  # the authors' names, for the search vector
}
_STAGING_COLUMNS = list(_STAGING_TYPES)
_STAGING_SQL = f"""
    CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING_TABLE} (
        n bigint GENERATED ALWAYS AS IDENTITY,
        {", ".join(f"{name} {kind}" for name, kind in _STAGING_TYPES.items())}
    );
    TRUNCATE {_STAGING_TABLE}
"""
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))


def _copy_text(value: Any) -> str:
    """A value as a field of COPY's text format (NULL is \\N; backslash, tab, newline, CR escaped)."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    text = str(value)  # int, Decimal, date (ISO) or str
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        for raw, escaped in _COPY_ESCAPES:
            text = text.replace(raw, escaped)
    return text


class BookImportRowSerializer(serializers.Serializer):
    """One CSV row, checked with the same rules as the API's `BookWriteSerializer` (but no queries)."""

    _fast_check: "FastRowCheck"  # set by `FastRowCheck.of`, once per serializer

    isbn = ISBNField()
    title = serializers.CharField(max_length=300)
    subtitle = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    authors = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=600, required=False, allow_blank=True, default="")
    publisher = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    published_date = serializers.DateField(required=False, allow_null=True, default=None)
    language = serializers.ChoiceField(choices=Book.Language.choices, required=False, default=Book.Language.ENGLISH)
    page_count = serializers.IntegerField(
        min_value=1, max_value=Book.MAX_PAGE_COUNT, required=False, allow_null=True, default=None
    )
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

    Empty cells count as absent, so optional columns take their defaults. A row whose every
    cell has its plain well-formed shape is checked by `FastRowCheck` with the serializer's
    own limits (ten times faster, same result); any other row goes through the serializer,
    which gives the messages.
    """
    data = {key: value.strip() for key, value in row.items() if key in COLUMNS and value is not None and value.strip()}
    for key in ("authors", "category"):
        if key in row and row[key] is not None:
            data.setdefault(key, "")
    fast = FastRowCheck.of(validator).clean(data)
    return fast if fast is not None else validator.run_validation(data)


_INTEGER = re.compile(r"[0-9]{1,9}")
_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,2})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")  # DRF's CharField refuses NUL and surrogates


class FastRowCheck:
    """The rules of `BookImportRowSerializer` for well-formed rows, without DRF's per-field cost.

    `clean` returns exactly what the serializer's `run_validation` would for a row it accepts,
    or None when it cannot tell (a bad or unusual value: the serializer then decides and words
    the error). The limits (lengths, choices, ranges, defaults) are read from the serializer's
    fields, so the two cannot drift apart; `test_commands` checks both agree.
    """

    def __init__(self, validator: BookImportRowSerializer):
        # Typed as bare `Field`s; each is the class declared above, with its limits set there.
        fields = cast("Mapping[str, Any]", validator.fields)
        self.validator = validator
        self.text_limits = {
            name: field.max_length
            for name, field in fields.items()
            if type(field) is serializers.CharField and name not in ("authors", "category")
        }
        self.category_limit = fields["category"].max_length
        self.choices = {name: set(fields[name].choice_strings_to_values) for name in ("language", "format")}
        self.integers = {name: (fields[name].min_value, fields[name].max_value) for name in ("page_count", "stock")}
        price = fields["price"]
        self.price_range, self.price_places = (
            (price.min_value, price.max_value),
            Decimal(1).scaleb(-price.decimal_places),
        )
        self.defaults = {name: field.default for name, field in fields.items() if not field.required}

    @classmethod
    def of(cls, validator: BookImportRowSerializer) -> "FastRowCheck":
        check = getattr(validator, "_fast_check", None)
        if check is None:
            check = validator._fast_check = cls(validator)
        return check

    def clean(self, data: dict[str, str]) -> dict | None:
        if "title" not in data or "price" not in data or any(map(_BAD_CHARACTERS.search, data.values())):
            return None
        try:
            isbn = normalize_isbn(data["isbn"])
        except (KeyError, InvalidISBNError):
            return None
        result = {"isbn": isbn, **self.defaults}
        for name, limit in self.text_limits.items():
            if name in data:
                if limit is not None and len(data[name]) > limit:
                    return None
                result[name] = data[name]
        if "authors" in data or "category" in data:
            if len(data.get("category", "")) > self.category_limit:
                return None
            try:
                result["authors"] = self.validator.validate_authors(data.get("authors", ""))
                result["category"] = self.validator.validate_category(data.get("category", ""))
            except serializers.ValidationError:
                return None
        else:
            result["authors"], result["category"] = [], []
        for name, choices in self.choices.items():
            if name in data:
                if data[name] not in choices:
                    return None
                result[name] = data[name]
        for name, (low, high) in self.integers.items():
            if name in data:
                if not _INTEGER.fullmatch(data[name]) or not low <= int(data[name]) <= high:
                    return None
                result[name] = int(data[name])
        if "published_date" in data:
            if not _DATE.fullmatch(data["published_date"]):
                return None
            try:
                result["published_date"] = date.fromisoformat(data["published_date"])
            except ValueError:
                return None
        if not _DECIMAL.fullmatch(data["price"]):
            return None
        price = Decimal(data["price"]).quantize(self.price_places)
        if not self.price_range[0] <= price <= self.price_range[1]:
            return None
        result["price"] = price
        return result


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

    def __init__(self, *, has_authors: bool, has_category: bool, actor=None, defer_postings: bool = False):
        self.has_authors = has_authors
        self.has_category = has_category
        self.actor = actor
        # `defer_postings`: the new books' search postings are written by `finish`, once for the
        # whole import (one INSERT in the read index's order, or a rebuild when the import is most of
        # the catalog), instead of one INSERT per batch into an index that grows at random.
        self.defer_postings = defer_postings
        self.pending_postings: list[int] = []
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
                slug = first_free(category_slug("-".join(path[: depth + 1])), self.category_slugs)
                self.category_slugs.add(slug)
                self.category_ids[key] = Category.objects.create(name=name, slug=slug, parent_id=parent_id).pk
            parent_id = self.category_ids[key]
        return parent_id

    REBUILD_SHARE = 0.5  # new books at least this share of the active ones: the postings are rebuilt

    @transaction.atomic
    def finish(self) -> None:
        """The search postings of the books created since the importer was made (`defer_postings`).
        Until then those books are found by multi-word searches but not yet by one-word ones."""
        pending, self.pending_postings = self.pending_postings, []
        if not pending:
            return
        if len(pending) >= self.REBUILD_SHARE * Book.objects.filter(is_active=True).count():
            book_postings_refresh(book_ids=None)  # TRUNCATE, one INSERT, the indexes built in bulk
        else:
            book_postings_refresh(book_ids=pending)
        catalog_changed()

    @transaction.atomic
    def write_batch(self, rows: list[dict]) -> ImportResult:
        """Creates or updates the books of `rows` (distinct ISBNs) in one transaction.

        A constant number of statements whatever the batch size; on PostgreSQL new books go in by
        COPY (no model instance per row) and get their search vectors in the INSERT itself, which
        also adds their new words to the typo dictionary: when the batch commits, its books are
        found by search and by typo correction.
        """
        result = ImportResult()
        existing = dict(Book.objects.filter(isbn__in=[r["isbn"] for r in rows]).values_list("isbn", "pk"))
        catalog_changed(book_ids=existing.values())  # new books join the lists, updated ones change their detail
        if self.has_authors:
            self._author_ids_for({name for row in rows for name in row["authors"]})
        for row in rows:
            row["category_id"] = self._category_id_for(row["category"]) if self.has_category else None
        new = [row for row in rows if row["isbn"] not in existing]
        updated = [{**row, "id": existing[row["isbn"]]} for row in rows if row["isbn"] in existing]

        ids = self._insert(new)
        opening = {ids[row["isbn"]]: row["stock"] or 0 for row in new}
        result.stock_changes = stock_record_opening(
            levels=opening, reason=StockMovement.Reason.IMPORT, actor=self.actor, note="CSV import"
        )
        if updated:
            self._update(updated)
        ids.update(existing)

        if self.has_authors:
            through = Book.authors.through
            through.objects.filter(book_id__in=[row["id"] for row in updated]).delete()
            links = [(ids[row["isbn"]], self.author_ids[name]) for row in rows for name in row["authors"]]
            self._link_authors(links)

        levels = {row["id"]: row["stock"] for row in updated if row["stock"] is not None}
        if levels:
            result.stock_changes += stock_set_many(
                levels=levels, reason=StockMovement.Reason.IMPORT, actor=self.actor, note="CSV import"
            )
        # New books got their search columns in their INSERT (their postings are written here, after
        # their authors); updated ones are recomputed with their postings.
        if self.defer_postings:
            self.pending_postings += [ids[row["isbn"]] for row in new]
        else:
            book_postings_refresh(book_ids=[ids[row["isbn"]] for row in new])
        book_search_vector_refresh(book_ids=[row["id"] for row in updated])
        result.created, result.updated = len(new), len(updated)
        return result

    def _insert(self, rows: list[dict]) -> dict[str, int]:
        """Inserts new books, `in_stock` from the opening level (which `stock_record_opening` writes);
        returns their ids by ISBN."""
        if not rows:
            return {}
        now = timezone.now()
        for row in rows:
            row["slug"] = book_slug(row["title"])
        connection = connections[Book.objects.db]
        if connection.vendor != "postgresql":
            books = Book.objects.bulk_create(
                [
                    Book(  # type: ignore[misc]  # `stock` is a property with a setter, which Model.__init__ accepts; the plugin knows fields only
                        isbn=row["isbn"],
                        slug=row["slug"],
                        category_id=row["category_id"],
                        stock=row["stock"] or 0,
                        **{name: row[name] for name in _PLAIN_FIELDS},
                    )
                    for row in rows
                ]
            )
            return {book.isbn: book.pk for book in books}
        names = (lambda row: " ".join(sorted(row["authors"]))) if self.has_authors else (lambda row: "")
        values: dict[str, Callable[[dict], Any]] = {  # staging column: its value in a row
            "isbn": itemgetter("isbn"),
            "slug": itemgetter("slug"),
            "category_id": itemgetter("category_id"),
            "in_stock": lambda row: (row["stock"] or 0) > 0,  # the level goes to catalog_stock
            **{name: itemgetter(name) for name in _PLAIN_FIELDS},
            "names": names,
        }
        stored = [name for name in _STAGING_COLUMNS if name != "names"]
        vector = search_vector_sql(
            title="r.title",
            names="r.names",
            subtitle="r.subtitle",
            publisher="r.publisher",
            description="r.description",
        )
        insert = f"""
            WITH v AS (
                INSERT INTO catalog_book
                    ({", ".join(stored)}, cover, is_active, popularity, created_at, updated_at, search_vector)
                SELECT {", ".join(f"r.{name}" for name in stored)}, '', TRUE, 0, %s, %s, {vector}
                FROM {_STAGING_TABLE} AS r
                ORDER BY r.n
                RETURNING id, isbn, search_vector
            ), words AS (
                {search_words_insert_sql(source="v")}
            )
            SELECT isbn, id FROM v
        """  # noqa: S608 (only fixed names and fragments are interpolated; values are parameters)
        getters = [values[name] for name in _STAGING_COLUMNS]
        with connection.cursor() as cursor:
            cursor.execute(_STAGING_SQL)
            copy_sql = f"COPY {_STAGING_TABLE} ({', '.join(_STAGING_COLUMNS)}) FROM STDIN"
            with cursor.copy(copy_sql) as copy:
                copy.write("".join("\t".join(_copy_text(get(row)) for get in getters) + "\n" for row in rows))
            cursor.execute(insert, [now, now])
            return dict(cursor.fetchall())

    def _update(self, rows: list[dict]) -> None:
        """Rewrites the plain fields (and the category when the file has that column) of existing books."""
        connection = connections[Book.objects.db]
        names = [*_PLAIN_FIELDS] + (["category_id"] if self.has_category else [])
        now = timezone.now()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                types = {**_ARRAY_TYPES, "category_id": "bigint"}
                arrays = ", ".join(f"%s::{types[name]}[]" for name in ["id", *names])
                sql = (
                    f"UPDATE catalog_book AS b SET {', '.join(f'{name} = r.{name}' for name in names)}, "  # noqa: S608 (fixed names)
                    f"updated_at = %s FROM unnest({arrays}) AS r(id, {', '.join(names)}) WHERE b.id = r.id"
                )
                cursor.execute(sql, [now] + [[row[name] for row in rows] for name in ["id", *names]])
                return
            # Concrete columns of the book row only (the names are `_PLAIN_FIELDS` and `category_id`).
            fields = [cast("models.Field[Any, Any]", Book._meta.get_field(name)) for name in names]
            sql = (
                f"UPDATE catalog_book SET {', '.join(f'{f.column} = %s' for f in fields)}, updated_at = %s "  # noqa: S608 (fixed names)
                "WHERE id = %s"
            )
            updated_at = Book._meta.get_field("updated_at").get_db_prep_save(now, connection)
            cursor.executemany(
                sql,
                [
                    [f.get_db_prep_save(row[f.attname], connection) for f in fields] + [updated_at, row["id"]]
                    for row in rows
                ],
            )

    @staticmethod
    def _link_authors(links: list[tuple[int, int]]) -> None:
        if not links:
            return
        connection = connections[Book.objects.db]
        if connection.vendor != "postgresql":
            through = Book.authors.through
            through.objects.bulk_create([through(book_id=book_id, author_id=author_id) for book_id, author_id in links])
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO catalog_book_authors (book_id, author_id) "
                "SELECT * FROM unnest(%s::bigint[], %s::bigint[])",
                [[book_id for book_id, _ in links], [author_id for _, author_id in links]],
            )
