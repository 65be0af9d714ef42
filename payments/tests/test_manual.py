"""Manual payments: the default, with no account anywhere. Staff record the money."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from catalog.models import Book
from catalog.tests.factories import BookFactory
from orders.models import Order
from orders.tests.factories import ADDRESS, cart_with
from payments.models import Payment, PaymentEvent
from payments.tests.factories import order_checked_out

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders"


def error_codes(response) -> list[tuple[str, str | None]]:
    return [(error["code"], error["attr"]) for error in response.json()["errors"]]


def test_checkout_defaults_to_a_manual_payment_with_instructions(user_client, user, settings):
    settings.MANUAL_PAYMENT_INSTRUCTIONS = "Transfer to IBAN XX00 0000, quoting your order number."
    cart_with(user, (BookFactory(price=Decimal("40.00")), 1))
    before = timezone.now()

    response = user_client.post(ORDERS, {"shipping_address": ADDRESS}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["payment"] == {
        "method": "manual",
        "status": "unpaid",
        "amount_paid": "0.00",
        "amount_refunded": "0.00",
        "client_secret": None,
        "instructions": "Transfer to IBAN XX00 0000, quoting your order number.",
        "last_error": None,
    }
    assert body["refunds"] == []
    expires_at = parse_datetime(body["expires_at"])
    assert before + timedelta(days=7) <= expires_at <= timezone.now() + timedelta(days=7)
    payment = Payment.objects.get(order_id=body["id"])
    assert (payment.amount, payment.currency) == (Decimal("40.00"), "USD")
    assert list(payment.events.values_list("kind", "actor")) == [("created", user.pk)]
    assert user_client.get(f"{ORDERS}/{body['id']}").json() == body


def test_manual_expiry_follows_the_setting_in_force_at_checkout(user_client, user, settings):
    settings.MANUAL_PAYMENT_DAYS = 2
    cart_with(user, (BookFactory(), 1))

    body = user_client.post(ORDERS, {"shipping_address": ADDRESS, "payment_method": "manual"}, format="json").json()

    assert parse_datetime(body["expires_at"]) - timezone.now() < timedelta(days=2, minutes=1)
    settings.MANUAL_PAYMENT_DAYS = 30
    assert user_client.get(f"{ORDERS}/{body['id']}").json()["expires_at"] == body["expires_at"]


def test_card_payment_is_refused_while_stripe_is_off(user_client, user):
    book = BookFactory(stock=3)
    cart_with(user, (book, 1))

    response = user_client.post(ORDERS, {"shipping_address": ADDRESS, "payment_method": "stripe"}, format="json")

    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "payment_method")]
    assert not Order.objects.exists()
    assert Book.objects.get(pk=book.pk).stock == 3


@pytest.mark.parametrize("method", ["card", "", "MANUAL", 1, None, "manual\u200b"])
def test_an_unknown_payment_method_is_a_400_and_changes_nothing(user_client, user, method):
    cart_with(user, (BookFactory(), 1))

    response = user_client.post(ORDERS, {"shipping_address": ADDRESS, "payment_method": method}, format="json")

    assert response.status_code == 400
    assert error_codes(response)[0][1] == "payment_method"
    assert not Order.objects.exists()


def test_staff_record_a_manual_payment_and_the_customer_is_told(
    staff_client, staff_user, user, mailoutbox, django_capture_on_commit_callbacks
):
    order = order_checked_out(user=user)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.patch(
            f"{ORDERS}/{order.pk}", {"status": "paid", "note": "Transfer arrived."}, format="json"
        )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "paid"
    assert body["payment"]["status"] == "paid"
    assert body["payment"]["amount_paid"] == str(order.total)
    assert body["expires_at"] is None
    assert [m.subject for m in mailoutbox] == [f"Your Bookstore order {order.number} is paid"]
    event = PaymentEvent.objects.get(payment__order=order, kind="paid")
    assert (event.actor, event.amount, event.status_after) == (staff_user, order.total, "paid")


def test_a_customer_cannot_mark_their_own_order_paid(user_client, user):
    order = order_checked_out(user=user)

    response = user_client.patch(f"{ORDERS}/{order.pk}", {"status": "paid"}, format="json")

    assert response.status_code == 403
    assert Payment.objects.get(order=order).status == "unpaid"


def test_a_card_order_cannot_be_marked_paid_by_staff(staff_client, user, fake_stripe):
    order = order_checked_out(user=user, method="stripe")

    response = staff_client.patch(f"{ORDERS}/{order.pk}", {"status": "paid"}, format="json")

    assert response.status_code == 409
    assert error_codes(response) == [("invalid_transition", None)]
    order.refresh_from_db()
    assert order.status == "pending"
    assert Payment.objects.get(order=order).amount_paid == 0


def test_paying_twice_is_an_invalid_transition(staff_client, staff_user, user):
    order = order_checked_out(user=user, paid=True, actor=staff_user)

    response = staff_client.patch(f"{ORDERS}/{order.pk}", {"status": "paid"}, format="json")

    assert response.status_code == 409
    assert error_codes(response) == [("invalid_transition", None)]
    assert PaymentEvent.objects.filter(payment__order=order, kind="paid").count() == 1


def test_the_order_list_reads_payments_and_refunds_in_a_constant_number_of_queries(
    staff_client, staff_user, user, queries_of
):
    from payments import services

    def paid_and_refunded():
        order = order_checked_out(user=user, paid=True, actor=staff_user)
        services.refund_create(order=order, actor=staff_user, amount=Decimal("1.00"), reason="Late delivery.")

    paid_and_refunded()
    staff_client.get(ORDERS)  # the user's row is read once, then cached
    one = queries_of(lambda: staff_client.get(ORDERS, {"page_size": 100}))
    for _ in range(5):
        paid_and_refunded()

    six = queries_of(lambda: staff_client.get(ORDERS, {"page_size": 100}))

    assert len(six) == len(one) == 4  # page (payment joined), lines, history, refunds
    assert all(len(order["refunds"]) == 1 for order in staff_client.get(ORDERS).json()["results"])


def test_the_service_refuses_a_card_payment_while_stripe_is_off(user):
    """The serializer says so first; the service holds the rule for every other caller (admin, commands)."""
    from bookstore.exceptions import DomainError
    from payments import services

    cart_with(user, (BookFactory(), 1))

    with pytest.raises(DomainError) as raised:
        services.order_checkout(user=user, address=dict(ADDRESS), payment_method="stripe")

    assert (raised.value.code, raised.value.attr) == ("invalid", "payment_method")


def test_a_manual_orders_confirmation_email_says_how_much_to_pay_where_and_with_which_reference(
    user_client, user, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.MANUAL_PAYMENT_INSTRUCTIONS = "Transfer to Bookstore Ltd, IBAN XX00 1111 2222, BIC BOOKXX22."
    cart_with(user, (BookFactory(price=Decimal("40.00")), 1))

    with django_capture_on_commit_callbacks(execute=True):
        body = user_client.post(ORDERS, {"shipping_address": ADDRESS}, format="json").json()

    [mail] = mailoutbox
    assert "Transfer to Bookstore Ltd, IBAN XX00 1111 2222, BIC BOOKXX22." in mail.body
    assert "Amount due: 40.00 USD" in mail.body
    assert f"Reference: {body['number']}" in mail.body
    expires = parse_datetime(body["expires_at"]).date().isoformat()
    assert f"by {expires}" in mail.body


def test_a_card_orders_confirmation_email_has_no_bank_details(
    user_client, user, settings, mailoutbox, django_capture_on_commit_callbacks, fake_stripe
):
    settings.MANUAL_PAYMENT_INSTRUCTIONS = "Transfer to IBAN XX00 1111 2222."
    cart_with(user, (BookFactory(price=Decimal("40.00")), 1))

    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(ORDERS, {"shipping_address": ADDRESS, "payment_method": "stripe"}, format="json")

    assert response.status_code == 201
    [mail] = mailoutbox
    assert "IBAN" not in mail.body and "Amount due" not in mail.body
    assert "Total: 40.00 USD" in mail.body
