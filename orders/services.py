"""Checkout and the life of an order: the only code that creates orders or moves their status."""

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.utils.crypto import salted_hmac

from accounts.models import User
from bookstore.inserts import parent_and_child_insert, rows_insert
from bookstore.integrity import Unique
from bookstore.mail import email_enqueue
from bookstore.prefetch import set_prefetched
from cart.exceptions import CartNotFoundError
from cart.models import Cart, CartItem, cart_token_hash
from cart.services import cart_empty, cart_lines, cart_lock, cart_restore_lines
from catalog.models import StockMovement
from catalog.stock import stock_apply
from orders.exceptions import IdempotencyKeyReusedError, InvalidTransitionError, InvoiceNotIssuableError
from orders.models import (
    Invoice,
    InvoiceCounter,
    Order,
    OrderLine,
    OrderStatusChange,
    order_number_new,
    order_token_hash,
)
from orders.pricing import Pricing, price_order
from shipping.models import shipping_method_for


def order_token_new() -> str:
    """A guest order's secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def guest_idempotency_scope(*, cart_token: str, idempotency_key: str) -> str:
    """A guest's Idempotency-Key as stored: scoped to their cart, so two guests' keys never meet.

    Only the cart's holder can replay a guest checkout (and get its Order-Token back): the key
    alone, or with the email, opens nothing.
    """
    digest = hashlib.sha256(f"{cart_token_hash(cart_token)}\0{idempotency_key}".encode()).hexdigest()
    return f"guest:{digest}"


def guest_order_token_derived(*, cart_token: str, idempotency_key: str, number: str) -> str:
    """The Order-Token of a guest checkout made with an Idempotency-Key, so that its replay can answer it again.

    An HMAC under the store's SECRET_KEY of the cart token (≥ 128 random bits), the key and the
    order number: as unguessable as a random token, and computable only by a request that holds
    the cart token again. Only its hash is stored, as for any Order-Token.
    """
    value = f"{cart_token}\0{idempotency_key}\0{number}"
    digest = salted_hmac("bookstore.orders.guest-order-token", value, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def request_fingerprint(*, address: dict[str, Any], shipping_method: str = "standard", email: str | None = None) -> str:
    """A stable hash of a checkout's validated body, to tell a retry from a reused key (a guest's email counts)."""
    body: dict[str, Any] = {"shipping_address": address, "shipping_method": shipping_method}
    if email is not None:
        body["email"] = email
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


ORDER_NUMBER = Unique(Order, ("number",), "An order with this number already exists.")
MAX_NUMBER_ATTEMPTS = 5


def _order_insert(
    *, placed: OrderStatusChange, numbered: Callable[[str], dict[str, Any]] | None = None, **fields: Any
) -> Order:
    """Inserts the order, and `placed` (its first history line) with it, under a fresh random
    number, drawing again should another order hold it.

    Numbers are random (50 bits), so a clash is all but impossible; but it is not the buyer's
    doing, so it is never their error. A clash inserts nothing (on PostgreSQL without a savepoint:
    the two rows are one statement that skips a taken number). `numbered(number)` gives the fields
    that depend on the number (a guest's derived token).
    """
    for _ in range(MAX_NUMBER_ATTEMPTS):
        number = order_number_new()
        order = Order(number=number, **fields, **(numbered(number) if numbered else {}))
        if parent_and_child_insert(parent=order, child=placed, fk="order", unless_taken=ORDER_NUMBER):
            return order
    raise RuntimeError(f"no free order number in {MAX_NUMBER_ATTEMPTS} draws")


def order_quote(
    *,
    user: User | None = None,
    cart_token: str | None = None,
    address: dict[str, Any],
    shipping_method: str = "standard",
) -> Pricing:
    """What checking out the user's cart would charge now, with its problems; reads only, locks nothing.

    The same `price_order` as `order_place`: the two can only differ when the cart, the stock,
    a price or a rate changes in between.
    """
    method = shipping_method_for(code=shipping_method, country=address["country"])
    if user is not None:
        lines = CartItem.objects.filter(cart__user=user)
    else:
        cart = Cart.objects.for_token(cart_token or "-").only("pk").first()
        if cart is None:
            raise CartNotFoundError()
        lines = CartItem.objects.filter(cart=cart)
    lines = lines.select_related("book__stock_record").order_by("id")
    return price_order(cart_lines=lines, country=address["country"], method=method)


def order_place(
    *,
    user: User | None = None,
    cart_token: str | None = None,
    email: str = "",
    address: dict[str, Any],
    shipping_method: str = "standard",
    idempotency_key: str | None = None,
    confirm: bool = True,
    savepoint: bool = True,
) -> Order:
    """Turns the user's cart, or a guest's (`cart_token` and `email`), into a pending order, taking the stock.

    A guest's order gets an Order-Token (on the returned order as `token`; only its hash is kept),
    and the confirmation email carries the link that opens it (`confirm=False`: the caller sends
    it, with `order_confirmation_send`). An Idempotency-Key is scoped to the account, or to a
    guest's cart (`guest_idempotency_scope`); a guest's replay gives back the same Order-Token
    (`guest_order_token_derived`), and a guest's email is part of the body it must repeat.

    Lock order: the cart's row first, then the books' rows in id order (in `cart_lines`).
    The cart lock serialises one cart's checkouts, so an Idempotency-Key is looked up only
    once any concurrent checkout with it has committed: the same key gives the same order.
    The book locks make concurrent buyers queue per book and re-read the stock the previous
    one left, so nobody oversells; the id order means crossed carts never deadlock.
    Raises `IdempotencyKeyReusedError`, `ShippingUnavailableError`, `EmptyCartError` or
    `InsufficientStockError` (naming every short or withdrawn book), and then nothing is kept.
    Inside a caller's transaction it is a savepoint, unless `savepoint=False` (payments' checkout:
    two round trips fewer): then an error marks the caller's transaction to roll back, and must end it.
    """
    with transaction.atomic(savepoint=savepoint):
        guest = user is None
        cart = cart_lock(user=user, token=cart_token if guest else None)
        guest_cart_token = cast(str, cart_token)  # for a guest: cart_lock found their cart by it
        email = User.objects.normalize_email(email) if user is None else user.email
        fingerprint = request_fingerprint(
            address=address, shipping_method=shipping_method, email=email if guest else None
        )
        stored_key = idempotency_key
        if idempotency_key is not None and guest:
            stored_key = guest_idempotency_scope(cart_token=guest_cart_token, idempotency_key=idempotency_key)
        if stored_key is not None:
            # A guest's scoped key is unique by itself (and stays so once the order joins an account).
            existing = Order.objects.filter(idempotency_key=stored_key, **({} if guest else {"user": user})).first()
            if existing is not None:
                if existing.request_fingerprint != fingerprint:
                    raise IdempotencyKeyReusedError()
                if guest and idempotency_key is not None:  # a guest's stored key is made from one
                    existing.token = guest_order_token_derived(
                        cart_token=guest_cart_token, idempotency_key=idempotency_key, number=existing.number
                    )
                return existing

        method = shipping_method_for(code=shipping_method, country=address["country"])
        lines = cart_lines(cart=cart, lock_books=True)
        pricing = price_order(cart_lines=lines, country=address["country"], method=method)
        pricing.raise_problems()

        tokens: dict[str, str] = {}

        def guest_token(number: str) -> dict[str, Any]:
            if idempotency_key is None:
                tokens[number] = order_token_new()
            else:
                tokens[number] = guest_order_token_derived(
                    cart_token=guest_cart_token, idempotency_key=idempotency_key, number=number
                )
            return {"order_token_hash": order_token_hash(tokens[number])}

        placed = OrderStatusChange(status=Order.Status.PENDING, actor=user, note="Order placed.")
        order = _order_insert(
            numbered=guest_token if guest else None,
            placed=placed,
            user=user,
            email=email,
            currency=pricing.currency,
            idempotency_key=stored_key or "",
            request_fingerprint=fingerprint if stored_key is not None else "",
            **_pricing_fields(pricing),
            **{f"shipping_{field}": value for field, value in address.items()},
        )
        token = tokens.get(order.number)
        stock_apply(
            changes={line.book_id: -line.quantity for line in lines},
            reason=StockMovement.Reason.SALE,
            actor=user,
            order_reference=order.number,
            locked_books=[line.book for line in lines],
        )
        order_lines = [
            OrderLine(
                order=order,
                book_id=line.book_id,
                title=line.title,
                isbn=line.isbn,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.line_total,
                tax_rate=line.tax_rate,
                tax_amount=line.tax_amount,
            )
            for line in pricing.lines
        ]
        rows_insert(order_lines)  # the ORM's INSERT, compiled once per number of lines (bookstore.inserts)
        cart_empty(cart=cart)
        # The response shows the lines and history just written: no need to read them back.
        set_prefetched(order, "items", order_lines)
        set_prefetched(order, "status_history", [placed])
        order.token = token
        if confirm:
            order_confirmation_send(order=order)
        return order


@transaction.atomic
def order_abandon(*, order: Order, user: User | None = None, cart_token: str | None = None, note: str) -> Order:
    """Undoes a checkout whose payment could not be started: the order is cancelled (kept, for the
    books), its copies go back to stock and into the cart they came from, and its Idempotency-Key
    is freed so that a retry places a new order. No email: the buyer was told the checkout failed.

    Lock order as checkout's: the cart's row, then the order's, then the books'.
    """
    cart = cart_lock(user=user, token=cart_token if user is None else None)
    order = _order_lock(order=order)
    if order.status != Order.Status.PENDING:
        return order
    quantities = dict(OrderLine.objects.filter(order=order).values_list("book_id", "quantity"))
    stock_apply(
        changes=quantities,
        reason=StockMovement.Reason.CANCELLATION,
        actor=user,
        order_reference=order.number,
        note=note,
    )
    cart_restore_lines(cart=cart, quantities=quantities)
    order.status = Order.Status.CANCELLED
    order.idempotency_key = ""
    order.request_fingerprint = ""
    order.save(update_fields=["status", "idempotency_key", "request_fingerprint", "updated_at"])
    OrderStatusChange.objects.create(order=order, status=order.status, actor=user, note=note)
    return order


def guest_orders_claim(*, user: User) -> int:
    """A verified email's guest orders join its account; returns how many."""
    if not user.is_email_verified:
        return 0
    return Order.objects.filter(user__isnull=True, email=User.objects.normalize_email(user.email)).update(user=user)


def guest_orders_claim_on_verification(sender: type[User], *, user: User, **kwargs: Any) -> None:
    """Receiver of `accounts.signals.email_verified`."""
    guest_orders_claim(user=user)


def _pricing_fields(pricing: Pricing) -> dict[str, Any]:
    return {
        "subtotal": pricing.subtotal,
        "shipping_cost": pricing.shipping_cost,
        "shipping_tax_rate": pricing.shipping_tax_rate,
        "shipping_tax_amount": pricing.shipping_tax_amount,
        "tax_total": pricing.tax_total,
        "total": pricing.total,
        "prices_include_tax": pricing.prices_include_tax,
        "shipping_method_code": pricing.shipping_method.code,
        "shipping_method_name": pricing.shipping_method.name,
    }


def order_confirmation_send(*, order: Order, payment_text: str = "") -> None:
    """The order confirmation email (once the transaction commits): the lines, the money, how to pay
    (`payment_text`) and, for a guest, the link that opens the order with its token."""
    currency = order.currency
    summary = "\n".join(f"  {line.quantity} × {line.title}: {line.line_total} {currency}" for line in order.items.all())
    tax_line = f"Tax{' (included)' if order.prices_include_tax else ''}: {order.tax_total} {currency}\n"
    link = f"{settings.FRONTEND_URL}/orders/{order.number}?token={order.token}" if order.token else None
    email_enqueue(
        to=order.email,
        subject=f"Your Bookstore order {order.number}",
        body=(
            f"Thank you for your order {order.number}.\n\n{summary}\n\n"
            f"Subtotal: {order.subtotal} {currency}\n"
            f"Shipping ({order.shipping_method_name}): {order.shipping_cost} {currency}\n"
            f"{tax_line}Total: {order.total} {currency}\n"
            + (f"\n{payment_text.strip()}\n" if payment_text.strip() else "")
            + (f"\nFollow your order here:\n{link}\n" if link else "")
        ),
    )


def _order_lock(*, order: Order) -> Order:
    """Re-reads the order FOR UPDATE: concurrent moves of one order run one after the other."""
    return Order.objects.select_for_update(of=("self",)).select_related("user").get(pk=order.pk)


def _order_record_move(
    *, order: Order, status: str, actor: User | None, note: str, also_saved: tuple[str, ...] = ()
) -> Order:
    order.status = status
    order.save(update_fields=["status", "updated_at", *also_saved])
    OrderStatusChange.objects.create(order=order, status=status, actor=actor, note=note)
    email_enqueue(
        to=order.email_to,
        subject=f"Your Bookstore order {order.number} is {order.get_status_display().lower()}",
        body=f"Your order {order.number} is now {order.get_status_display().lower()}.\n"
        + (f"\n{note}\n" if note else "")
        + (_tracking_text(order) if status == Order.Status.SHIPPED else ""),
    )
    return order


def _tracking_text(order: Order) -> str:
    if not (order.tracking_number or order.carrier or order.tracking_url):
        return ""
    lines = [
        f"Carrier: {order.carrier}" if order.carrier else "",
        f"Tracking number: {order.tracking_number}" if order.tracking_number else "",
    ]
    if order.tracking_url:
        lines.append(f"Follow the parcel: {order.tracking_url}")
    return "\n" + "\n".join(line for line in lines if line) + "\n"


@transaction.atomic
def order_ship(
    *,
    order: Order,
    actor: User | None,
    note: str = "",
    carrier: str = "",
    tracking_number: str = "",
    tracking_url: str = "",
) -> Order:
    """Marks a paid order shipped with the parcel's carrier, tracking number and link (all optional: a letter
    has none); the customer's email carries them, and so does the order in the API."""
    order = _order_lock(order=order)
    if not order.can_move_to(Order.Status.SHIPPED):
        raise InvalidTransitionError(current=order.status, target=Order.Status.SHIPPED)
    order.carrier, order.tracking_number, order.tracking_url = (
        carrier.strip(),
        tracking_number.strip(),
        tracking_url.strip(),
    )
    return _order_record_move(
        order=order,
        status=Order.Status.SHIPPED,
        actor=actor,
        note=note,
        also_saved=("carrier", "tracking_number", "tracking_url"),
    )


@transaction.atomic
def order_cancel(*, order: Order, actor: User | None, note: str = "") -> Order:
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
def order_set_status(*, order: Order, status: str, actor: User | None, note: str = "") -> Order:
    """Moves an order along pending → paid → shipped → delivered (or cancels it); anything else is refused."""
    if status == Order.Status.CANCELLED:
        return order_cancel(order=order, actor=actor, note=note)
    if status == Order.Status.SHIPPED:
        return order_ship(order=order, actor=actor, note=note)
    order = _order_lock(order=order)
    if not order.can_move_to(status):
        raise InvalidTransitionError(current=order.status, target=status)
    return _order_record_move(order=order, status=status, actor=actor, note=note)


INVOICE_STATUSES = (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.DELIVERED)


@transaction.atomic
def invoice_issue(*, order: Order, actor: User | None = None) -> Invoice:
    """The order's invoice, issued with the next number the first time it is asked for, the same one after.

    Numbers have no gaps: the counter's row is locked, moved on and the invoice written in one
    transaction, so two staff issuing at once get consecutive numbers, and a failure rolls the
    number back with the invoice. The order's row is locked first, so one order never gets two.
    Raises `InvoiceNotIssuableError` for an order not paid (pending or cancelled).
    """
    order = _order_lock(order=order)
    existing = Invoice.objects.filter(order=order).first()
    if existing is not None:
        return existing
    if order.status not in INVOICE_STATUSES:
        raise InvoiceNotIssuableError(current=order.status)
    InvoiceCounter.objects.bulk_create([InvoiceCounter(name="invoice")], ignore_conflicts=True)
    counter = InvoiceCounter.objects.select_for_update().get(name="invoice")
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return Invoice.objects.create(order=order, number=counter.last_number, issued_by=actor)
