"""Catalog writes that carry rules. Every change of a book's stock goes through `stock_apply`."""

import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.contrib.postgres.search import SearchVectorField
from django.core.files.uploadedfile import UploadedFile
from django.db import connections, models, transaction
from django.db.models import Expression, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.text import slugify

from catalog.caching import catalog_changed
from catalog.exceptions import InsufficientStockError, ProtectedError, Shortage
from catalog.models import Author, Book, Category, Review, StockMovement


@transaction.atomic(savepoint=False)
def stock_apply(
    *,
    changes: Mapping[int, int],
    reason: str,
    actor=None,
    order_reference: str = "",
    note: str = "",
    locked_books: Iterable[Book] | None = None,
) -> dict[int, Book]:
    """Adds `delta` to each book's stock and writes one `StockMovement` per book, all or nothing.

    The books' rows are locked FOR UPDATE in primary-key order, so concurrent callers
    (checkouts with crossed carts) queue instead of deadlocking, and each sees the stock the
    previous one left. Raises `InsufficientStockError` naming every book that would go
    below zero, before writing anything; the enclosing transaction is then to be rolled back.
    A constant number of queries whatever the number of books (lock, update, insert).
    `locked_books`: the caller already read these books FOR UPDATE, in primary-key order, in
    this transaction (checkout locks them with the cart's lines); their lock is not taken again.
    """
    changes = {book_id: delta for book_id, delta in changes.items() if delta}
    if not changes:
        return {}
    if locked_books is not None:
        books = sorted((book for book in locked_books if book.pk in changes), key=lambda book: book.pk)
    else:
        books = list(
            Book.objects.select_for_update().filter(pk__in=changes).order_by("pk").only("id", "title", "stock")
        )
    if len(books) != len(changes):
        missing = sorted(set(changes) - {book.pk for book in books})
        raise Book.DoesNotExist(f"No book with id {missing}")

    shortages = [
        Shortage(book_id=book.pk, title=book.title, requested=-changes[book.pk], available=book.stock)
        for book in books
        if book.stock + changes[book.pk] < 0
    ]
    if shortages:
        raise InsufficientStockError(shortages)

    now = timezone.now()
    fields = ["stock", "updated_at"]
    for book in books:
        book.stock += changes[book.pk]
        book.updated_at = now
    if reason in POPULARITY_REASONS:  # copies sold count towards popularity at once
        fields.append("popularity")
        for book in books:
            book.popularity = Greatest(F("popularity") - changes[book.pk], Value(0))
    Book.objects.bulk_update(books, fields)
    if reason in POPULARITY_REASONS:
        for book in books:
            del book.popularity  # an expression, not a value: deferred again
    catalog_changed()
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                book=book,
                delta=changes[book.pk],
                stock_after=book.stock,
                reason=reason,
                actor=actor,
                order_reference=order_reference,
                note=note,
            )
            for book in books
        ]
    )
    return {book.pk: book for book in books}


POPULARITY_REASONS = {StockMovement.Reason.SALE, StockMovement.Reason.CANCELLATION}
POPULARITY_DAYS = 90


def books_popularity_refresh(*, now=None) -> int:
    """Sets every book's `popularity` to its copies sold (sales less cancellations) in the last
    90 days, from the stock ledger, so that old sales age out. Two UPDATEs; returns the number
    of books whose figure was recomputed. Run it daily (`manage.py refresh_popularity`)."""
    since = (now or timezone.now()) - timedelta(days=POPULARITY_DAYS)
    recent = StockMovement.objects.filter(reason__in=POPULARITY_REASONS, created_at__gte=since)
    sold = recent.filter(book_id=OuterRef("pk")).order_by().values("book_id").annotate(n=-Sum("delta")).values("n")
    with transaction.atomic():
        catalog_changed()
        stale = Book.objects.filter(popularity__gt=0).exclude(pk__in=recent.values("book_id")).update(popularity=0)
        fresh = Book.objects.filter(pk__in=recent.values("book_id")).update(
            popularity=Greatest(Coalesce(Subquery(sold), Value(0)), Value(0))
        )
    return stale + fresh


@transaction.atomic(savepoint=False)
def stock_set_many(*, levels: Mapping[int, int], reason: str, actor=None, note: str = "") -> int:
    """Sets many books' stock to absolute levels (imports), one ledger row per book that changes.

    Locks the rows in primary-key order like `stock_apply`; a constant number of queries.
    Returns how many books changed.
    """
    books = list(
        Book.objects.select_for_update().filter(pk__in=list(levels)).order_by("pk").only("id", "title", "stock")
    )
    changes = {book.pk: levels[book.pk] - book.stock for book in books if levels[book.pk] != book.stock}
    if changes:
        stock_apply(changes=changes, reason=reason, actor=actor, note=note, locked_books=books)
    return len(changes)


def stock_record_opening(*, books: Iterable[Book], reason: str, actor=None, note: str = "") -> int:
    """Writes the ledger rows of books just created with a stock level (bulk imports, demo seed).

    To be called in the transaction that created the books, so the ledger always sums to the stock.
    """
    movements = [
        StockMovement(book_id=book.pk, delta=book.stock, stock_after=book.stock, reason=reason, actor=actor, note=note)
        for book in books
        if book.stock
    ]
    StockMovement.objects.bulk_create(movements, batch_size=2000)
    return len(movements)


@transaction.atomic
def stock_set(
    *, book: Book, stock: int, actor=None, reason: str = StockMovement.Reason.ADJUSTMENT, note: str = ""
) -> Book:
    """Sets a book's stock to an absolute level (staff edits, imports), recording the difference."""
    locked = Book.objects.select_for_update().only("id", "title", "stock").get(pk=book.pk)
    if stock != locked.stock:
        stock_apply(
            changes={book.pk: stock - locked.stock}, reason=reason, actor=actor, note=note, locked_books=[locked]
        )
        book.updated_at = locked.updated_at  # set by stock_apply
    book.stock = locked.stock
    return book


# The search vector of a book (see catalog.search): accent-free words weighted by field.
_SEARCH_VECTOR_SQL = """
    setweight(to_tsvector('simple', catalog_search_words({title})), 'A')
    || setweight(to_tsvector('simple', catalog_search_words({names})), 'B')
    || setweight(to_tsvector('simple', catalog_search_words({subtitle} || ' ' || {publisher})), 'C')
    || setweight(to_tsvector('simple', catalog_search_words({description})), 'D')
"""
# New words of the given vectors join the dictionary of typo candidates.
_ADD_WORDS_SQL = """
    INSERT INTO catalog_searchword (word)
    SELECT DISTINCT w.lexeme FROM {source}, unnest(v.search_vector) AS w
    WHERE length(w.lexeme) <= 100 AND w.lexeme !~ '^[0-9]+$'
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
        {_ADD_WORDS_SQL.format(source="v")}
    """  # noqa: S608 (only fixed fragments are interpolated; values are parameters)
    params: dict[str, Any] = {}
    if book_ids is not None:
        ids = list(book_ids)
        if not ids:
            return
        params["ids"] = ids
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)


def search_words_add(*, book_ids: Iterable[int], using: str = "default") -> None:
    """Adds the words of these books' search vectors to the typo dictionary (after a bulk insert
    that wrote the vectors itself); one statement, a no-op outside PostgreSQL."""
    ids = list(book_ids)
    if not ids or connections[using].vendor != "postgresql":
        return
    sql = _ADD_WORDS_SQL.format(source="catalog_book AS v") + " "
    sql = sql.replace("WHERE length", "WHERE v.id = ANY(%s) AND length")
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [ids])


class _BookSearchVectorSQL(Expression):
    """The search vector of literal texts, as one leaf SQL expression.

    One node instead of a tree of `SearchVector`s keeps Django's per-row cost low in bulk inserts.
    """

    output_field = SearchVectorField()

    def __init__(self, **texts: str):
        super().__init__()
        self.texts = texts

    def as_sql(self, compiler, connection):
        names = ("title", "names", "subtitle", "publisher", "description")
        sql = _SEARCH_VECTOR_SQL.format(**{name: "%s::text" for name in names})
        return sql, [self.texts[name] for name in names]


def book_search_values(
    *,
    title: str,
    subtitle: str,
    author_names: Iterable[str],
    publisher: str = "",
    description: str = "",
    using: str = "default",
) -> dict:
    """The search vector of a book about to be inserted (bulk imports), so no UPDATE is needed
    after; the same value `book_search_vector_refresh` computes; empty outside PostgreSQL.
    Its words still have to join the dictionary: `search_words_add` once the rows exist."""
    if connections[using].vendor != "postgresql":
        return {}
    return {
        "search_vector": _BookSearchVectorSQL(
            title=title or "",
            names=" ".join(sorted(author_names)),
            subtitle=subtitle or "",
            publisher=publisher or "",
            description=description or "",
        )
    }


def author_books_search_refresh(*, author_ids: Iterable[int]) -> None:
    """After an author's name changed: refresh the search vectors of their books."""
    book_ids = Book.authors.through.objects.filter(author_id__in=list(author_ids)).values_list("book_id", flat=True)
    book_search_vector_refresh(book_ids=set(book_ids))


def unique_book_slug(title: str) -> str:
    return slugify(title)[:320] or "book"


@transaction.atomic
def book_create(*, actor=None, authors: Iterable[Author] = (), stock: int = 0, **fields: Any) -> Book:
    """Creates a book with its authors; its opening stock is written to the ledger (reason `initial`)."""
    if not fields.get("slug"):
        fields["slug"] = unique_book_slug(fields.get("title", ""))
    book = Book.objects.create(stock=0, **fields)
    book.authors.set(list(authors))
    if stock:
        stock_apply(changes={book.pk: stock}, reason=StockMovement.Reason.INITIAL, actor=actor)
    book_search_vector_refresh(book_ids=[book.pk])
    book.refresh_from_db(fields=["stock", "updated_at"])
    return book


@transaction.atomic
def book_update(
    *, book: Book, actor=None, authors: Iterable[Author] | None = None, stock: int | None = None, **fields: Any
) -> Book:
    """Updates a book's fields and authors; a new stock level goes through the ledger (`adjustment`)."""
    if "title" in fields and "slug" not in fields and not book.slug:
        fields["slug"] = unique_book_slug(fields["title"])
    if "slug" in fields and not fields["slug"]:
        fields["slug"] = unique_book_slug(fields.get("title", book.title))
    for name, value in fields.items():
        setattr(book, name, value)
    if fields:
        book.save(update_fields=[*fields, "updated_at"])
    if authors is not None:
        book.authors.set(list(authors))
    if stock is not None:
        stock_set(book=book, stock=stock, actor=actor, reason=StockMovement.Reason.ADJUSTMENT)
    if authors is not None or {"title", "subtitle", "publisher", "description"} & set(fields):
        book_search_vector_refresh(book_ids=[book.pk])
    return book


def books_withdraw(*, books: QuerySet[Book]) -> int:
    """Soft delete: the books leave the public catalog (and carts); orders keep referring to them."""
    catalog_changed()
    return books.filter(is_active=True).update(is_active=False, updated_at=timezone.now())


def books_restore(*, books: QuerySet[Book]) -> int:
    """Puts withdrawn books back in the catalog."""
    catalog_changed()
    return books.filter(is_active=False).update(is_active=True, updated_at=timezone.now())


def book_withdraw(*, book: Book) -> Book:
    books_withdraw(books=Book.objects.filter(pk=book.pk))
    book.refresh_from_db(fields=["is_active", "updated_at"])
    return book


COVER_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def book_set_cover(*, book: Book, image: UploadedFile, image_format: str) -> Book:
    """Stores a (validated) cover through the default storage and drops the previous file."""
    old_name = book.cover.name if book.cover else ""
    name = f"{book.pk}-{uuid.uuid4().hex[:12]}.{COVER_EXTENSIONS[image_format]}"
    image.seek(0)
    book.cover.save(name, image, save=False)
    book.save(update_fields=["cover", "updated_at"])
    if old_name and old_name != book.cover.name:
        book.cover.storage.delete(old_name)
    return book


def category_delete(*, category: Category) -> None:
    """Deletes a category that has neither books (even withdrawn ones) nor sub-categories."""
    if category.books.exists():
        raise ProtectedError("This category still has books; move or delete them first.")
    if category.children.exists():
        raise ProtectedError("This category still has sub-categories; move or delete them first.")
    try:
        category.delete()
    except models.ProtectedError:  # a book or child was added meanwhile
        raise ProtectedError("This category is still in use.") from None


def author_delete(*, author: Author) -> None:
    """Deletes an author who has no books (even withdrawn ones)."""
    if author.books.exists():
        raise ProtectedError("This author still has books; remove them from the books first.")
    author.delete()


def review_create(*, book: Book, user, rating: int, title: str = "", body: str = "") -> Review:
    return Review.objects.create(book=book, user=user, rating=rating, title=title, body=body)


def reviews_remove(*, reviews: QuerySet[Review]) -> int:
    """Removes reviews (the admin's action against abusive ones); returns how many."""
    count, _ = reviews.delete()
    return count
