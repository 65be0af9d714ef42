"""Checkout and the life of an order: the only code that creates orders or moves their status."""

import hashlib
import json
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from bookstore.integrity import Unique
from bookstore.mail import email_enqueue
from cart.services import cart_empty, cart_lines, cart_lock
from catalog.exceptions import InsufficientStockError, Shortage
from catalog.models import StockMovement
from catalog.services import stock_apply
from orders.exceptions import EmptyCartError, IdempotencyKeyReusedError, InvalidTransitionError
from orders.models import Order, OrderLine, OrderStatusChange, order_number_new

CENT = Decimal("0.01")


def shipping_cost_for(*, subtotal: Decimal) -> Decimal:
    """The flat rate, or nothing at or above the free-shipping threshold (both from settings)."""
    if subtotal >= settings.FREE_SHIPPING_THRESHOLD:
        return Decimal("0.00")
    return settings.SHIPPING_FLAT_RATE.quantize(CENT)


def request_fingerprint(*, address: dict) -> str:
    """A stable hash of a checkout's validated body, to tell a retry from a reused key."""
    canonical = json.dumps({"shipping_address": address}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


ORDER_NUMBER = Unique(Order, ("number",), "An order with this number already exists.")
MAX_NUMBER_ATTEMPTS = 5


def _order_insert(**fields) -> Order:
    """Inserts the order under a fresh random number, drawing again should another order hold it.

    Numbers are random (50 bits), so a clash is all but impossible; but it is not the buyer's
    doing, so it is never their error. Each attempt is a savepoint that a clash rolls back.
    """
    for _ in range(MAX_NUMBER_ATTEMPTS):
        try:
            with transaction.atomic():
                return Order.objects.create(number=order_number_new(), **fields)
        except IntegrityError as error:
            if not ORDER_NUMBER.violated_by(error):
                raise
    raise RuntimeError(f"no free order number in {MAX_NUMBER_ATTEMPTS} draws")


@transaction.atomic
def order_place(*, user, address: dict, idempotency_key: str | None = None) -> Order:
    """Turns the user's cart into a pending order, taking the stock, all in one transaction.

    Lock order: the user's cart row first, then the books' rows in id order (in `stock_apply`).
    The cart lock serialises one user's checkouts, so an Idempotency-Key is looked up only
    once any concurrent checkout with it has committed: the same key gives the same order.
    The book locks make concurrent buyers queue per book and re-read the stock the previous
    one left, so nobody oversells; the id order means crossed carts never deadlock.
    Raises `IdempotencyKeyReusedError`, `EmptyCartError` or `InsufficientStockError` (naming
    every short or withdrawn book), and then nothing is kept.
    """
    cart = cart_lock(user=user)
    fingerprint = request_fingerprint(address=address)
    if idempotency_key is not None:
        existing = Order.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.request_fingerprint != fingerprint:
                raise IdempotencyKeyReusedError()
            return existing

    lines = cart_lines(cart=cart, lock_books=True)
    if not lines:
        raise EmptyCartError()
    if any(not line.book.is_active for line in lines):
        # A withdrawn book cannot be bought: it counts as out of stock, alongside any other short line.
        raise InsufficientStockError(
            [
                Shortage.for_sale(book=line.book, requested=line.quantity)
                for line in lines
                if not line.book.is_active or line.book.stock < line.quantity
            ]
        )

    order_lines = [
        OrderLine(
            book_id=line.book_id,
            title=line.book.title,
            isbn=line.book.isbn,
            unit_price=line.book.price,
            quantity=line.quantity,
            line_total=(line.book.price * line.quantity).quantize(CENT),
        )
        for line in lines
    ]
    subtotal = sum((line.line_total for line in order_lines), Decimal("0.00"))
    shipping_cost = shipping_cost_for(subtotal=subtotal)
    order = _order_insert(
        user=user,
        subtotal=subtotal,
        shipping_cost=shipping_cost,
        total=subtotal + shipping_cost,
        currency=settings.STORE_CURRENCY,
        idempotency_key=idempotency_key or "",
        request_fingerprint=fingerprint if idempotency_key is not None else "",
        **{f"shipping_{field}": value for field, value in address.items()},
    )
    stock_apply(
        changes={line.book_id: -line.quantity for line in lines},
        reason=StockMovement.Reason.SALE,
        actor=user,
        order_reference=order.number,
        locked_books=[line.book for line in lines],
    )
    for line in order_lines:
        line.order = order
    OrderLine.objects.bulk_create(order_lines)
    placed = OrderStatusChange.objects.create(
        order=order, status=Order.Status.PENDING, actor=user, note="Order placed."
    )
    cart_empty(cart=cart)
    # The response shows the lines and history just written: no need to read them back.
    order.lines, order.history = order_lines, [placed]

    summary = "\n".join(f"  {line.quantity} × {line.title}: {line.line_total} {order.currency}" for line in order_lines)
    email_enqueue(
        to=user.email,
        subject=f"Your Bookstore order {order.number}",
        body=(
            f"Thank you for your order {order.number}.\n\n{summary}\n\n"
            f"Subtotal: {order.subtotal} {order.currency}\nShipping: {order.shipping_cost} {order.currency}\n"
            f"Total: {order.total} {order.currency}\n"
        ),
    )
    return order


def _order_lock(*, order: Order) -> Order:
    """Re-reads the order FOR UPDATE: concurrent moves of one order run one after the other."""
    return Order.objects.select_for_update(of=("self",)).select_related("user").get(pk=order.pk)


def _order_record_move(*, order: Order, status: str, actor, note: str) -> Order:
    order.status = status
    order.save(update_fields=["status", "updated_at"])
    OrderStatusChange.objects.create(order=order, status=status, actor=actor, note=note)
    email_enqueue(
        to=order.user.email,
        subject=f"Your Bookstore order {order.number} is {order.get_status_display().lower()}",
        body=f"Your order {order.number} is now {order.get_status_display().lower()}.\n"
        + (f"\n{note}\n" if note else ""),
    )
    return order


@transaction.atomic
def order_cancel(*, order: Order, actor, note: str = "") -> Order:
    """Cancels a pending or paid order and puts its copies back in stock, exactly once.

    The order row is locked first, so of two simultaneous cancellations the second waits,
    then finds the order cancelled and gets `InvalidTransitionError`.
    """
    order = _order_lock(order=order)
    if not order.can_cancel():
        raise InvalidTransitionError(current=order.status, target=Order.Status.CANCELLED)
    stock_apply(
        changes=dict(OrderLine.objects.filter(order=order).values_list("book_id", "quantity")),
        reason=StockMovement.Reason.CANCELLATION,
        actor=actor,
        order_reference=order.number,
        note=note,
    )
    return _order_record_move(order=order, status=Order.Status.CANCELLED, actor=actor, note=note)


@transaction.atomic
def order_set_status(*, order: Order, status: str, actor, note: str = "") -> Order:
    """Moves an order along pending → paid → shipped → delivered (or cancels it); anything else is refused."""
    if status == Order.Status.CANCELLED:
        return order_cancel(order=order, actor=actor, note=note)
    order = _order_lock(order=order)
    if not order.can_move_to(status):
        raise InvalidTransitionError(current=order.status, target=status)
    return _order_record_move(order=order, status=status, actor=actor, note=note)
