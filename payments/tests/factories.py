"""Orders with their payment, built the way customers build them: a cart, then checkout."""

import hashlib
import hmac
import json
import time
from itertools import count

from catalog.tests.factories import BookFactory
from orders.models import Order
from orders.tests.factories import ADDRESS, cart_with
from payments import services
from payments.models import Payment

_event_ids = count(1)


def order_checked_out(*, user, lines=None, method: str = "manual", paid: bool = False, actor=None) -> Order:
    """An order placed through `payments.services.order_checkout`; `paid` records a manual payment by `actor`."""
    cart_with(user, *(lines or [(BookFactory(), 1)]))
    order = services.order_checkout(user=user, address=dict(ADDRESS), payment_method=method)
    if paid:
        order = services.order_mark_paid(order=order, actor=actor, note="Bank transfer received.")
    return Order.objects.select_related("payment").get(pk=order.pk)


def stripe_event(type_: str, obj: dict, *, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_test_{next(_event_ids)}",
        "object": "event",
        "type": type_,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def intent_object(payment: Payment, *, amount: int | None = None, currency: str | None = None, **extra) -> dict:
    cents = int(payment.amount * 100)
    return {
        "id": payment.stripe_payment_intent_id,
        "object": "payment_intent",
        "amount": cents if amount is None else amount,
        "amount_received": cents if amount is None else amount,
        "currency": (currency or payment.currency).lower(),
        "status": "succeeded",
        **extra,
    }


def charge_object(payment: Payment, *, refunded: int, refund_ids=()) -> dict:
    cents = int(payment.amount * 100)
    return {
        "id": "ch_test_1",
        "object": "charge",
        "payment_intent": payment.stripe_payment_intent_id,
        "amount": cents,
        "amount_refunded": refunded,
        "currency": payment.currency.lower(),
        "paid": True,
        "refunded": refunded >= cents,
        "refunds": {"object": "list", "data": [{"id": rid, "object": "refund"} for rid in refund_ids]},
    }


def signed(event: dict, secret: str, *, timestamp: int | None = None) -> tuple[bytes, str]:
    """The body and the `Stripe-Signature` header Stripe would send for `event`."""
    payload = json.dumps(event).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={timestamp},v1={signature}"
