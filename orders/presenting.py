"""Orders as `OrderSerializer` shows them, by plain functions.

Profiled (`bench/cpu.py GET /api/v1/orders --user 1`: a bench user's page of 5 orders), the order
list spent about a quarter of its CPU in DRF's fields: each order's four nested serializers
(lines, history, address, shipping method) and its money fields, field by field. These functions give the same
answer, key for key and byte for byte (`payments/tests/test_presenting.py` compares them with the
serializers on varied orders); the serializers stay the schema's.
"""

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from bookstore.presenting import datetime_text, decimal_text, money
from orders.models import Order


def order_data(order: Order, tz) -> dict[str, Any]:
    """`OrderSerializer(order).data` (`tz`: the current time zone), from the order with its lines
    and history (`Order.objects.with_details()`)."""
    return {
        "id": order.pk,
        "number": order.number,
        "status": str(order.status),
        "email": order.email,
        "items": [
            {
                "book_id": line.book_id,
                "title": line.title,
                "isbn": line.isbn,
                "unit_price": money(line.unit_price),
                "quantity": line.quantity,
                "line_total": money(line.line_total),
                "tax_rate": decimal_text(line.tax_rate, max_digits=5, places=4),
                "tax_amount": money(line.tax_amount),
            }
            for line in order.items.all()
        ],
        "subtotal": money(order.subtotal),
        "shipping_cost": money(order.shipping_cost),
        "tax_total": money(order.tax_total),
        "total": money(order.total),
        "currency": order.currency,
        "shipping_method": order.shipping_method,
        "shipping_address": order.shipping_address,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "tracking_url": order.tracking_url,
        "status_history": [
            {"status": str(change.status), "at": datetime_text(change.at, tz), "note": change.note}
            for change in order.status_history.all()
        ],
        "created_at": datetime_text(order.created_at, tz),
        "updated_at": datetime_text(order.updated_at, tz),
    }


def with_token(order: Order, data: dict[str, Any]) -> dict[str, Any]:
    """Checkout's answer adds a guest's `order_token` (the one the checkout set on the order);
    a signed-in customer's order has none, and no key."""
    token = getattr(order, "token", None)
    if token is not None:
        data["order_token"] = str(token)
    return data


class OrderPresenter:
    """Called as `bookstore.serializers.Presenter` is (`present(order_or_orders, context)`), with
    `build(order, request, tz)` making one order's answer; `token`: checkout's, with `with_token`."""

    def __init__(self, build: Callable[[Order, Any, Any], dict[str, Any]], *, many: bool = False, token: bool = False):
        self.build, self.many, self.token = build, many, token

    def __call__(self, orders: Any, context) -> Any:
        """One order's answer, or (`many`) a list of them for an iterable of orders."""
        request, tz = context.get("request"), timezone.get_current_timezone()
        if self.many:
            return [self.build(order, request, tz) for order in orders]
        data = self.build(orders, request, tz)
        return with_token(orders, data) if self.token else data


def _order(order: Order, request, tz) -> dict[str, Any]:
    return order_data(order, tz)


present = OrderPresenter(_order)
present_list = OrderPresenter(_order, many=True)
present_checkout = OrderPresenter(_order, token=True)
