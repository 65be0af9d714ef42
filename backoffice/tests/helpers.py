"""Orders placed through checkout, then dated and moved as a real week's orders would be."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from catalog.tests.factories import BookFactory
from orders.models import Order
from orders.tests.factories import order_placed


def placed_on(day, *, user, lines=None, status: str | None = None, hour: int = 10) -> Order:
    """An order checked out through the services, then dated `day` (and jumped to `status`; set-up only)."""
    order = order_placed(user=user, lines=lines or [(BookFactory(stock=50), 1)], status=status)
    at = timezone.make_aware(datetime.combine(day, time(hour)))
    Order.objects.filter(pk=order.pk).update(created_at=at)
    order.refresh_from_db()
    return order


def days_ago(n: int):
    return timezone.localdate() - timedelta(days=n)
