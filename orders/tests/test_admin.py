"""The back office: orders are read-only records moved along by actions that call the services."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from catalog.models import Book, StockMovement
from catalog.tests.factories import BookFactory
from orders.models import Order, OrderStatusChange
from orders.tests.factories import order_placed

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"


def run_action(admin_client, action: str, *orders):
    return admin_client.post(
        CHANGELIST, {"action": action, ACTION_CHECKBOX_NAME: [order.pk for order in orders]}, follow=True
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_changelist_filters_by_status_and_searches_number_and_email(admin_client, user, other_user):
    mine = order_placed(user=user)
    theirs = order_placed(user=other_user, status="paid")

    by_status = admin_client.get(CHANGELIST, {"status__exact": "paid"}).content.decode()
    by_number = admin_client.get(CHANGELIST, {"q": mine.number}).content.decode()
    by_email = admin_client.get(CHANGELIST, {"q": other_user.email}).content.decode()

    assert theirs.number in by_status and mine.number not in by_status
    assert mine.number in by_number and theirs.number not in by_number
    assert theirs.number in by_email and mine.number not in by_email
    assert admin_client.get(CHANGELIST, {"created_at__year": mine.created_at.year}).status_code == 200


def test_change_page_shows_lines_and_history_read_only(admin_client, user):
    book = BookFactory(title="Middlemarch")
    order = order_placed(user=user, lines=[(book, 2)])

    response = admin_client.get(f"{CHANGELIST}{order.pk}/change/")

    content = response.content.decode()
    assert response.status_code == 200
    assert "Middlemarch" in content
    assert "Order placed." in content
    assert 'name="subtotal"' not in content  # money is not an input
    assert 'name="items-0-unit_price"' not in content


def test_orders_cannot_be_added_or_deleted_in_the_admin(admin_client, user):
    order = order_placed(user=user)

    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.get(f"{CHANGELIST}{order.pk}/delete/").status_code == 403


def test_mark_paid_shipped_delivered_actions_move_the_orders_and_email(
    admin_client, user, mailoutbox, django_capture_on_commit_callbacks
):
    order = order_placed(user=user)

    with django_capture_on_commit_callbacks(execute=True):
        for action in ["mark_paid", "mark_shipped", "mark_delivered"]:
            run_action(admin_client, action, order)

    assert Order.objects.get(pk=order.pk).status == "delivered"
    assert list(OrderStatusChange.objects.filter(order=order).values_list("status", "actor")) == [
        ("pending", user.pk),
        ("paid", admin_client.user.pk),
        ("shipped", admin_client.user.pk),
        ("delivered", admin_client.user.pk),
    ]
    assert len(mailoutbox) == 3


def test_an_invalid_admin_move_is_refused_with_a_message(admin_client, user):
    pending = order_placed(user=user)
    paid = order_placed(user=user, status="paid")

    response = run_action(admin_client, "mark_shipped", pending, paid)

    assert Order.objects.get(pk=pending.pk).status == "pending"
    assert Order.objects.get(pk=paid.pk).status == "shipped"
    messages = messages_of(response)
    assert any(pending.number in message and "pending" in message for message in messages)
    assert "1 order(s) now shipped." in messages


def test_the_cancel_action_restores_stock_once(admin_client, user):
    book = BookFactory(stock=5)
    order = order_placed(user=user, lines=[(book, 2)])

    run_action(admin_client, "cancel_orders", order)
    second = run_action(admin_client, "cancel_orders", order)

    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert Book.objects.get(pk=book.pk).stock == 5
    assert StockMovement.objects.filter(reason="cancellation").count() == 1
    assert any("cancelled" in message for message in messages_of(second))
