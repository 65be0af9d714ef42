"""Card payments end to end against localstripe, a running Stripe stand-in: no stub anywhere.

The store talks to localstripe through the Stripe SDK; the test plays Stripe.js (a test card is
attached to the order's PaymentIntent, which is then confirmed) and localstripe's own signed
webhook, sent to the live store, marks the order paid. Events localstripe does not send (a
refund made in Stripe's dashboard) are signed and posted the way Stripe would.
"""

import time
from decimal import Decimal

import httpx
import pytest
import stripe
from django.utils import timezone

from catalog.models import Book
from catalog.tests.factories import BookFactory
from orders.models import Order
from orders.tests.factories import ADDRESS, cart_with
from payments import services
from payments.models import Payment, Refund
from payments.tests.conftest import LOCALSTRIPE_WEBHOOK_SECRET
from payments.tests.factories import charge_object, signed, stripe_event

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = "/api/v1/orders"


def wait_for(predicate, *, seconds: float = 20):
    """Polls until `predicate()` is truthy (localstripe sends its webhooks about a second later)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the webhook")


def card_checkout(client, user, *, price=Decimal("40.00"), stock=3):
    book = BookFactory(price=price, stock=stock)
    cart_with(user, (book, 1))
    response = client.post(ORDERS, {"shipping_address": ADDRESS, "payment_method": "stripe"}, format="json")
    assert response.status_code == 201, response.content
    return response.json(), book


def pay_as_stripe_js(localstripe, client_secret: str, card_number: str = "4242424242424242"):
    """What the shop's Stripe.js does with `payment.client_secret`: attach a card, then confirm."""
    intent_id = client_secret.split("_secret_")[0]
    card = {"number": card_number, "exp_month": 12, "exp_year": timezone.now().year + 2, "cvc": "123"}
    method = localstripe.client.v1.payment_methods.create(params={"type": "card", "card": card})
    localstripe.client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
    return localstripe.client.v1.payment_intents.confirm(intent_id)


def test_a_card_order_is_paid_by_localstripes_webhook_then_refunded_in_part(
    localstripe, user_client, user, staff_client
):
    order, book = card_checkout(user_client, user)
    intent_id = Payment.objects.get(pk=Payment.objects.get(order_id=order["id"]).pk).stripe_payment_intent_id
    intent = localstripe.client.v1.payment_intents.retrieve(intent_id)
    assert (intent.amount, intent.currency, intent.status) == (4000, "usd", "requires_payment_method")
    assert intent.metadata["order_number"] == order["number"]

    confirmed = pay_as_stripe_js(localstripe, order["payment"]["client_secret"])

    assert confirmed.status == "succeeded"
    paid = wait_for(lambda: (body := user_client.get(f"{ORDERS}/{order['id']}").json())["status"] == "paid" and body)
    assert paid["payment"]["status"] == "paid"
    assert paid["payment"]["amount_paid"] == "40.00"
    assert paid["payment"]["client_secret"] is None  # nothing left to confirm
    assert Book.objects.get(pk=book.pk).stock == 2

    refund = staff_client.post(f"{ORDERS}/{order['id']}/refunds", {"amount": "15.00", "reason": "Late"}, format="json")
    too_much = staff_client.post(f"{ORDERS}/{order['id']}/refunds", {"amount": "25.01", "reason": "x"}, format="json")

    assert refund.status_code == 201, refund.content
    assert too_much.status_code == 409
    stripe_refunds = localstripe.client.v1.refunds.list(params={"payment_intent": intent_id})
    assert [r.amount for r in stripe_refunds.data] == [1500]
    assert Refund.objects.get().stripe_refund_id == stripe_refunds.data[0].id


def test_a_refund_made_in_the_dashboard_reaches_the_store_once(localstripe, user_client, user):
    order, _ = card_checkout(user_client, user)
    pay_as_stripe_js(localstripe, order["payment"]["client_secret"])
    wait_for(lambda: Order.objects.get(pk=order["id"]).status == "paid")
    payment = Payment.objects.get(order_id=order["id"])
    dashboard = localstripe.client.v1.refunds.create(
        params={"payment_intent": payment.stripe_payment_intent_id, "amount": 4000}
    )
    # localstripe sends no charge.refunded: post it, signed, as Stripe would, twice.
    event = stripe_event("charge.refunded", charge_object(payment, refunded=4000, refund_ids=[dashboard.id]))
    payload, signature = signed(event, LOCALSTRIPE_WEBHOOK_SECRET)
    webhook = f"{localstripe.live_url}/api/v1/payments/stripe/webhook"
    headers = {"Stripe-Signature": signature, "Content-Type": "application/json"}

    statuses = [httpx.post(webhook, content=payload, headers=headers, timeout=10).status_code for _ in range(2)]
    forged = httpx.post(webhook, content=payload, headers={**headers, "Stripe-Signature": "t=1,v1=00"}, timeout=10)

    assert statuses == [200, 200]
    assert forged.status_code == 400
    body = user_client.get(f"{ORDERS}/{order['id']}").json()
    assert (body["payment"]["status"], body["payment"]["amount_refunded"]) == ("refunded", "40.00")
    assert [r["amount"] for r in body["refunds"]] == ["40.00"]
    assert Refund.objects.get().source == "stripe_dashboard"


def test_a_declined_card_leaves_the_order_payable_with_the_error(localstripe, user_client, user, mailoutbox):
    order, _ = card_checkout(user_client, user)

    with pytest.raises(stripe.CardError):
        pay_as_stripe_js(localstripe, order["payment"]["client_secret"], card_number="4000000000000341")

    body = wait_for(
        lambda: (body := user_client.get(f"{ORDERS}/{order['id']}").json())["payment"]["last_error"] and body
    )
    assert body["status"] == "pending"
    assert body["payment"]["status"] == "unpaid"
    assert any("did not go through" in m.subject for m in mailoutbox)


def test_expiry_cancels_the_intent_at_stripe_and_restocks(localstripe, user_client, user):
    order, book = card_checkout(user_client, user, stock=1)
    Payment.objects.filter(order_id=order["id"]).update(expires_at=timezone.now())

    assert services.orders_expire_unpaid() == 1

    payment = Payment.objects.get(order_id=order["id"])
    assert localstripe.client.v1.payment_intents.retrieve(payment.stripe_payment_intent_id).status == "canceled"
    assert Order.objects.get(pk=order["id"]).status == "cancelled"
    assert Book.objects.get(pk=book.pk).stock == 1


def test_a_retried_checkout_reuses_the_intent(localstripe, user_client, user):
    cart_with(user, (BookFactory(), 1))
    body = {"shipping_address": ADDRESS, "payment_method": "stripe"}

    first = user_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1").json()
    again = user_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1").json()

    assert first["payment"]["client_secret"] == again["payment"]["client_secret"]
    assert Payment.objects.count() == 1


@pytest.mark.postgres
def test_stripe_is_called_after_checkout_commits_with_no_row_locked(localstripe, user_client, user, monkeypatch):
    """While the PaymentIntent is created, another buyer can lock the book's row at once: checkout holds no lock."""
    import threading

    from django.db import connection, transaction

    from payments import stripe_gateway

    book = BookFactory(stock=3)
    cart_with(user, (book, 1))
    seen = {}
    real_create = stripe_gateway.payment_intent_create

    def create_and_probe(**kwargs):
        def probe():
            try:
                with transaction.atomic():
                    locked = Book.objects.select_for_update(nowait=True).get(pk=book.pk)
                    seen["stock"] = locked.stock  # committed: the sale is visible to others
                    seen["order"] = Order.objects.filter(number=kwargs["order_number"]).exists()
            except Exception as error:
                seen["error"] = repr(error)
            finally:
                connection.close()

        thread = threading.Thread(target=probe)
        thread.start()
        thread.join(timeout=30)
        return real_create(**kwargs)

    monkeypatch.setattr(stripe_gateway, "payment_intent_create", create_and_probe)

    response = user_client.post(ORDERS, {"shipping_address": ADDRESS, "payment_method": "stripe"}, format="json")

    assert response.status_code == 201, response.content
    assert seen == {"stock": 2, "order": True}
    assert response.json()["payment"]["client_secret"].startswith("pi_")
    payment = Payment.objects.get(order_id=response.json()["id"])
    assert (
        localstripe.client.v1.payment_intents.retrieve(payment.stripe_payment_intent_id).amount == 1749
    )  # 12.50 and 4.99 shipping
