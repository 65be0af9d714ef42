"""Catalog writes that carry rules. Every change of a book's stock goes through `stock_apply`."""

from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from catalog.exceptions import InsufficientStockError, Shortage
from catalog.models import Book, StockMovement


@transaction.atomic(savepoint=False)
def stock_apply(
    *,
    changes: Mapping[int, int],
    reason: str,
    actor=None,
    order_reference: str = "",
    note: str = "",
) -> dict[int, Book]:
    """Adds `delta` to each book's stock and writes one `StockMovement` per book, all or nothing.

    The books' rows are locked FOR UPDATE in primary-key order, so concurrent callers
    (checkouts with crossed carts) queue instead of deadlocking, and each sees the stock the
    previous one left. Raises `InsufficientStockError` naming every book that would go
    below zero, before writing anything; the enclosing transaction is then to be rolled back.
    A constant number of queries whatever the number of books (lock, update, insert).
    """
    changes = {book_id: delta for book_id, delta in changes.items() if delta}
    if not changes:
        return {}
    books = list(Book.objects.select_for_update().filter(pk__in=changes).order_by("pk").only("id", "title", "stock"))
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
    for book in books:
        book.stock += changes[book.pk]
        book.updated_at = now
    Book.objects.bulk_update(books, ["stock", "updated_at"])
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


@transaction.atomic
def stock_set(
    *, book: Book, stock: int, actor=None, reason: str = StockMovement.Reason.ADJUSTMENT, note: str = ""
) -> Book:
    """Sets a book's stock to an absolute level (staff edits, imports), recording the difference."""
    current = Book.objects.select_for_update().only("stock").get(pk=book.pk).stock
    if stock != current:
        stock_apply(changes={book.pk: stock - current}, reason=reason, actor=actor, note=note)
    book.refresh_from_db(fields=["stock", "updated_at"])
    return book
