"""The stock ledger: every change of a book's stock goes through `stock_apply`, which writes one
`StockMovement` per book; popularity (copies sold lately) is computed from the same ledger."""

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import User
from catalog.caching import catalog_changed
from catalog.exceptions import InsufficientStockError, Shortage
from catalog.models import Book, StockMovement


@transaction.atomic(savepoint=False)
def stock_apply(
    *,
    changes: Mapping[int, int],
    reason: str,
    actor: User | None = None,
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


# Sales count, cancelled orders and refunded returns count back.
POPULARITY_REASONS = {StockMovement.Reason.SALE, StockMovement.Reason.CANCELLATION, StockMovement.Reason.RETURN}
POPULARITY_DAYS = 90


def books_popularity_refresh(*, now: datetime | None = None) -> int:
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
def stock_set_many(*, levels: Mapping[int, int], reason: str, actor: User | None = None, note: str = "") -> int:
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


def stock_record_opening(*, books: Iterable[Book], reason: str, actor: User | None = None, note: str = "") -> int:
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
    *, book: Book, stock: int, actor: User | None = None, reason: str = StockMovement.Reason.ADJUSTMENT, note: str = ""
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
