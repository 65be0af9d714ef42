"""GET /orders, GET /orders/{id}, POST /orders/{id}/cancel and staff PATCH /orders/{id}."""

from decimal import Decimal
from itertools import product

import pytest

from catalog.models import Book, StockMovement
from catalog.tests.factories import BookFactory
from orders.models import Order, OrderStatusChange
from orders.tests.factories import order_placed

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders"
STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled"]
ALLOWED = {
    ("pending", "paid"),
    ("pending", "cancelled"),
    ("paid", "shipped"),
    ("paid", "cancelled"),
    ("shipped", "delivered"),
}
FORBIDDEN = sorted(set(product(STATUSES, STATUSES)) - ALLOWED)


def url(order, suffix="") -> str:
    return f"{ORDERS}/{order.pk}{suffix}"


def error_codes(response) -> list[tuple[str, str | None]]:
    return [(error["code"], error["attr"]) for error in response.json()["errors"]]


# Reading


def test_customers_list_only_their_own_orders_newest_first(user_client, user, other_user):
    older = order_placed(user=user)
    newer = order_placed(user=user)
    order_placed(user=other_user)

    response = user_client.get(ORDERS)

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["page"], body["total_pages"]) == (2, 1, 1)
    assert [order["id"] for order in body["results"]] == [newer.pk, older.pk]


def test_the_user_filter_does_not_reveal_other_customers_orders(user_client, user, other_user):
    order_placed(user=other_user)

    response = user_client.get(ORDERS, {"user": other_user.pk})

    assert response.json()["count"] == 0


def test_staff_list_every_order_and_filter_by_status_and_user(staff_client, user, other_user):
    mine = order_placed(user=user)
    paid = order_placed(user=user, status="paid")
    theirs = order_placed(user=other_user)

    every = staff_client.get(ORDERS).json()
    by_status = staff_client.get(ORDERS, {"status": "paid"}).json()
    by_user = staff_client.get(ORDERS, {"user": other_user.pk}).json()
    both = staff_client.get(ORDERS, {"status": "pending", "user": user.pk}).json()

    assert {order["id"] for order in every["results"]} == {mine.pk, paid.pk, theirs.pk}
    assert [order["id"] for order in by_status["results"]] == [paid.pk]
    assert [order["id"] for order in by_user["results"]] == [theirs.pk]
    assert [order["id"] for order in both["results"]] == [mine.pk]


def test_an_unknown_status_filter_is_400(staff_client):
    response = staff_client.get(ORDERS, {"status": "lost"})

    assert response.status_code == 400
    assert error_codes(response) == [("invalid_choice", "status")]


def test_orders_require_authentication(api_client, user):
    order = order_placed(user=user)

    assert api_client.get(ORDERS).status_code == 401
    assert api_client.get(url(order)).status_code == 401


def test_the_owner_reads_an_order(user_client, user):
    order = order_placed(user=user)

    response = user_client.get(url(order))

    assert response.status_code == 200
    assert response.json()["number"] == order.number


def test_another_users_order_is_404(user_client, other_user):
    order = order_placed(user=other_user)

    response = user_client.get(url(order))

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


def test_staff_read_any_order(staff_client, user):
    order = order_placed(user=user)

    assert staff_client.get(url(order)).status_code == 200


def test_order_list_runs_a_constant_number_of_queries(user_client, user, queries_of):
    order_placed(user=user, lines=[(BookFactory(), 1), (BookFactory(), 2)])
    user_client.get(ORDERS)  # the user's row is read once, then cached
    one_order = queries_of(lambda: user_client.get(ORDERS, {"page_size": 100}))
    for _ in range(9):
        order_placed(user=user, lines=[(BookFactory(), 1), (BookFactory(), 2), (BookFactory(), 3)], status="paid")

    ten_orders = queries_of(lambda: user_client.get(ORDERS, {"page_size": 100}))

    assert len(ten_orders) == len(one_order) == 3  # page (a short first page needs no count), lines, history


# Cancelling


def test_the_owner_cancels_a_pending_order_and_the_stock_comes_back(
    user_client, user, mailoutbox, django_capture_on_commit_callbacks
):
    book = BookFactory(stock=5)
    order = order_placed(user=user, lines=[(book, 2)])
    assert Book.objects.get(pk=book.pk).stock == 3

    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(url(order, "/cancel"))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert [entry["status"] for entry in body["status_history"]] == ["pending", "cancelled"]
    assert Book.objects.get(pk=book.pk).stock == 5
    restock = StockMovement.objects.get(order_reference=order.number, reason="cancellation")
    assert (restock.delta, restock.stock_after, restock.actor) == (2, 5, user)
    assert OrderStatusChange.objects.filter(order=order).last().actor == user
    [mail] = mailoutbox
    assert mail.to == [user.email]
    assert "cancelled" in mail.subject


def test_a_paid_order_can_be_cancelled(user_client, user):
    book = BookFactory(stock=4)
    order = order_placed(user=user, lines=[(book, 4)], status="paid")

    response = user_client.post(url(order, "/cancel"))

    assert response.status_code == 200
    assert Book.objects.get(pk=book.pk).stock == 4


def test_cancelling_twice_restores_the_stock_once(user_client, user):
    book = BookFactory(stock=5)
    order = order_placed(user=user, lines=[(book, 2)])

    first = user_client.post(url(order, "/cancel"))
    second = user_client.post(url(order, "/cancel"))

    assert first.status_code == 200
    assert second.status_code == 409
    assert error_codes(second) == [("invalid_transition", None)]
    assert Book.objects.get(pk=book.pk).stock == 5
    assert StockMovement.objects.filter(order_reference=order.number, reason="cancellation").count() == 1
    assert OrderStatusChange.objects.filter(order=order, status="cancelled").count() == 1


@pytest.mark.parametrize("status", ["shipped", "delivered"])
def test_shipped_or_delivered_orders_cannot_be_cancelled(user_client, user, status):
    book = BookFactory(stock=5)
    order = order_placed(user=user, lines=[(book, 2)], status=status)

    response = user_client.post(url(order, "/cancel"))

    assert response.status_code == 409
    assert error_codes(response) == [("invalid_transition", None)]
    assert Order.objects.get(pk=order.pk).status == status
    assert Book.objects.get(pk=book.pk).stock == 3


def test_cancelling_another_users_order_is_404(user_client, other_user):
    book = BookFactory(stock=5)
    order = order_placed(user=other_user, lines=[(book, 1)])

    response = user_client.post(url(order, "/cancel"))

    assert response.status_code == 404
    assert Order.objects.get(pk=order.pk).status == "pending"
    assert Book.objects.get(pk=book.pk).stock == 4


def test_staff_cancel_a_customers_order(staff_client, staff_user, user):
    order = order_placed(user=user)

    response = staff_client.post(url(order, "/cancel"))

    assert response.status_code == 200
    assert OrderStatusChange.objects.filter(order=order).last().actor == staff_user


# Staff status changes


def test_staff_move_an_order_along_pending_paid_shipped_delivered(
    staff_client, staff_user, user, mailoutbox, django_capture_on_commit_callbacks
):
    order = order_placed(user=user)

    with django_capture_on_commit_callbacks(execute=True):
        statuses = [
            staff_client.patch(url(order), {"status": status, "note": f"now {status}"}).json()["status"]
            for status in ["paid", "shipped", "delivered"]
        ]

    assert statuses == ["paid", "shipped", "delivered"]
    history = list(OrderStatusChange.objects.filter(order=order).values_list("status", "note", "actor"))
    assert history == [
        ("pending", "Order placed.", user.pk),
        ("paid", "now paid", staff_user.pk),
        ("shipped", "now shipped", staff_user.pk),
        ("delivered", "now delivered", staff_user.pk),
    ]
    body = staff_client.get(url(order)).json()
    assert [(entry["status"], entry["note"]) for entry in body["status_history"]][-1] == ("delivered", "now delivered")
    assert all(entry["at"].endswith("Z") for entry in body["status_history"])
    assert [mail.to for mail in mailoutbox] == [[user.email]] * 3
    assert [mail.subject.split()[-1] for mail in mailoutbox] == ["paid", "shipped", "delivered"]


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_every_other_status_move_is_409_invalid_transition(staff_client, user, current, target, mailoutbox):
    book = BookFactory(stock=5)
    order = order_placed(user=user, lines=[(book, 1)], status=current)

    response = staff_client.patch(url(order), {"status": target})

    assert response.status_code == 409
    assert error_codes(response) == [("invalid_transition", None)]
    assert Order.objects.get(pk=order.pk).status == current
    assert OrderStatusChange.objects.filter(order=order).count() == 1
    assert Book.objects.get(pk=book.pk).stock == 4


def test_staff_cancel_through_patch_restores_the_stock(staff_client, user):
    book = BookFactory(stock=5)
    order = order_placed(user=user, lines=[(book, 3)], status="paid")

    response = staff_client.patch(url(order), {"status": "cancelled", "note": "Customer called."})

    assert response.status_code == 200
    assert response.json()["status_history"][-1] == {
        "status": "cancelled",
        "at": response.json()["status_history"][-1]["at"],
        "note": "Customer called.",
    }
    assert Book.objects.get(pk=book.pk).stock == 5


def test_a_customer_changing_their_own_orders_status_gets_403(user_client, user):
    order = order_placed(user=user)

    response = user_client.patch(url(order), {"status": "paid"})

    assert response.status_code == 403
    assert error_codes(response) == [("permission_denied", None)]
    assert Order.objects.get(pk=order.pk).status == "pending"


def test_a_customer_changing_another_users_order_gets_404(user_client, other_user):
    order = order_placed(user=other_user)

    response = user_client.patch(url(order), {"status": "paid"})

    assert response.status_code == 404
    assert Order.objects.get(pk=order.pk).status == "pending"


def test_an_unknown_status_is_400(staff_client, user):
    order = order_placed(user=user)

    response = staff_client.patch(url(order), {"status": "lost"})

    assert response.status_code == 400
    assert error_codes(response) == [("invalid_choice", "status")]


def test_put_and_delete_are_not_allowed(staff_client, user):
    order = order_placed(user=user)

    assert staff_client.put(url(order), {"status": "paid"}).status_code == 405
    assert staff_client.delete(url(order)).status_code == 405


def test_order_money_is_rendered_with_two_places(user_client, user):
    order = order_placed(user=user, lines=[(BookFactory(price=Decimal("40")), 1)])

    body = user_client.get(url(order)).json()

    assert (body["subtotal"], body["shipping_cost"], body["total"]) == ("40.00", "0.00", "40.00")
