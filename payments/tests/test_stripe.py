"""Card payments with the Stripe SDK stubbed (`fake_stripe`), and the webhook with signed events.

The same flows against a running Stripe stand-in, with no stub: `test_localstripe.py`.
"""

import json
import time
from decimal import Decimal

import pytest
import stripe
from django.db import connection

from catalog.models import Book, StockMovement
from catalog.tests.factories import BookFactory
from orders.models import Order
from orders.tests.factories import ADDRESS, cart_with
from payments.models import Payment, PaymentEvent, Refund, StripeEvent
from payments.tests.conftest import WEBHOOK_SECRET
from payments.tests.factories import charge_object, intent_object, order_checked_out, signed, stripe_event

pytestmark = pytest.mark.django_db

# The order with its first history line, the payment with its first event: on PostgreSQL one INSERT
# each pair (bookstore.inserts), elsewhere two: these are the statements SQLite adds.
PAIRED_INSERTS = 0 if connection.vendor == "postgresql" else 2


ORDERS = "/api/v1/orders"
WEBHOOK = "/api/v1/payments/stripe/webhook"


def error_codes(response) -> list[tuple[str, str | None]]:
    return [(error["code"], error["attr"]) for error in response.json()["errors"]]


def deliver(client, event: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None, header=None):
    payload, signature = signed(event, secret, timestamp=timestamp)
    headers = {} if header is False else {"HTTP_STRIPE_SIGNATURE": header or signature}
    return client.post(WEBHOOK, payload, content_type="application/json", **headers)


@pytest.fixture
def card_order(user, fake_stripe):
    return order_checked_out(user=user, method="stripe", lines=[(BookFactory(price=Decimal("40.00"), stock=3), 1)])


# Checkout


def test_card_checkout_creates_one_intent_and_shows_its_secret_to_the_owner_alone(
    user_client, user, staff_client, fake_stripe
):
    cart_with(user, (BookFactory(price=Decimal("12.50")), 2))

    response = user_client.post(ORDERS, {"shipping_address": ADDRESS, "payment_method": "stripe"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert fake_stripe.of("create") == [("create", Decimal("29.99"), "USD", body["number"])]
    assert body["payment"]["method"] == "stripe"
    assert body["payment"]["client_secret"] == f"pi_{body['number']}_secret_x"
    assert body["payment"]["instructions"] is None
    assert body["expires_at"] is not None
    assert user_client.get(f"{ORDERS}/{body['id']}").json()["payment"]["client_secret"] is not None
    assert staff_client.get(f"{ORDERS}/{body['id']}").json()["payment"]["client_secret"] is None


def test_a_retried_card_checkout_creates_no_second_intent(user_client, user, fake_stripe):
    cart_with(user, (BookFactory(), 1))
    body = {"shipping_address": ADDRESS, "payment_method": "stripe"}

    first = user_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = user_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    manual = user_client.post(ORDERS, {**body, "payment_method": "manual"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["payment"] == first.json()["payment"]
    assert len(fake_stripe.of("create")) == 1
    assert manual.status_code == 409
    assert error_codes(manual) == [("idempotency_key_reused", None)]


def test_stripe_unreachable_at_checkout_is_a_503_and_gives_back_stock_and_cart(
    user_client, user, stripe_keys, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    stripe_keys.STRIPE_API_BASE = "http://127.0.0.1:9"  # the discard port: nothing listens, the real SDK fails
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0)  # it retries at once rather than after 0.5 s, 1 s
    book = BookFactory(stock=2)
    cart_with(user, (book, 1))

    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(ORDERS, {"shipping_address": ADDRESS, "payment_method": "stripe"}, format="json")

    assert response.status_code == 503
    assert error_codes(response) == [("payment_provider_unavailable", None)]
    assert Book.objects.get(pk=book.pk).stock == 2
    assert user_client.get("/api/v1/cart").json()["items"][0]["quantity"] == 1
    assert mailoutbox == []  # neither a confirmation nor a cancellation
    # The attempt is on the books: a cancelled order with its sale and its return, the payment's error.
    order = Order.objects.get()
    assert order.status == "cancelled"
    assert sorted(StockMovement.objects.filter(book=book).values_list("reason", "delta")) == [
        ("cancellation", 1),
        ("sale", -1),
    ]
    payment = Payment.objects.get(order=order)
    assert "could not be started" in payment.last_error and payment.stripe_payment_intent_id is None


def test_a_retry_with_the_same_key_after_stripe_failed_places_a_new_order(user_client, user, fake_stripe):
    book = BookFactory(stock=2)
    cart_with(user, (book, 1))
    body = {"shipping_address": ADDRESS, "payment_method": "stripe"}
    fake_stripe.fail = True
    assert user_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="again").status_code == 503
    fake_stripe.fail = False

    retry = user_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="again")

    assert retry.status_code == 201, retry.content
    assert retry.json()["status"] == "pending" and retry.json()["payment"]["client_secret"]
    assert Book.objects.get(pk=book.pk).stock == 1
    assert sorted(Order.objects.values_list("status", flat=True)) == ["cancelled", "pending"]


def test_a_guest_card_checkout_that_stripe_fails_keeps_the_guests_cart(api_client, fake_stripe):
    book = BookFactory(stock=3)
    token = api_client.post("/api/v1/cart/items", {"book_id": book.pk, "quantity": 2}).json()["cart_token"]
    fake_stripe.fail = True

    response = api_client.post(
        ORDERS,
        {"shipping_address": ADDRESS, "email": "g@example.com", "payment_method": "stripe"},
        format="json",
        HTTP_CART_TOKEN=token,
    )

    assert response.status_code == 503
    assert [
        (i["book"]["id"], i["quantity"]) for i in api_client.get("/api/v1/cart", HTTP_CART_TOKEN=token).json()["items"]
    ] == [(book.pk, 2)]
    assert Book.objects.get(pk=book.pk).stock == 3


# The webhook: signatures and replays


@pytest.mark.parametrize(
    "tamper",
    [
        {"header": False},
        {"header": "garbage"},
        {"secret": "whsec_someone_else"},
        {"timestamp": int(time.time()) - 301},
        {"header": "t=1,v1=" + "0" * 64},
    ],
)
def test_a_missing_or_bad_signature_is_a_400_and_changes_nothing(api_client, card_order, tamper):
    payment = card_order.payment

    response = deliver(api_client, stripe_event("payment_intent.succeeded", intent_object(payment)), **tamper)

    assert response.status_code == 400
    assert error_codes(response) == [("invalid_signature", None)]
    assert Order.objects.get(pk=card_order.pk).status == "pending"
    assert not StripeEvent.objects.exists()


def test_a_tampered_body_is_refused(api_client, card_order):
    event = stripe_event("payment_intent.succeeded", intent_object(card_order.payment))
    payload, signature = signed(event, WEBHOOK_SECRET)
    forged = payload.replace(b'"amount": 4000', b'"amount": 1')

    response = api_client.post(WEBHOOK, forged, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)

    assert response.status_code == 400


def test_the_webhook_is_not_found_while_stripe_is_off(api_client):
    response = deliver(api_client, stripe_event("payment_intent.succeeded", {"id": "pi_x"}))

    assert response.status_code == 404


def test_succeeded_marks_the_order_paid_once_however_often_it_comes(
    api_client, card_order, mailoutbox, django_capture_on_commit_callbacks
):
    event = stripe_event("payment_intent.succeeded", intent_object(card_order.payment))

    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(api_client, event)
        replay = deliver(api_client, event)
        other_id = deliver(api_client, {**event, "id": "evt_another_delivery"})

    assert [first.status_code, replay.status_code, other_id.status_code] == [200, 200, 200]
    order = Order.objects.get(pk=card_order.pk)
    assert order.status == "paid"
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.amount_paid) == ("paid", Decimal("40.00"))
    assert payment.events.filter(kind="paid").get().stripe_event_id == event["id"]
    assert [m.subject for m in mailoutbox] == [f"Your Bookstore order {order.number} is paid"]


def test_an_unknown_payment_intent_is_ignored(api_client, card_order):
    response = deliver(api_client, stripe_event("payment_intent.succeeded", {"id": "pi_unknown", "amount": 1}))

    assert response.status_code == 200
    assert Order.objects.get(pk=card_order.pk).status == "pending"


def test_an_unhandled_event_type_is_a_200(api_client, stripe_keys):
    assert deliver(api_client, stripe_event("customer.created", {"id": "cus_1"})).status_code == 200


@pytest.mark.parametrize("amount, currency", [(3999, "usd"), (4000, "eur")])
def test_a_payment_of_another_amount_leaves_the_order_unpaid_and_alerts_staff(
    api_client, card_order, staff_user, amount, currency, mailoutbox, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        obj = intent_object(card_order.payment, amount=amount, currency=currency)
        response = deliver(api_client, stripe_event("payment_intent.succeeded", obj))

    assert response.status_code == 200
    assert Order.objects.get(pk=card_order.pk).status == "pending"
    assert Payment.objects.get(order=card_order).amount_paid == 0
    assert PaymentEvent.objects.filter(payment__order=card_order, kind="amount_mismatch").count() == 1
    assert [m.to for m in mailoutbox] == [[staff_user.email]]
    assert "payment alert" in caplog.text


def test_a_failed_payment_records_the_error_and_tells_the_customer(
    api_client, user_client, card_order, mailoutbox, django_capture_on_commit_callbacks
):
    obj = intent_object(card_order.payment, last_payment_error={"code": "card_declined", "message": "Declined."})
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(api_client, stripe_event("payment_intent.payment_failed", obj))

    assert response.status_code == 200
    body = user_client.get(f"{ORDERS}/{card_order.pk}").json()
    assert (body["status"], body["payment"]["status"], body["payment"]["last_error"]) == (
        "pending",
        "unpaid",
        "Declined.",
    )
    assert body["payment"]["client_secret"] is not None  # still payable until it expires
    assert mailoutbox[0].subject == f"The payment for your Bookstore order {card_order.number} did not go through"


def test_a_failure_arriving_after_success_changes_nothing(api_client, card_order):
    deliver(api_client, stripe_event("payment_intent.succeeded", intent_object(card_order.payment)))

    deliver(api_client, stripe_event("payment_intent.payment_failed", intent_object(card_order.payment)))

    payment = Payment.objects.get(order=card_order)
    assert (payment.status, payment.last_error) == ("paid", "")


# Refunds through Stripe, and Stripe's dashboard


def test_a_staff_refund_of_a_card_order_goes_through_stripe(staff_client, api_client, card_order, fake_stripe):
    deliver(api_client, stripe_event("payment_intent.succeeded", intent_object(card_order.payment)))

    response = staff_client.post(f"{ORDERS}/{card_order.pk}/refunds", {"amount": "15.00", "reason": "x"}, format="json")

    assert response.status_code == 201
    payment = Payment.objects.get(order=card_order)
    intent = payment.stripe_payment_intent_id
    assert fake_stripe.of("refund") == [("refund", intent, Decimal("15.00"), f"{payment.pk}-1")]
    assert Refund.objects.get().stripe_refund_id == f"re_{payment.pk}-1"
    # Stripe then reports the refund it made for us: already recorded, nothing more.
    deliver(api_client, stripe_event("charge.refunded", charge_object(payment, refunded=1500, refund_ids=["re_x"])))
    assert Payment.objects.get(order=card_order).amount_refunded == Decimal("15.00")


def test_stripe_down_during_a_refund_is_a_503_and_nothing_changes(staff_client, api_client, card_order, fake_stripe):
    deliver(api_client, stripe_event("payment_intent.succeeded", intent_object(card_order.payment)))
    fake_stripe.fail = True

    response = staff_client.post(f"{ORDERS}/{card_order.pk}/refunds", {"amount": "5.00", "reason": "x"}, format="json")

    assert response.status_code == 503
    assert error_codes(response) == [("payment_provider_unavailable", None)]
    assert not Refund.objects.exists()
    assert Payment.objects.get(order=card_order).amount_refunded == 0


def test_a_refund_made_in_the_dashboard_is_recorded_once(
    api_client, card_order, fake_stripe, mailoutbox, django_capture_on_commit_callbacks
):
    deliver(api_client, stripe_event("payment_intent.succeeded", intent_object(card_order.payment)))
    payment = card_order.payment

    with django_capture_on_commit_callbacks(execute=True):
        event = stripe_event("charge.refunded", charge_object(payment, refunded=1000, refund_ids=["re_dash_1"]))
        deliver(api_client, event)
        deliver(api_client, event)
        later = stripe_event("charge.refunded", charge_object(payment, refunded=4000, refund_ids=["re_dash_1", "re_2"]))
        deliver(api_client, later)

    refunds = list(Refund.objects.values_list("amount", "source", "stripe_refund_id"))
    assert refunds == [
        (Decimal("10.00"), "stripe_dashboard", "re_dash_1"),
        (Decimal("30.00"), "stripe_dashboard", "re_2"),
    ]
    assert Payment.objects.get(order=card_order).status == "refunded"
    assert not fake_stripe.of("refund")  # recorded, not refunded again
    assert sum(m.subject.startswith("A refund") for m in mailoutbox) == 2


def test_a_refund_reported_before_the_payment_records_both(api_client, card_order):
    payment = card_order.payment

    deliver(api_client, stripe_event("charge.refunded", charge_object(payment, refunded=500, refund_ids=["re_1"])))
    deliver(api_client, stripe_event("payment_intent.succeeded", intent_object(payment)))

    payment.refresh_from_db()
    assert (payment.amount_paid, payment.amount_refunded, payment.status) == (
        Decimal("40.00"),
        Decimal("5.00"),
        "partially_refunded",
    )
    assert Order.objects.get(pk=card_order.pk).status == "paid"


def test_a_payment_arriving_after_expiry_is_refunded_in_full_at_once(api_client, card_order, fake_stripe):
    from django.utils import timezone

    from payments import services

    Payment.objects.filter(order=card_order).update(expires_at=timezone.now())
    assert services.orders_expire_unpaid() == 1
    stock = Book.objects.get(order_lines__order=card_order).stock

    response = deliver(api_client, stripe_event("payment_intent.succeeded", intent_object(card_order.payment)))

    assert response.status_code == 200
    order = Order.objects.get(pk=card_order.pk)
    payment = Payment.objects.get(order=order)
    assert (order.status, payment.status, payment.amount_refunded) == ("cancelled", "refunded", Decimal("40.00"))
    assert len(fake_stripe.of("refund")) == 1
    assert Book.objects.get(order_lines__order=card_order).stock == stock  # not sold twice, not restocked twice


def test_the_webhook_reads_the_raw_body_not_a_parsed_one(api_client, card_order):
    """Stripe signs the exact bytes: whitespace that a re-serialised body would lose must still verify."""
    event = stripe_event("payment_intent.succeeded", intent_object(card_order.payment))
    payload = json.dumps(event, indent=4).encode()
    timestamp = int(time.time())
    import hashlib
    import hmac

    signature = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()

    response = api_client.post(
        WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=f"t={timestamp},v1={signature}"
    )

    assert response.status_code == 200
    assert Order.objects.get(pk=card_order.pk).status == "paid"


def test_a_card_checkout_adds_one_query_to_keep_its_payment_intent(user_client, user, fake_stripe, queries_of):
    cart_with(user, *[(BookFactory(), 1) for _ in range(3)])
    user_client.get(ORDERS)  # the user's row is read once, then cached

    queries = queries_of(
        lambda: user_client.post(ORDERS, {"shipping_address": ADDRESS, "payment_method": "stripe"}, format="json")
    )

    statements = [sql for sql in queries if not sql.startswith(("BEGIN", "COMMIT"))]
    # checkout's 10 (12 on SQLite), then the UPDATE with the PaymentIntent
    assert len(statements) == 11 + PAIRED_INSERTS, statements
    assert statements[-1].startswith('UPDATE "payments_payment"')
