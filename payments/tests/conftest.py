"""Stripe for the payments' unit tests: test keys, and the SDK calls replaced by a recorder.

The journey tests (`test_localstripe.py`) use none of this: they run the real SDK against localstripe.
"""

from types import SimpleNamespace

import pytest

from payments import stripe_gateway
from payments.exceptions import PaymentProviderUnavailableError

WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
def stripe_keys(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_bookstore"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return settings


class FakeStripe:
    """Records the store's calls to Stripe and answers as Stripe would; `fail` makes every call fail."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.fail = False
        self.intent_status: dict[str, str] = {}
        self.cancel_fails = False

    def _check(self, *call):
        self.calls.append(call)
        if self.fail:
            raise PaymentProviderUnavailableError()

    def payment_intent_create(self, *, amount, currency, order_number):
        self._check("create", amount, currency, order_number)
        intent_id = f"pi_{order_number}"
        self.intent_status[intent_id] = "requires_payment_method"
        return SimpleNamespace(id=intent_id, client_secret=f"{intent_id}_secret_x", status="requires_payment_method")

    def payment_intent_cancel(self, intent_id):
        self._check("cancel", intent_id)
        if self.cancel_fails or self.intent_status.get(intent_id) == "succeeded":
            raise PaymentProviderUnavailableError()
        self.intent_status[intent_id] = "canceled"
        return SimpleNamespace(id=intent_id, status="canceled")

    def payment_intent_retrieve(self, intent_id):
        self._check("retrieve", intent_id)
        status = self.intent_status.get(intent_id, "requires_payment_method")
        amount = getattr(self, "amounts", {}).get(intent_id, 0)
        return SimpleNamespace(id=intent_id, status=status, amount=amount, currency="usd")

    def refund_create(self, *, payment_intent_id, amount, currency, key):
        self._check("refund", payment_intent_id, amount, key)
        return SimpleNamespace(id=f"re_{key}", amount=amount)

    def of(self, kind: str) -> list[tuple]:
        return [call for call in self.calls if call[0] == kind]


@pytest.fixture
def fake_stripe(stripe_keys, monkeypatch):
    fake = FakeStripe()
    for name in ("payment_intent_create", "payment_intent_cancel", "payment_intent_retrieve", "refund_create"):
        monkeypatch.setattr(stripe_gateway, name, getattr(fake, name))
    return fake
