"""A new row and its first child in one statement (bookstore.inserts) are saved as save() saves them."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection

from accounts.tests.factories import UserFactory
from bookstore.inserts import parent_and_child_insert
from orders.models import Order, OrderStatusChange
from orders.services import ORDER_NUMBER

pytestmark = pytest.mark.django_db


def test_the_parent_and_its_child_are_saved_with_their_ids_defaults_and_dates(django_assert_num_queries):
    user = UserFactory()
    money = {"subtotal": Decimal("10.00"), "shipping_cost": Decimal("0.00"), "total": Decimal("10.00")}
    order = Order(number="BK-TEST-1", user=user, email=user.email, currency="EUR", **money)
    placed = OrderStatusChange(status=Order.Status.PENDING, actor=user, note="Order placed.")

    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        parent_and_child_insert(parent=order, child=placed, fk="order")

    stored = Order.objects.get(pk=order.pk)
    (line,) = OrderStatusChange.objects.filter(order=stored)
    assert line.pk == placed.pk and placed.order is order and placed.order_id == order.pk
    assert stored.number == "BK-TEST-1" and stored.user == user and stored.status == Order.Status.PENDING
    assert stored.created_at == order.created_at and line.at == placed.at and line.note == "Order placed."
    assert not order._state.adding and not placed._state.adding


def test_a_parent_whose_unique_value_is_taken_inserts_nothing_and_leaves_the_transaction_usable(
    django_assert_num_queries,
):
    # A clash of random order numbers is not an error: the caller draws again. On PostgreSQL, with no
    # savepoint (ON CONFLICT DO NOTHING): the statement inserts neither row, and the next one runs.
    user = UserFactory()
    money = {"subtotal": Decimal("10.00"), "shipping_cost": Decimal("0.00"), "total": Decimal("10.00")}
    taken = Order.objects.create(number="BK-TAKEN", user=user, email=user.email, currency="EUR", **money)
    order = Order(number="BK-TAKEN", user=user, email=user.email, currency="EUR", **money)
    placed = OrderStatusChange(status=Order.Status.PENDING, actor=user, note="Order placed.")

    with django_assert_num_queries(
        1 if connection.vendor == "postgresql" else 4
    ):  # SQLite: in a savepoint, rolled back
        assert parent_and_child_insert(parent=order, child=placed, fk="order", unless_taken=ORDER_NUMBER) is False

    assert order.pk is None and placed.pk is None and order._state.adding
    assert list(Order.objects.values_list("pk", flat=True)) == [taken.pk]
    assert not OrderStatusChange.objects.exists()

    order.number = "BK-FREE"
    assert parent_and_child_insert(parent=order, child=placed, fk="order", unless_taken=ORDER_NUMBER) is True
    assert OrderStatusChange.objects.get().order_id == order.pk == Order.objects.get(number="BK-FREE").pk


def test_another_unique_value_taken_is_still_an_error():
    user = UserFactory()
    money = {"subtotal": Decimal("10.00"), "shipping_cost": Decimal("0.00"), "total": Decimal("10.00")}
    Order.objects.create(number="BK-1", user=user, email=user.email, currency="EUR", idempotency_key="k", **money)
    order = Order(number="BK-2", user=user, email=user.email, currency="EUR", idempotency_key="k", **money)
    placed = OrderStatusChange(status=Order.Status.PENDING, actor=user, note="Order placed.")

    with pytest.raises(IntegrityError):
        parent_and_child_insert(parent=order, child=placed, fk="order", unless_taken=ORDER_NUMBER)
