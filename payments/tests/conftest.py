"""Stripe for the payments' unit tests: test keys, and the SDK calls replaced by a recorder.

The journey tests (`test_localstripe.py`) use none of this: they run the real SDK against localstripe.
"""

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from types import SimpleNamespace

import pytest
import stripe

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


# localstripe: a stateful Stripe stand-in, run for the journey tests


LOCALSTRIPE_SECRET = "sk_test_localstripe"
LOCALSTRIPE_WEBHOOK_SECRET = "whsec_localstripe"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _unavailable(reason: str):
    """Skips on a developer's machine without localstripe; fails under CI (REQUIRE_POSTGRES=1)."""
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"localstripe is needed here: {reason}")
    pytest.skip(f"localstripe unavailable: {reason}")


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory):
    """Starts localstripe on a free local port for the session; yields its base URL."""
    if importlib.util.find_spec("localstripe") is None:
        _unavailable("the package is not installed (requirements-dev.txt)")
    port = _free_port()
    log = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=log.parent,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):  # up to 10 s
            if process.poll() is not None:
                _unavailable(f"it exited with {process.returncode}: {log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"{url}/js.stripe.com/v3/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            _unavailable("it did not answer within 10 seconds")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def localstripe(localstripe_url, live_server, settings):
    """The store's SDK pointed at localstripe, and localstripe's webhooks pointed at the live store."""
    settings.STRIPE_SECRET_KEY = LOCALSTRIPE_SECRET
    settings.STRIPE_WEBHOOK_SECRET = LOCALSTRIPE_WEBHOOK_SECRET
    settings.STRIPE_API_BASE = localstripe_url
    body = urllib.parse.urlencode(
        {"url": f"{live_server.url}/api/v1/payments/stripe/webhook", "secret": LOCALSTRIPE_WEBHOOK_SECRET}
    ).encode()
    request = urllib.request.Request(
        f"{localstripe_url}/_config/webhooks/bookstore",
        data=body,
        headers={"Authorization": f"Bearer {LOCALSTRIPE_SECRET}"},
    )
    urllib.request.urlopen(request, timeout=10).close()
    return SimpleNamespace(
        url=localstripe_url,
        live_url=live_server.url,
        client=stripe.StripeClient(LOCALSTRIPE_SECRET, base_addresses={"api": localstripe_url}),
    )
