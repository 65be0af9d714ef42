"""Money under real concurrency: threads with their own connections, released together (PostgreSQL)."""

from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from bookstore.tests.clients import client_for
from bookstore.tests.concurrency import run_together
from catalog.models import Book, StockMovement
from catalog.tests.factories import BookFactory
from orders.models import Order
from payments import services
from payments.models import Payment, PaymentEvent, Refund
from payments.tests.conftest import WEBHOOK_SECRET
from payments.tests.factories import intent_object, order_checked_out, signed, stripe_event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WEBHOOK = "/api/v1/payments/stripe/webhook"


def test_concurrent_refunds_never_exceed_what_was_paid():
    staff = UserFactory(is_staff=True)
    order = order_checked_out(
        user=UserFactory(), lines=[(BookFactory(price=Decimal("40.00")), 1)], paid=True, actor=staff
    )
    clients = [client_for(staff) for _ in range(6)]

    responses = run_together(
        [
            lambda client=client: client.post(
                f"/api/v1/orders/{order.pk}/refunds", {"amount": "10.00", "reason": "race"}, format="json"
            )
            for client in clients
        ]
    )

    assert Counter(response.status_code for response in responses) == {201: 4, 409: 2}
    payment = Payment.objects.get(order=order)
    assert (payment.amount_refunded, payment.status) == (Decimal("40.00"), "refunded")
    assert Refund.objects.count() == 4


def test_one_event_delivered_five_times_at_once_takes_effect_once(fake_stripe):
    order = order_checked_out(user=UserFactory(), method="stripe")
    payload, signature = signed(stripe_event("payment_intent.succeeded", intent_object(order.payment)), WEBHOOK_SECRET)

    responses = run_together(
        [
            lambda: APIClient().post(WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)
            for _ in range(5)
        ]
    )

    assert [response.status_code for response in responses] == [200] * 5
    assert PaymentEvent.objects.filter(payment__order=order, kind="paid").count() == 1
    assert Order.objects.get(pk=order.pk).status == "paid"


@pytest.mark.parametrize("stripe_knows_it_was_charged", [True, False])
def test_a_late_payment_racing_the_expiry_has_exactly_one_outcome(fake_stripe, stripe_knows_it_was_charged):
    """Either the order is paid (and keeps its stock), or it is cancelled, restocked and refunded in full."""
    outcomes = Counter()
    for _ in range(6):
        book = BookFactory(stock=1, price=Decimal("40.00"))
        order = order_checked_out(user=UserFactory(), method="stripe", lines=[(book, 1)])
        payment = Payment.objects.get(order=order)
        Payment.objects.filter(pk=payment.pk).update(expires_at=timezone.now())
        if stripe_knows_it_was_charged:  # the card was charged before the expiry asks Stripe to cancel
            fake_stripe.intent_status[payment.stripe_payment_intent_id] = "succeeded"
            fake_stripe.amounts = {**getattr(fake_stripe, "amounts", {}), payment.stripe_payment_intent_id: 4000}
        payload, signature = signed(stripe_event("payment_intent.succeeded", intent_object(payment)), WEBHOOK_SECRET)

        responses = run_together(
            [
                lambda order_id=order.pk: services.order_expire(order_id=order_id),
                lambda payload=payload, signature=signature: APIClient().post(
                    WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
                ),
            ]
        )

        assert responses[1].status_code == 200
        order.refresh_from_db()
        payment.refresh_from_db()
        stock = Book.objects.get(pk=book.pk).stock
        if order.status == "paid":
            assert (payment.status, payment.amount_paid, payment.amount_refunded, stock) == (
                "paid",
                Decimal("40.00"),
                Decimal("0.00"),
                0,
            )
            assert not StockMovement.objects.filter(order_reference=order.number, reason="cancellation").exists()
        else:
            assert order.status == "cancelled"
            assert (payment.status, payment.amount_paid, payment.amount_refunded, stock) == (
                "refunded",
                Decimal("40.00"),
                Decimal("40.00"),
                1,
            )
            assert StockMovement.objects.filter(order_reference=order.number, reason="cancellation").count() == 1
        outcomes[order.status] += 1
    assert sum(outcomes.values()) == 6
