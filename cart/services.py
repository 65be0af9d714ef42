"""Cart reads and writes, for a signed-in user's cart or an anonymous one opened by its Cart-Token.

Every write locks the cart's row first, which also serialises it with checkout. Each service
takes `user=` (a signed-in user) or `token=` (an anonymous cart's secret); an unknown or
expired token is `CartNotFoundError` (404).
"""

import logging
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import F, FilteredRelation, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from bookstore.compiled import PLACEHOLDERS, compiled, deletion, execute_prepared
from bookstore.exceptions import DomainError
from bookstore.inserts import row_insert
from cart.exceptions import BookUnavailableError, CartLineNotFoundError, CartNotFoundError, QuantityTooLargeError
from cart.models import Cart, CartItem, CartNotice, anonymous_cart_cutoff, cart_token_hash, cart_token_new
from catalog.exceptions import InsufficientStockError, Shortage
from catalog.models import Book

logger = logging.getLogger(__name__)


def _shortage(*, book: Book, requested: int) -> InsufficientStockError:
    return InsufficientStockError([Shortage.for_sale(book=book, requested=requested)])


def _hand_notices(cart: Cart) -> Cart:
    """Moves the cart's pending notices into this answer: deleted as they are read, so each is told once.

    Only when the cart's read or lock said it has some (`has_notices`): one DELETE … RETURNING then.
    Of two answers at the same moment, one gets them (the other's DELETE finds them gone).
    """
    if not getattr(cart, "has_notices", False):
        return cart
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {CartNotice._meta.db_table} WHERE cart_id = %s RETURNING id, book_id, code, detail",  # noqa: S608
            [cart.pk],
        )
        rows = sorted(cursor.fetchall())
    cart.handed_notices = [
        CartNotice(pk=pk, cart_id=cart.pk, book_id=book_id, code=code, detail=detail)
        for pk, book_id, code, detail in rows
    ]
    cart.has_notices = False
    return cart


def cart_get(*, user: User | None = None, token: str | None = None) -> Cart:
    """The cart with its lines (and pending notices): the user's, created empty on first use; the token's (404 when
    unknown or expired); or, with neither, an empty cart that is not saved.

    Two queries once it exists, a third when it has notices to hand over.
    """
    if token is not None and user is None:
        cart = Cart.objects.for_token(token).with_notice_flag().with_lines().first()
        if cart is None:
            raise CartNotFoundError()
        cart.token = token
        return _hand_notices(cart)
    if user is None:
        cart = Cart()
        cart.lines = []
        return cart
    cart = Cart.objects.for_user(user).with_notice_flag().with_lines().first()
    if cart is None:
        Cart.objects.get_or_create(user=user)
        cart = Cart.objects.for_user(user).with_notice_flag().with_lines().get()
    return _hand_notices(cart)


def cart_lock(*, user: User | None = None, token: str | None = None) -> Cart:
    """Locks the cart's row until the transaction ends, and touches it: the user's (created if needed) or the token's.

    An anonymous cart is found by its token's hash, if it has not expired; else `CartNotFoundError`.

    Every cart write and every checkout of one user takes this lock first, so they run one
    after the other: a checkout never sees half of a cart change, and two checkouts with one
    idempotency key cannot both create an order. The lock is an UPDATE of `updated_at` (one
    query, where a SELECT FOR UPDATE and a later save took two); a failed write rolls it back.
    It also tells whether the cart has pending notices (`has_notices`).
    """
    now = timezone.now()
    carts, notices = Cart._meta.db_table, CartNotice._meta.db_table
    if user is None:
        if token is None:
            raise CartNotFoundError()
        with connection.cursor() as cursor:
            execute_prepared(
                cursor,
                f"UPDATE {carts} SET updated_at = %s WHERE token_hash = %s AND updated_at >= %s "  # noqa: S608
                f"RETURNING id, EXISTS (SELECT 1 FROM {notices} WHERE {notices}.cart_id = {carts}.id)",
                [now, cart_token_hash(token), anonymous_cart_cutoff()],
            )
            row = cursor.fetchone()
        if row is None:
            raise CartNotFoundError()
        cart = Cart(pk=row[0], token_hash=cart_token_hash(token), updated_at=now)
        cart.has_notices = bool(row[1])
        cart.token = token
        return cart
    with connection.cursor() as cursor:
        execute_prepared(
            cursor,
            f"UPDATE {carts} SET updated_at = %s WHERE user_id = %s "  # noqa: S608
            f"RETURNING id, EXISTS (SELECT 1 FROM {notices} WHERE {notices}.cart_id = {carts}.id)",
            [now, user.pk],
        )
        row = cursor.fetchone()
    if row is not None:
        cart = Cart(pk=row[0], user_id=user.pk, updated_at=now)
        cart.has_notices = bool(row[1])
        return cart
    cart, _ = Cart.objects.select_for_update().get_or_create(user=user)
    cart.has_notices = False
    return cart


def cart_create_anonymous() -> Cart:
    """A new anonymous cart and its token (returned on the cart as `token`, never stored)."""
    token = cart_token_new()
    cart = Cart(token_hash=cart_token_hash(token))
    row_insert(cart)
    cart.token = token
    cart.has_notices = False
    return cart


def cart_lines(*, cart: Cart, lock_books: bool = False) -> list[CartItem]:
    """The cart's lines with their books, oldest first, in one query.

    `lock_books`: also locks the books' rows and their `Stock` rows FOR UPDATE, taken in book id order
    (checkout's lock order; `catalog.stock.stock_apply` then takes no lock again).
    """
    if lock_books:
        # Checkout's: compiled once per thread and connection (bookstore.compiled), the compile of its
        # filters and joins being a large Python cost of a checkout (bench/costs.py).
        lines = compiled("cart.lines-locked", _lines_locked, prepare=True).instances({_CART: cart.pk})
    else:
        lines = list(CartItem.objects.filter(cart=cart).select_related("book__stock_record"))
    return sorted(lines, key=lambda line: line.pk)


def _lines_locked() -> QuerySet[CartItem]:
    # An inner join (every book has its Stock row): FOR UPDATE refuses the nullable side of an outer one.
    return (
        CartItem.objects.filter(cart_id=_CART)
        .select_related("book__stock_record")
        .filter(book__stock_record__isnull=False)
        .select_for_update(of=("book", "book__stock_record"))
        .order_by("book_id")
    )


def cart_empty(*, cart: Cart) -> None:
    """Removes every line (after a checkout, or on request); the cart row was touched by `cart_lock`."""
    # The ORM's fast delete, compiled and prepared once per connection (bookstore.compiled).
    compiled("cart.empty", lambda: deletion(CartItem.objects.filter(cart_id=_CART)), prepare=True).execute(
        {_CART: cart.pk}
    )


def cart_restore_lines(*, cart: Cart, quantities: dict[int, int]) -> None:
    """Puts lines back into a locked cart (a checkout undone): each book's quantity joins its line, capped at 100."""
    existing = {item.book_id: item for item in CartItem.objects.filter(cart=cart, book_id__in=quantities)}
    for item in existing.values():
        item.quantity = min(item.quantity + quantities[item.book_id], CartItem.MAX_QUANTITY)
    CartItem.objects.bulk_update(existing.values(), ["quantity"])
    CartItem.objects.bulk_create(
        CartItem(cart=cart, book_id=book_id, quantity=min(quantity, CartItem.MAX_QUANTITY))
        for book_id, quantity in quantities.items()
        if book_id not in existing
    )


def _book_hold_active(*, book_id: int) -> bool:
    """Share-locks the book's row until the transaction ends; False when it has been withdrawn.

    The withdrawal locks the row FOR UPDATE before it removes the book's lines from every cart:
    a new line commits before it (and is removed) or waits for it and is refused, never slips
    in after the removal. FOR SHARE does not block other shoppers adding the same book.
    """
    if connection.vendor != "postgresql":  # SQLite runs one write transaction at a time
        return Book.objects.filter(pk=book_id, is_active=True).exists()
    with connection.cursor() as cursor:
        execute_prepared(
            cursor,
            f"SELECT 1 FROM {Book._meta.db_table} WHERE id = %s AND is_active FOR SHARE",  # noqa: S608
            [book_id],
        )
        return cursor.fetchone() is not None


@transaction.atomic
def cart_add_item(*, user: User | None = None, token: str | None = None, book_id: int, quantity: int = 1) -> Cart:
    """Adds copies of a book, to its existing line if there is one; the line's total must fit 1-100 and the stock.

    Without a user or a token, the first add creates an anonymous cart (its `token` is on the
    returned cart).

    Four queries with the user's: the cart lock, one read of the lines' books and the added
    book together, one write; a new line adds a share lock on its book first. The response's
    lines are built from what was read.
    """
    cart = cart_create_anonymous() if user is None and token is None else cart_lock(user=user, token=token)
    # Compiled once per thread and connection (bookstore.compiled): its compile was the largest
    # Python cost of an add (bench/costs.py). Books annotated with their line (`line_id`,
    # `line_quantity`, `line_created`), which a union's type loses.
    statement = compiled("cart.books-with-line", _books_with_line, prepare=True)
    books: list[Any] = list({b.pk: b for b in statement.instances({_CART: cart.pk, _BOOK: book_id})}.values())
    book = next((b for b in books if b.pk == book_id and b.is_active), None)
    if book is None:
        raise BookUnavailableError()
    already = book.line_quantity or 0
    new_quantity = already + quantity
    if new_quantity > CartItem.MAX_QUANTITY:
        raise QuantityTooLargeError(in_cart=already, limit=CartItem.MAX_QUANTITY)
    if new_quantity > book.stock:
        raise _shortage(book=book, requested=new_quantity)
    items = [
        CartItem(pk=b.line_id, cart=cart, book=b, quantity=b.line_quantity, created_at=b.line_created)
        for b in books
        if b.line_id is not None
    ]
    now = timezone.now()
    if already:
        # A withdrawal that removed the line meanwhile leaves nothing to update: the book is gone.
        if not CartItem.objects.filter(pk=book.line_id).update(quantity=new_quantity, updated_at=now):
            raise BookUnavailableError()
        next(item for item in items if item.pk == book.line_id).quantity = new_quantity
    else:
        if not _book_hold_active(book_id=book.pk):
            raise BookUnavailableError()
        line = CartItem(cart=cart, book=book, quantity=new_quantity)
        row_insert(line)  # the ORM's INSERT, compiled once (bookstore.inserts)
        items.append(line)
    cart.lines = sorted(items, key=lambda item: item.pk)
    return _hand_notices(cart)


_CART, _BOOK = PLACEHOLDERS[:2]


def _books_with_line() -> QuerySet[Book]:
    """The added book (`_BOOK`, if available) and the books with a line in the cart `_CART`, each
    with its line of that cart, if any (a LEFT JOIN on the line's unique key)."""
    with_line = (
        Book.objects.order_by()
        .only("id", "title", "price", "cover", "is_active", "in_stock")
        .annotate(stock=F("stock_record__quantity"))  # type: ignore[no-redef]  # sets the `stock` property (its setter), as Django allows
        .annotate(line=FilteredRelation("cart_items", condition=Q(cart_items__cart_id=_CART)))
        .annotate(line_id=F("line__id"), line_quantity=F("line__quantity"), line_created=F("line__created_at"))
    )
    # A UNION ALL, not an OR: each side uses its index (an OR across the join scans every book).
    added = with_line.filter(pk=_BOOK, is_active=True)
    in_cart = with_line.filter(line_id__isnull=False)
    return added.union(in_cart, all=True)


@transaction.atomic
def cart_update_item(*, user: User | None = None, token: str | None = None, item_id: int, quantity: int) -> Cart:
    """Sets a line's quantity (1-100, within stock). Another cart's line is a 404."""
    cart = cart_lock(user=user, token=token)
    item = CartItem.objects.filter(cart=cart, pk=item_id).select_related("book__stock_record").first()
    if item is None:
        raise CartLineNotFoundError()
    if not item.book.is_active or quantity > item.book.stock:
        raise _shortage(book=item.book, requested=quantity)
    CartItem.objects.filter(pk=item.pk).update(quantity=quantity, updated_at=timezone.now())
    cart.lines = list(cart.items.in_line_order())
    return _hand_notices(cart)


@transaction.atomic
def cart_remove_item(*, user: User | None = None, token: str | None = None, item_id: int) -> Cart:
    """Deletes one line. Another cart's line is a 404."""
    cart = cart_lock(user=user, token=token)
    deleted, _ = CartItem.objects.filter(cart=cart, pk=item_id).delete()
    if not deleted:
        raise CartLineNotFoundError()
    cart.lines = list(cart.items.in_line_order())
    return _hand_notices(cart)


@transaction.atomic
def cart_clear(*, user: User | None = None, token: str | None = None) -> None:
    """Empties the cart (with neither a user nor a token there is no cart: nothing to do)."""
    if user is None and token is None:
        return
    cart_empty(cart=cart_lock(user=user, token=token))


def carts_prune() -> int:
    """Deletes the anonymous carts that expired (`manage.py prune_carts`); returns how many."""
    _, by_model = Cart.objects.expired().delete()
    return by_model.get(Cart._meta.label, 0)


# Merging an anonymous cart into a user's on sign-in


def cart_merge(*, user: User, token: str | None) -> dict[str, list[dict[str, Any]]] | None:
    """Moves the anonymous cart's lines into the user's cart and deletes it; the report, or None if nothing merged.

    Never raises: a sign-in must not fail because of its cart token (unknown, expired, already
    merged, or a database error, which is logged and rolled back to the savepoint).
    """
    if not token:
        return None
    try:
        with transaction.atomic():
            return _cart_merge(user=user, token=token)
    except (DatabaseError, DomainError):
        logger.exception("cart merge failed; the sign-in goes on without it")
        return None


def _cart_merge(*, user: User, token: str) -> dict[str, list[dict[str, Any]]] | None:
    # Lock order: the anonymous cart, then the user's. Two sign-ins racing with one token queue
    # on the anonymous cart's row; the second finds it deleted (PostgreSQL re-checks a locked row
    # that changed) and merges nothing: a token merges once.
    anonymous = Cart.objects.for_token(token).select_for_update().first()
    if anonymous is None:
        return None
    mine = cart_lock(user=user)
    current = {line.book_id: line for line in CartItem.objects.filter(cart=mine)}
    report: dict[str, list[dict[str, Any]]] = {"merged": [], "clamped": [], "dropped": []}
    new_lines, now = [], timezone.now()
    for line in anonymous.items.in_line_order():
        book, existing = line.book, current.get(line.book_id)
        held = existing.quantity if existing else 0
        requested = held + line.quantity
        if not book.is_active:
            report["dropped"].append({"book_id": book.pk, "reason": "withdrawn"})
            continue
        quantity = max(held, min(requested, book.stock, CartItem.MAX_QUANTITY))
        if quantity == 0:
            report["dropped"].append({"book_id": book.pk, "reason": "out_of_stock"})
            continue
        if quantity < requested:
            report["clamped"].append({"book_id": book.pk, "requested": requested, "quantity": quantity})
        else:
            report["merged"].append({"book_id": book.pk, "quantity": quantity})
        if existing is None:
            new_lines.append(CartItem(cart=mine, book=book, quantity=quantity))
        elif quantity != held:
            CartItem.objects.filter(pk=existing.pk).update(quantity=quantity, updated_at=now)
    CartItem.objects.bulk_create(new_lines)
    anonymous.delete()
    return report
