"""The stock ledger: every change of a book's stock goes through `stock_apply`, which updates the
book's narrow `Stock` row and writes one `StockMovement` per book; popularity (copies sold
lately) is computed from the same ledger by `books_popularity_refresh`."""

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.db import connections, transaction
from django.db.models import OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import User
from bookstore.compiled import execute_prepared, int_array
from bookstore.inserts import rows_insert
from catalog.caching import catalog_changed
from catalog.exceptions import InsufficientStockError, Shortage, StockChangedError
from catalog.models import Book, Stock, StockMovement
from catalog.search_index import book_postings_popularity_refresh


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

    The books' `Stock` rows are locked FOR UPDATE in book-id order, so concurrent callers
    (checkouts with crossed carts) queue instead of deadlocking, and each sees the stock the
    previous one left. Raises `InsufficientStockError` naming every book that would go
    below zero, before writing anything; the enclosing transaction is then to be rolled back.
    Three queries whatever the number of books (lock, update of the stock rows, insert of the
    ledger lines); the book rows are written only for the books whose stock crosses zero (their
    `in_stock` flips, one UPDATE), and only then are the cached catalog reads invalidated: a
    cached page shows stock figures merged in at read time (see `catalog.caching`).
    `locked_books`: the caller already read these books with their `Stock` rows
    (`stock_record`) FOR UPDATE, in book-id order, in this transaction (checkout locks them
    with the cart's lines); their locks are not taken again.
    """
    changes = {book_id: delta for book_id, delta in changes.items() if delta}
    if not changes:
        return {}
    if locked_books is not None:
        books = sorted((book for book in locked_books if book.pk in changes), key=lambda book: book.pk)
        records = [book.stock_record for book in books]
    else:
        records = _stock_lock(changes)
        books = [record.book for record in records]
    if len(books) != len(changes):
        missing = sorted(set(changes) - {book.pk for book in books})
        raise Book.DoesNotExist(f"No book with id {missing}")

    shortages = [
        Shortage(book_id=book.pk, title=book.title, requested=-changes[book.pk], available=record.quantity)
        for book, record in zip(books, records, strict=True)
        if record.quantity + changes[book.pk] < 0
    ]
    if shortages:
        raise InsufficientStockError(shortages)

    flips: dict[bool, list[int]] = {True: [], False: []}
    for book, record in zip(books, records, strict=True):
        record.quantity += changes[book.pk]
        book.stock = record.quantity
        if book.in_stock != (record.quantity > 0):
            book.in_stock = record.quantity > 0
            flips[book.in_stock].append(book.pk)
    _stock_write(records)
    for in_stock, book_ids in flips.items():
        if book_ids:
            Book.objects.filter(pk__in=book_ids).update(in_stock=in_stock, updated_at=timezone.now())
    if flips[True] or flips[False]:
        # The `in_stock` filter's lists, and the flipped books' `updated_at`, change only at zero.
        catalog_changed(book_ids=flips[True] + flips[False])
    rows_insert(  # the ORM's INSERT, compiled once per number of rows (bookstore.inserts)
        [
            StockMovement(
                book=book,
                delta=changes[book.pk],
                stock_after=record.quantity,
                reason=reason,
                actor=actor,
                order_reference=order_reference,
                note=note,
            )
            for book, record in zip(books, records, strict=True)
        ]
    )
    return {book.pk: book for book in books}


def _stock_write(records: list[Stock]) -> None:
    """Writes the records' quantities, one UPDATE (on PostgreSQL from two arrays, without the ORM's
    CASE per row: `bulk_update`'s expressions were a large Python cost of a checkout)."""
    connection = connections[Stock.objects.db]
    if connection.vendor != "postgresql":
        Stock.objects.bulk_update(records, ["quantity"])
        return
    with connection.cursor() as cursor:
        execute_prepared(
            cursor,
            f"UPDATE {Stock._meta.db_table} AS s SET quantity = v.quantity"  # noqa: S608
            " FROM unnest(%s::bigint[], %s::integer[]) AS v(book_id, quantity) WHERE s.book_id = v.book_id",
            [int_array(record.pk for record in records), int_array(record.quantity for record in records)],
        )


def _stock_lock(book_ids: Iterable[int]) -> list[Stock]:
    """The books' `Stock` rows (with `book.title`, `book.in_stock`) locked FOR UPDATE in book-id order;
    the book rows are not locked. A book without a row (made by a bulk insert that wrote none) gets one."""
    book_ids = list(book_ids)
    query = (
        Stock.objects.select_for_update(of=("self",))
        .select_related("book")
        .only("quantity", "book__id", "book__title", "book__in_stock")
        .filter(book_id__in=book_ids)
        .order_by("book_id")
    )
    records = list(query)
    if len(records) < len(book_ids):
        without = Book.objects.filter(pk__in=book_ids).exclude(stock_record__isnull=False).values_list("pk", flat=True)
        Stock.objects.bulk_create([Stock(book_id=pk, quantity=0) for pk in without], ignore_conflicts=True)
        records = list(query.all())
    return records


# Sales count, cancelled orders and refunded returns count back. A sale does not touch the book
# row (its popularity index among the sixteen would make every sale a non-HOT update of the
# widest row): the figure follows the ledger at the next `books_popularity_refresh`.
POPULARITY_REASONS = {StockMovement.Reason.SALE, StockMovement.Reason.CANCELLATION, StockMovement.Reason.RETURN}
POPULARITY_DAYS = 90


def books_popularity_refresh(*, now: datetime | None = None) -> int:
    """Sets every book's `popularity` to its copies sold (sales less cancellations) in the last
        90 days, from the stock ledger, so that old sales age out. Two UPDATEs (and one of the search
        postings of the books whose figure changed); returns the number
        of books whose figure was recomputed. Sales count in at the next run: run it hourly
    (`manage.py refresh_popularity`)."""
    since = (now or timezone.now()) - timedelta(days=POPULARITY_DAYS)
    recent = StockMovement.objects.filter(reason__in=POPULARITY_REASONS, created_at__gte=since)
    sold = recent.filter(book_id=OuterRef("pk")).order_by().values("book_id").annotate(n=-Sum("delta")).values("n")
    with transaction.atomic():
        catalog_changed()
        changing = list(
            Book.objects.filter(Q(popularity__gt=0) | Q(pk__in=recent.values("book_id"))).values_list("pk", flat=True)
        )
        stale = Book.objects.filter(popularity__gt=0).exclude(pk__in=recent.values("book_id")).update(popularity=0)
        fresh = Book.objects.filter(pk__in=recent.values("book_id")).update(
            popularity=Greatest(Coalesce(Subquery(sold), Value(0)), Value(0))
        )
        book_postings_popularity_refresh(book_ids=changing)
    return stale + fresh


@transaction.atomic(savepoint=False)
def stock_set_many(*, levels: Mapping[int, int], reason: str, actor: User | None = None, note: str = "") -> int:
    """Sets many books' stock to absolute levels (imports), one ledger row per book that changes.

    Locks the stock rows in book-id order like `stock_apply`; a constant number of queries.
    Returns how many books changed.
    """
    records = _stock_lock(levels)
    changes = {r.book_id: levels[r.book_id] - r.quantity for r in records if levels[r.book_id] != r.quantity}
    if changes:
        books = [record.book for record in records if record.book_id in changes]
        stock_apply(changes=changes, reason=reason, actor=actor, note=note, locked_books=books)
    return len(changes)


def stock_record_opening(*, levels: Mapping[int, int], reason: str, actor: User | None = None, note: str = "") -> int:
    """Writes the `Stock` rows and ledger lines of books just bulk-created (imports, demo seed):
    `levels` maps each new book's id to the stock it was created with. Every book gets its stock
    row; zero levels write no ledger line. (`Book.save` writes a single new book's row itself.)

    To be called in the transaction that created the books, so the ledger always sums to the stock.
    Two statements on PostgreSQL whatever the number of books (no model instances); returns the
    number of ledger lines written.
    """
    if not levels:
        return 0
    opened = {book_id: stock for book_id, stock in levels.items() if stock}
    connection = connections[StockMovement.objects.db]
    if connection.vendor != "postgresql":
        Stock.objects.bulk_create(
            [Stock(book_id=book_id, quantity=stock) for book_id, stock in levels.items()], batch_size=2000
        )
        StockMovement.objects.bulk_create(
            [
                StockMovement(book_id=book_id, delta=stock, stock_after=stock, reason=reason, actor=actor, note=note)
                for book_id, stock in opened.items()
            ],
            batch_size=2000,
        )
        return len(opened)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_stock (book_id, quantity) SELECT * FROM unnest(%s::bigint[], %s::int[])",
            [list(levels), list(levels.values())],
        )
        if opened:
            cursor.execute(
                """
                INSERT INTO catalog_stockmovement
                    (book_id, delta, stock_after, reason, actor_id, order_reference, note, created_at)
                SELECT l.book_id, l.stock, l.stock, %s, %s, '', %s, %s
                FROM unnest(%s::bigint[], %s::int[]) AS l(book_id, stock)
                ORDER BY l.book_id
                """,
                [reason, getattr(actor, "pk", None), note, timezone.now(), list(opened), list(opened.values())],
            )
    return len(opened)


@transaction.atomic
def stock_set(
    *,
    book: Book,
    stock: int,
    actor: User | None = None,
    reason: str = StockMovement.Reason.ADJUSTMENT,
    note: str = "",
    expected_stock: int | None = None,
) -> Book:
    """Sets a book's stock to an absolute level (staff edits, imports), recording the difference.

    `expected_stock`: the level the caller saw; if the locked row holds another (a sale or an edit
    came in between), nothing is written and `StockChangedError` (409 `stock_changed`) is raised,
    so a level set over a stale reading never undoes those sales.
    """
    (record,) = _stock_lock([book.pk])
    if expected_stock is not None and expected_stock != record.quantity:
        raise StockChangedError(book_id=book.pk, expected=expected_stock, current=record.quantity)
    if stock != record.quantity:
        stock_apply(
            changes={book.pk: stock - record.quantity},
            reason=reason,
            actor=actor,
            note=note,
            locked_books=[record.book],
        )
        book.in_stock = record.book.in_stock
    book.stock = record.quantity
    return book
