"""Unpaid orders expire: `manage.py expire_unpaid_orders` and the task cancel them and put the stock back."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Book, StockMovement
from catalog.tests.factories import BookFactory
from orders.models import Order
from payments import services
from payments.models import Payment
from payments.tasks import expire_unpaid_orders
from payments.tests.factories import order_checked_out

pytestmark = pytest.mark.django_db


def _due(order) -> None:
    Payment.objects.filter(order=order).update(expires_at=timezone.now() - timedelta(seconds=1))


def test_the_command_cancels_due_unpaid_orders_and_restocks(user, staff_user, capsys):
    book = BookFactory(stock=4)
    due = order_checked_out(user=user, lines=[(book, 3)])
    not_yet = order_checked_out(user=user, lines=[(BookFactory(), 1)])
    paid = order_checked_out(user=user, lines=[(BookFactory(), 1)], paid=True, actor=staff_user)
    _due(due)
    _due(paid)

    call_command("expire_unpaid_orders")

    assert "Expired 1 unpaid order(s)." in capsys.readouterr().out
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {due.pk: "cancelled", not_yet.pk: "pending", paid.pk: "paid"}
    assert Book.objects.get(pk=book.pk).stock == 4
    movement = StockMovement.objects.get(reason="cancellation")
    assert (movement.book_id, movement.delta, movement.order_reference) == (book.pk, 3, due.number)
    assert due.status_history.last().note == "Expired unpaid."
    assert list(Payment.objects.get(order=due).events.values_list("kind", flat=True)) == ["created", "cancelled"]


def test_running_it_again_changes_nothing(user):
    order = order_checked_out(user=user)
    _due(order)

    assert services.orders_expire_unpaid() == 1
    assert services.orders_expire_unpaid() == 0
    assert StockMovement.objects.filter(reason="cancellation").count() == 1


def test_the_task_expires_orders_too(user):
    order = order_checked_out(user=user)
    _due(order)

    result = expire_unpaid_orders.enqueue()  # the immediate backend runs it here

    assert result.return_value == 1
    assert Order.objects.get(pk=order.pk).status == "cancelled"


def test_the_command_can_queue_the_task(user, capsys):
    order = order_checked_out(user=user)
    _due(order)

    call_command("expire_unpaid_orders", "--enqueue")

    assert "Queued as task" in capsys.readouterr().out
    assert Order.objects.get(pk=order.pk).status == "cancelled"  # immediate backend


def test_a_card_order_expires_after_the_payment_timeout_and_its_intent_is_cancelled(user, fake_stripe, settings):
    settings.PAYMENT_TIMEOUT_MINUTES = 15
    order = order_checked_out(user=user, method="stripe")
    payment = Payment.objects.get(order=order)
    assert timedelta(minutes=14) < payment.expires_at - timezone.now() <= timedelta(minutes=15)

    assert services.orders_expire_unpaid(now=timezone.now() + timedelta(minutes=16)) == 1

    assert fake_stripe.of("cancel") == [("cancel", payment.stripe_payment_intent_id)]
    assert Order.objects.get(pk=order.pk).status == "cancelled"


def test_an_intent_charged_just_before_expiry_makes_the_order_paid_not_cancelled(user, fake_stripe):
    book = BookFactory(stock=2, price=Decimal("40.00"))
    order = order_checked_out(user=user, method="stripe", lines=[(book, 1)])
    payment = Payment.objects.get(order=order)
    fake_stripe.intent_status[payment.stripe_payment_intent_id] = "succeeded"
    fake_stripe.amounts = {payment.stripe_payment_intent_id: 4000}
    _due(order)

    assert services.orders_expire_unpaid() == 0

    assert Order.objects.get(pk=order.pk).status == "paid"
    assert Payment.objects.get(order=order).status == "paid"
    assert Book.objects.get(pk=book.pk).stock == 1


def test_stripe_down_leaves_the_order_for_the_next_run(user, fake_stripe):
    order = order_checked_out(user=user, method="stripe")
    _due(order)
    fake_stripe.fail = True

    assert services.orders_expire_unpaid() == 0

    assert Order.objects.get(pk=order.pk).status == "pending"
    fake_stripe.fail = False
    assert services.orders_expire_unpaid() == 1
