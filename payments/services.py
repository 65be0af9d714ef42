"""Taking the money and giving it back: the only code that changes a payment or records a refund.

Lock order, everywhere: the order's row, then its payment's row (then books' rows, in
`stock_apply`). So a late `payment_intent.succeeded` and the expiry of the same order run one
after the other and the second sees what the first did: the order ends paid, or cancelled and
refunded in full, never both and never cancelled with the money kept. Concurrent refunds queue
on the payment's row and each sees what the previous one left to refund.
Checkout calls Stripe after its transaction has committed, with no row locked (`order_checkout`).
Refunds and cancellations call Stripe inside their transaction: if it fails, everything rolls back
(nothing charged is left unrecorded: a refund's Stripe idempotency key is derived from the payment
and its count).
"""

import hashlib
import json
import logging
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from bookstore.exceptions import FieldError
from bookstore.inserts import parent_and_child_insert
from bookstore.mail import email_enqueue
from catalog.models import StockMovement
from catalog.stock import stock_apply
from orders import services as orders_services
from orders.exceptions import IdempotencyKeyReusedError, InvalidTransitionError
from orders.models import Order, OrderLine
from orders.pricing import cents
from payments import stripe_gateway
from payments.exceptions import InvalidRefundError, PaymentProviderUnavailableError, RefundExceedsPaidError
from payments.models import Payment, PaymentEvent, Refund, StripeEvent

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")


class CardOrderNotMarkableError(InvalidTransitionError):
    def __init__(self, *, current: str):
        super(InvalidTransitionError, self).__init__(
            "A card order becomes paid only when Stripe confirms the payment.",
            meta={"current": current, "target": Order.Status.PAID},
        )


class PaymentMethodUnavailableError(FieldError):
    attr = "payment_method"
    code = "invalid"
    default_detail = "Card payments are not enabled in this store."


def _lock(*, order_id: int) -> tuple[Order, Payment]:
    """The order's row, then its payment's, FOR UPDATE. An order from before payments gets a manual payment."""
    order = Order.objects.select_for_update(of=("self",)).select_related("user").get(pk=order_id)
    payment = Payment.objects.select_for_update().filter(order=order).first()
    if payment is None:
        payment = Payment.objects.create(
            order=order, method=Payment.Method.MANUAL, amount=order.total, currency=order.currency
        )
    return order, payment


def _record(
    *,
    payment: Payment,
    kind: str,
    amount: Decimal = ZERO,
    actor: User | None = None,
    event_id: str = "",
    note: str = "",
) -> None:
    payment.status = payment.status_from_amounts()
    payment.save()
    PaymentEvent.objects.create(
        payment=payment,
        kind=kind,
        amount=amount,
        status_after=payment.status,
        actor=actor,
        stripe_event_id=event_id,
        note=note[:500],
    )


# Checkout


def payment_start(*, order: Order, method: str, actor: User | None = None) -> Payment:
    """The order's payment row: manual (instructions, staff record it) or a card payment awaiting its
    PaymentIntent (`payment_intent_attach`, called once the checkout has committed)."""
    if method == Payment.Method.STRIPE and not stripe_gateway.stripe_enabled():
        raise PaymentMethodUnavailableError()
    now = timezone.now()
    payment = Payment(order=order, method=method, amount=order.total, currency=order.currency)
    if method == Payment.Method.STRIPE:
        payment.expires_at = now + timedelta(minutes=settings.PAYMENT_TIMEOUT_MINUTES)
    else:
        payment.expires_at = now + timedelta(days=settings.MANUAL_PAYMENT_DAYS)
    event = PaymentEvent(kind=PaymentEvent.Kind.CREATED, status_after=payment.status, actor=actor)
    # One statement on PostgreSQL: a round trip fewer on every checkout.
    parent_and_child_insert(parent=payment, child=event, fk="payment")
    order.payment, payment.refund_list = payment, []
    return payment


def payment_intent_attach(*, order: Order, payment: Payment) -> Payment:
    """Creates the card payment's PaymentIntent at Stripe and keeps its id and client secret.

    Called outside any transaction, with no row locked: Stripe's answer (up to `STRIPE_TIMEOUT`
    seconds, twice retried) holds up no other buyer. The Stripe idempotency key is derived from the
    order number, so calling again (a replayed checkout) gives back the same PaymentIntent.
    Raises `PaymentProviderUnavailableError`.
    """
    intent = stripe_gateway.payment_intent_create(
        amount=order.total, currency=order.currency, order_number=order.number
    )
    secret = intent.client_secret or ""  # always set on a new PaymentIntent
    Payment.objects.filter(pk=payment.pk).update(
        stripe_payment_intent_id=intent.id, client_secret=secret, updated_at=timezone.now()
    )
    payment.stripe_payment_intent_id, payment.client_secret = intent.id, secret
    return payment


def manual_payment_text(*, order: Order, payment: Payment) -> str:
    """How to pay a manual order, for its confirmation email: the store's bank details, the amount, the reference."""
    due = timezone.localdate(payment.expires_at).isoformat() if payment.expires_at else None
    return (
        f"How to pay: {settings.MANUAL_PAYMENT_INSTRUCTIONS}\n"
        f"Amount due: {payment.amount} {payment.currency}\n"
        f"Reference: {order.number}\n"
        + (f"Please pay by {due}; the order is cancelled if unpaid then.\n" if due else "")
    )


def order_checkout(*, payment_method: str | None = None, **place: Any) -> Order:
    """`orders.services.order_place` and the order's payment; for a card, then its PaymentIntent.

    The order, its stock and its payment row commit first, in one transaction (with a manual
    payment's confirmation email: a task row, in production); Stripe is called only after, with no
    row locked, and a card order's email is queued once Stripe has answered. If Stripe fails then,
    `orders.services.order_abandon` cancels the order, puts its stock back into stock and its
    lines back into the cart, and frees the Idempotency-Key; `PaymentProviderUnavailableError`
    follows (a 503), and no email is sent. The same Idempotency-Key again returns the same order
    and payment (another payment method: `idempotency_key_reused`); a replay that finds the card
    payment still without its PaymentIntent (the first request is still waiting for Stripe) asks
    Stripe again, which answers the same PaymentIntent.
    """
    method = payment_method or settings.PAYMENT_DEFAULT_METHOD
    actor = place.get("user")
    with transaction.atomic():
        order = orders_services.order_place(confirm=False, savepoint=False, **place)
        existing = Payment.objects.filter(order=order).first() if place.get("idempotency_key") is not None else None
        replay = existing is not None
        if existing is not None:
            if existing.method != method:
                raise IdempotencyKeyReusedError()
            order.payment = payment = existing
        else:
            payment = payment_start(order=order, method=method, actor=actor)
            if payment.method == Payment.Method.MANUAL:  # its email in the same commit (a task row, in production)
                text = manual_payment_text(order=order, payment=payment)
                orders_services.order_confirmation_send(order=order, payment_text=text)
    if payment.method == Payment.Method.STRIPE and not payment.stripe_payment_intent_id:
        if replay and order.status != Order.Status.PENDING:
            return order
        try:
            payment_intent_attach(order=order, payment=payment)
        except PaymentProviderUnavailableError:
            if not replay:
                try:
                    _checkout_undo(order=order, payment=payment, place=place)
                except Exception:  # the order stays pending without a PaymentIntent: its expiry restocks it
                    logger.exception("could not undo checkout %s after Stripe failed", order.number)
            raise
    if not replay and payment.method == Payment.Method.STRIPE:  # once Stripe has the PaymentIntent
        orders_services.order_confirmation_send(order=order)
    return order


def _checkout_undo(*, order: Order, payment: Payment, place: dict[str, Any]) -> None:
    note = "The card payment could not be started (Stripe did not answer); the checkout was undone."
    with transaction.atomic():
        orders_services.order_abandon(
            order=order, user=place.get("user"), cart_token=place.get("cart_token"), note=note
        )
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        payment.last_error = note
        _record(payment=payment, kind=PaymentEvent.Kind.CANCELLED, actor=place.get("user"), note=note)


# Status moves that involve money


@transaction.atomic
def order_mark_paid(*, order: Order, actor: User | None, note: str = "") -> Order:
    """Staff record a manual payment: the only way a manual order becomes paid. Card orders refuse."""
    order, payment = _lock(order_id=order.pk)
    if payment.method == Payment.Method.STRIPE:
        raise CardOrderNotMarkableError(current=order.status)
    if not order.can_move_to(Order.Status.PAID):
        raise InvalidTransitionError(current=order.status, target=Order.Status.PAID)
    payment.amount_paid = payment.amount
    payment.last_error = ""
    _record(payment=payment, kind=PaymentEvent.Kind.PAID, amount=payment.amount, actor=actor, note=note)
    return orders_services.order_set_status(order=order, status=Order.Status.PAID, actor=actor, note=note)


@transaction.atomic
def order_cancel(*, order: Order, actor: User | None, note: str = "") -> Order:
    """Cancels a pending or paid order: refunds what was paid in full first, cancels an open
    PaymentIntent, then `orders.services.order_cancel` puts the stock back."""
    order, payment = _lock(order_id=order.pk)
    if not order.can_cancel():
        raise InvalidTransitionError(current=order.status, target=Order.Status.CANCELLED)
    if payment.refundable <= 0 and payment.method == Payment.Method.STRIPE and payment.stripe_payment_intent_id:
        _intent_cancel_or_record_success(order=order, payment=payment)  # or it had just succeeded: then refunded
    if payment.refundable > 0:
        _refund(
            order=order,
            payment=payment,
            amount=payment.refundable,
            reason=note or "Order cancelled.",
            lines=[],
            actor=actor,
            source=Refund.Source.CANCELLATION,
        )
    _record(payment=payment, kind=PaymentEvent.Kind.CANCELLED, actor=actor, note=note)
    return orders_services.order_cancel(order=order, actor=actor, note=note)


def order_set_status(*, order: Order, status: str, actor: User | None, note: str = "") -> Order:
    """Staff status changes: paid and cancelled go through the money; the rest is `orders`' own."""
    if status == Order.Status.PAID:
        return order_mark_paid(order=order, actor=actor, note=note)
    if status == Order.Status.CANCELLED:
        return order_cancel(order=order, actor=actor, note=note)
    return orders_services.order_set_status(order=order, status=status, actor=actor, note=note)


def _intent_cancel_or_record_success(*, order: Order, payment: Payment) -> None:
    """Cancels the PaymentIntent. If Stripe refuses because the card was just charged, records the
    payment instead (the webhook may not have arrived yet). Other failures raise."""
    intent_id = payment.stripe_payment_intent_id
    assert intent_id is not None  # the callers check it
    try:
        stripe_gateway.payment_intent_cancel(intent_id)
    except PaymentProviderUnavailableError:
        intent = stripe_gateway.payment_intent_retrieve(intent_id)
        if intent.status == "canceled":
            return
        if intent.status != "succeeded":
            raise
        _succeeded(order=order, payment=payment, amount=intent.amount, currency=intent.currency, event_id="")


# Expiry


def order_expire(*, order_id: int, now: datetime | None = None) -> bool:
    """Cancels one unpaid order whose time is up; False when it was paid meanwhile or is not due."""
    now = now or timezone.now()
    with transaction.atomic():
        order, payment = _lock(order_id=order_id)
        if (
            order.status != Order.Status.PENDING
            or payment.amount_paid > 0
            or payment.expires_at is None
            or payment.expires_at > now
        ):
            return False
        if payment.method == Payment.Method.STRIPE and payment.stripe_payment_intent_id:
            _intent_cancel_or_record_success(order=order, payment=payment)
            if payment.amount_paid > 0:
                return False  # paid at the last moment: the order is now paid, not expired
        _record(payment=payment, kind=PaymentEvent.Kind.CANCELLED, note="Expired unpaid.")
        orders_services.order_cancel(order=order, actor=None, note="Expired unpaid.")
        return True


def orders_expire_unpaid(*, now: datetime | None = None) -> int:
    """Cancels every pending order whose payment has expired, each in its own transaction; returns how many."""
    now = now or timezone.now()
    due = Payment.objects.filter(order__status=Order.Status.PENDING, amount_paid=0, expires_at__lte=now).values_list(
        "order_id", flat=True
    )
    expired = 0
    for order_id in list(due.order_by("expires_at")):
        try:
            expired += order_expire(order_id=order_id, now=now)
        except Exception:  # one order's provider trouble must not stop the others; the next run retries it
            logger.exception("could not expire order %s", order_id)
    return expired


# Refunds


def refund_fingerprint(*, amount: Decimal | None, lines: list[dict[str, Any]], reason: str) -> str:
    canonical = json.dumps(
        {"amount": str(amount) if amount is not None else None, "lines": lines, "reason": reason},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def refund_create(
    *,
    order: Order,
    actor: User | None,
    reason: str,
    amount: Decimal | None = None,
    lines: list[dict[str, Any]] | None = None,
    idempotency_key: str | None = None,
) -> Refund:
    """Staff refund part or all of what was paid, by amount or by lines (`{book_id, quantity, restock}`).

    `amount` defaults to the lines' gross total, their tax included (`_line_gross`). Lines with
    `restock` go back to stock through the ledger (reason `return`), for shipped or delivered
    orders (before shipping the copies never left: cancel the order instead). Raises
    `RefundExceedsPaidError` when the refunds would exceed what was paid; Stripe orders are
    refunded through Stripe first.
    """
    lines = lines or []
    order, payment = _lock(order_id=order.pk)
    fingerprint = refund_fingerprint(amount=amount, lines=lines, reason=reason)
    if idempotency_key is not None:
        existing = payment.refunds.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.request_fingerprint != fingerprint:
                raise IdempotencyKeyReusedError()
            return existing
    refund_lines, lines_total = _refund_lines(order=order, payment=payment, lines=lines)
    amount = lines_total if amount is None else amount
    if amount <= 0:
        raise InvalidRefundError("Name an amount or at least one line to refund.", attr="amount")
    return _refund(
        order=order,
        payment=payment,
        amount=amount,
        reason=reason,
        lines=refund_lines,
        actor=actor,
        source=Refund.Source.STAFF,
        idempotency_key=idempotency_key or "",
        fingerprint=fingerprint if idempotency_key is not None else "",
    )


def _refund_lines(
    *, order: Order, payment: Payment, lines: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], Decimal]:
    ordered = {line.book_id: line for line in OrderLine.objects.filter(order=order)}
    returned: Counter[int] = Counter()
    for refund in payment.refunds.all():
        for line in refund.lines:
            returned[line["book_id"]] += line["quantity"]
    result: list[dict[str, Any]] = []
    total = ZERO
    for index, line in enumerate(lines):
        book_id, quantity = line["book_id"], line["quantity"]
        if book_id not in ordered:
            raise InvalidRefundError("This book is not in the order.", attr=f"lines.{index}.book_id")
        left = ordered[book_id].quantity - returned[book_id]
        if quantity > left:
            raise InvalidRefundError(
                f"At most {left} of this book can still be refunded.",
                attr=f"lines.{index}.quantity",
                meta={"book_id": book_id, "requested": quantity, "available": left},
            )
        if line.get("restock") and order.status not in (Order.Status.SHIPPED, Order.Status.DELIVERED):
            raise InvalidRefundError(
                "Only copies of a shipped order come back to stock; cancel an order that has not shipped.",
                attr=f"lines.{index}.restock",
            )
        total += _line_gross(ordered[book_id], before=returned[book_id], quantity=quantity, order=order)
        returned[book_id] += quantity
        result.append({"book_id": book_id, "quantity": quantity, "restocked": bool(line.get("restock"))})
    return result, total


def _line_gross(line: OrderLine, *, before: int, quantity: int, order: Order) -> Decimal:
    """What `quantity` more copies of an order line cost the buyer, tax included.

    The line's tax is shared out by cumulative rounding (the copies refunded so far, then with
    these), so refunding every copy, in any number of refunds, gives back exactly the line's
    `line_total` and `tax_amount`. Inclusive prices already hold their tax.
    """
    net = line.unit_price * quantity
    if order.prices_include_tax or not line.tax_amount:
        return net
    tax_of_first = lambda copies: cents(line.tax_amount * copies / line.quantity)  # noqa: E731
    return net + tax_of_first(before + quantity) - tax_of_first(before)


def _refund(
    *,
    order: Order,
    payment: Payment,
    amount: Decimal,
    reason: str,
    lines: list[dict[str, Any]],
    actor: User | None,
    source: str,
    idempotency_key: str = "",
    fingerprint: str = "",
    stripe_refund_id: str | None = None,
    event_id: str = "",
) -> Refund:
    """Records a refund on a locked payment (through Stripe for a card payment made here), restocks, emails."""
    if amount > payment.refundable:
        raise RefundExceedsPaidError(requested=amount, refundable=payment.refundable)
    if (
        payment.method == Payment.Method.STRIPE
        and source != Refund.Source.STRIPE_DASHBOARD
        and payment.stripe_payment_intent_id
    ):
        stripe_refund = stripe_gateway.refund_create(
            payment_intent_id=payment.stripe_payment_intent_id,
            amount=amount,
            currency=payment.currency,
            key=f"{payment.pk}-{payment.refunds.count() + 1}",
        )
        stripe_refund_id = stripe_refund.id
    restock = {line["book_id"]: line["quantity"] for line in lines if line["restocked"]}
    if restock:
        stock_apply(
            changes=restock,
            reason=StockMovement.Reason.RETURN,
            actor=actor,
            order_reference=order.number,
            note=reason[:255],
        )
    refund = Refund.objects.create(
        payment=payment,
        order=order,
        amount=amount,
        reason=reason[:500],
        lines=lines,
        source=source,
        stripe_refund_id=stripe_refund_id,
        actor=actor,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )
    payment.amount_refunded += amount
    _record(
        payment=payment, kind=PaymentEvent.Kind.REFUNDED, amount=amount, actor=actor, event_id=event_id, note=reason
    )
    email_enqueue(
        to=order.email_to,
        subject=f"A refund on your Bookstore order {order.number}",
        body=(
            f"We have refunded {amount} {payment.currency} on your order {order.number}.\n\n"
            f"Reason: {reason}\n\nIn all, {payment.amount_refunded} {payment.currency} of "
            f"{payment.amount_paid} {payment.currency} has been refunded.\n"
        ),
    )
    return refund


# Stripe's webhook


def stripe_webhook_handle(*, payload: bytes, signature: str) -> str:
    """Verifies and applies one webhook event, once; returns what happened (for the log)."""
    stripe_gateway.event_construct(payload=payload, signature=signature)  # raises WebhookSignatureError
    event = json.loads(payload)
    event_id, kind = event["id"], event["type"]
    obj = event.get("data", {}).get("object", {})
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(event_id=event_id, type=kind[:100])
        except IntegrityError:
            return "replay"
        handler = _HANDLERS.get(kind)
        if handler is None:
            return "ignored"
        intent_id = obj.get("payment_intent") if obj.get("object") == "charge" else obj.get("id")
        order_id = Payment.objects.filter(stripe_payment_intent_id=intent_id).values_list("order_id", flat=True).first()
        if intent_id is None or order_id is None:
            logger.info("stripe event %s (%s) for an unknown PaymentIntent %s: ignored", event_id, kind, intent_id)
            return "unknown"
        order, payment = _lock(order_id=order_id)
        handler(order=order, payment=payment, obj=obj, event_id=event_id)
        return "applied"


def _succeeded(*, order: Order, payment: Payment, amount: int, currency: str, event_id: str) -> None:
    """The card was charged. Marks the order paid, or refunds in full at once if it was cancelled meanwhile."""
    if payment.amount_paid > 0:
        return  # already recorded (another event, or the expiry's check)
    expected = stripe_gateway.to_minor_units(payment.amount, payment.currency)
    if amount != expected or currency.lower() != payment.currency.lower():
        note = (
            f"Stripe reported {amount} {currency.upper()} for an order of {expected} {payment.currency} (minor units)."
        )
        payment.last_error = note
        _record(payment=payment, kind=PaymentEvent.Kind.MISMATCH, event_id=event_id, note=note)
        _alert_staff(order=order, text=note)
        return
    payment.amount_paid = payment.amount
    payment.last_error = ""
    _record(
        payment=payment, kind=PaymentEvent.Kind.PAID, amount=payment.amount, event_id=event_id, note="Paid by card."
    )
    if order.status == Order.Status.PENDING:
        orders_services.order_set_status(order=order, status=Order.Status.PAID, actor=None, note="Paid by card.")
    elif order.status == Order.Status.CANCELLED:
        _refund(
            order=order,
            payment=payment,
            amount=payment.refundable,
            reason="The payment arrived after the order was cancelled.",
            lines=[],
            actor=None,
            source=Refund.Source.CANCELLATION,
            event_id=event_id,
        )


def _on_intent_succeeded(*, order: Order, payment: Payment, obj: dict[str, Any], event_id: str) -> None:
    _succeeded(
        order=order,
        payment=payment,
        amount=obj.get("amount_received") or obj.get("amount", 0),
        currency=obj.get("currency", ""),
        event_id=event_id,
    )


def _on_intent_failed(*, order: Order, payment: Payment, obj: dict[str, Any], event_id: str) -> None:
    if payment.amount_paid > 0 or order.status != Order.Status.PENDING:
        return  # a late failure of an earlier attempt changes nothing once paid or cancelled
    error = obj.get("last_payment_error") or {}
    payment.last_error = (error.get("message") or error.get("code") or "The card payment failed.")[:500]
    _record(payment=payment, kind=PaymentEvent.Kind.FAILED, event_id=event_id, note=payment.last_error)
    email_enqueue(
        to=order.email_to,
        subject=f"The payment for your Bookstore order {order.number} did not go through",
        body=(
            f"Your card payment for order {order.number} failed: {payment.last_error}\n\n"
            "You can try again with another card until the order expires.\n"
        ),
    )


def _on_charge_refunded(*, order: Order, payment: Payment, obj: dict[str, Any], event_id: str) -> None:
    """A refund made in Stripe's dashboard (ours are already recorded: only the difference counts)."""
    currency = obj.get("currency", payment.currency)
    if payment.amount_paid == 0 and obj.get("paid"):
        _succeeded(order=order, payment=payment, amount=obj.get("amount", 0), currency=currency, event_id=event_id)
        if payment.amount_paid == 0:
            return
    refunded = stripe_gateway.from_minor_units(obj.get("amount_refunded", 0), currency)
    missing = min(refunded - payment.amount_refunded, payment.refundable)
    if missing <= 0:
        return
    known = set(payment.refunds.exclude(stripe_refund_id=None).values_list("stripe_refund_id", flat=True))
    new_ids = [r["id"] for r in (obj.get("refunds") or {}).get("data", []) if r.get("id") not in known]
    _refund(
        order=order,
        payment=payment,
        amount=missing,
        reason="Refunded in Stripe's dashboard.",
        lines=[],
        actor=None,
        source=Refund.Source.STRIPE_DASHBOARD,
        stripe_refund_id=new_ids[0] if len(new_ids) == 1 else None,
        event_id=event_id,
    )


_HANDLERS = {
    "payment_intent.succeeded": _on_intent_succeeded,
    "payment_intent.payment_failed": _on_intent_failed,
    "charge.refunded": _on_charge_refunded,
}


def _alert_staff(*, order: Order, text: str) -> None:
    logger.error("payment alert on order %s: %s", order.number, text)
    for email in User.objects.filter(is_staff=True, is_active=True).values_list("email", flat=True):
        email_enqueue(to=email, subject=f"Payment alert: order {order.number}", body=f"{text}\n\nOrder {order.number}.")
