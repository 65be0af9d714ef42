"""A new row and its first child in one statement (bookstore.inserts) are saved as save() saves them."""

from decimal import Decimal

import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from bookstore.inserts import parent_and_child_insert
from orders.models import Order, OrderStatusChange

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
