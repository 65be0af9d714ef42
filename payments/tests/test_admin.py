"""The back office's money: payment and refunds inline, the refund form and actions, payment filters."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from catalog.tests.factories import BookFactory
from orders.models import Order
from payments.models import Payment, Refund
from payments.tests.factories import order_checked_out

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"


@pytest.fixture
def paid_order(user, staff_user):
    return order_checked_out(user=user, lines=[(BookFactory(price=Decimal("40.00")), 1)], paid=True, actor=staff_user)


def run_action(admin_client, action: str, *orders):
    return admin_client.post(
        CHANGELIST, {"action": action, ACTION_CHECKBOX_NAME: [order.pk for order in orders]}, follow=True
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_changelist_filters_by_payment_status_and_method(admin_client, user, paid_order, fake_stripe):
    unpaid_card = order_checked_out(user=user, method="stripe")

    by_status = admin_client.get(CHANGELIST, {"payment__status": "paid"}).content.decode()
    by_method = admin_client.get(CHANGELIST, {"payment__method": "stripe"}).content.decode()

    assert paid_order.number in by_status and unpaid_card.number not in by_status
    assert unpaid_card.number in by_method and paid_order.number not in by_method


def test_the_change_page_shows_the_payment_and_refunds_and_links_the_refund_form(admin_client, staff_user, paid_order):
    from payments import services

    services.refund_create(order=paid_order, actor=staff_user, amount=Decimal("7.25"), reason="Bent cover")

    page = admin_client.get(f"{CHANGELIST}{paid_order.pk}/change/").content.decode()

    assert "Partially Refunded" in page
    assert "7.25" in page and "Bent cover" in page
    assert f"{CHANGELIST}{paid_order.pk}/refund/" in page


def test_the_refund_form_refunds_through_the_service(admin_client, paid_order):
    url = f"{CHANGELIST}{paid_order.pk}/refund/"
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(url, {"amount": "10.00", "reason": "Goodwill"}, follow=True)

    assert response.redirect_chain[-1][0] == f"{CHANGELIST}{paid_order.pk}/change/"
    refund = Refund.objects.get()
    assert (refund.amount, refund.reason, refund.actor) == (Decimal("10.00"), "Goodwill", admin_client.user)


def test_the_refund_form_refuses_more_than_was_paid(admin_client, paid_order):
    response = admin_client.post(f"{CHANGELIST}{paid_order.pk}/refund/", {"amount": "40.01", "reason": "x"})

    assert response.status_code == 200
    assert "At most 40.00 can be refunded" in response.content.decode()
    assert not Refund.objects.exists()


def test_mark_paid_records_a_manual_payment_and_refuses_a_card_order(admin_client, user, fake_stripe):
    manual = order_checked_out(user=user)
    card = order_checked_out(user=user, method="stripe")

    response = run_action(admin_client, "mark_paid", manual, card)

    assert Payment.objects.get(order=manual).status == "paid"
    assert Order.objects.get(pk=card.pk).status == "pending"
    assert any("only when Stripe confirms" in message for message in messages_of(response))


def test_cancel_action_refunds_a_paid_order_first(admin_client, paid_order):
    run_action(admin_client, "cancel_orders", paid_order)

    assert Order.objects.get(pk=paid_order.pk).status == "cancelled"
    assert Payment.objects.get(order=paid_order).status == "refunded"


def test_refund_in_full_action(admin_client, paid_order, user):
    unpaid = order_checked_out(user=user)

    response = run_action(admin_client, "refund_in_full", paid_order, unpaid)

    assert Payment.objects.get(order=paid_order).amount_refunded == Decimal("40.00")
    assert f"{unpaid.number}: nothing to refund." in messages_of(response)


def test_the_payment_page_shows_its_ledger(admin_client, paid_order):
    payment = Payment.objects.get(order=paid_order)

    page = admin_client.get(f"/admin/payments/payment/{payment.pk}/change/").content.decode()

    assert "created" in page and "paid" in page
