"""The store's calls to Stripe, through Stripe's own SDK; every failure becomes `PaymentProviderUnavailableError`.

Only parameters that both Stripe and localstripe (the stand-in the tests run) accept are sent.
Every call that creates something carries an idempotency key derived from the store's own row,
so the SDK's retries and a retried request never create two.
"""

import logging
from decimal import Decimal
from typing import TYPE_CHECKING

import stripe
from django.conf import settings

from payments.exceptions import PaymentProviderUnavailableError, WebhookSignatureError

if TYPE_CHECKING:
    from stripe._base_address import BaseAddresses

logger = logging.getLogger(__name__)

WEBHOOK_TOLERANCE_SECONDS = 300
# ISO 4217 currencies that Stripe counts in whole units (no cents).
ZERO_DECIMAL_CURRENCIES = {
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
}  # fmt: skip


def stripe_enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """12.50 USD → 1250; Stripe counts money in the currency's smallest unit."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2
    return int((amount * 10**exponent).to_integral_value())


def from_minor_units(amount: int, currency: str) -> Decimal:
    exponent = 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2
    return (Decimal(amount) / 10**exponent).quantize(Decimal("0.01"))


def _client() -> stripe.StripeClient:
    base: BaseAddresses | None = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses=base,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT),
        max_network_retries=2,  # with the same idempotency key
    )


def _call(what: str, function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except stripe.StripeError as error:
        logger.warning("stripe %s failed: %s %s", what, type(error).__name__, getattr(error, "code", None))
        raise PaymentProviderUnavailableError() from error


def payment_intent_create(*, amount: Decimal, currency: str, order_number: str) -> stripe.PaymentIntent:
    return _call(
        "payment_intent.create",
        _client().v1.payment_intents.create,
        params={
            "amount": to_minor_units(amount, currency),
            "currency": currency.lower(),
            "payment_method_types": ["card"],
            "metadata": {"order_number": order_number},
        },
        options={"idempotency_key": f"bookstore-order-{order_number}"},
    )


def payment_intent_retrieve(payment_intent_id: str) -> stripe.PaymentIntent:
    return _call("payment_intent.retrieve", _client().v1.payment_intents.retrieve, payment_intent_id)


def payment_intent_cancel(payment_intent_id: str) -> stripe.PaymentIntent:
    return _call("payment_intent.cancel", _client().v1.payment_intents.cancel, payment_intent_id)


def refund_create(*, payment_intent_id: str, amount: Decimal, currency: str, key: str) -> stripe.Refund:
    return _call(
        "refund.create",
        _client().v1.refunds.create,
        params={"payment_intent": payment_intent_id, "amount": to_minor_units(amount, currency)},
        options={"idempotency_key": f"bookstore-refund-{key}"},
    )


def event_construct(*, payload: bytes, signature: str) -> stripe.Event:
    """The event, once its `Stripe-Signature` matches `STRIPE_WEBHOOK_SECRET` within 5 minutes."""
    if not signature:
        raise WebhookSignatureError()
    try:
        return stripe.Webhook.construct_event(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise WebhookSignatureError() from error
