"""The figures of the back office: a few aggregate queries each, the same on SQLite and PostgreSQL.

Revenue is what paid orders were placed for (paid, shipped or delivered: an order awaiting payment
or cancelled is not revenue), by the day it was placed, in the shop's time zone; refunds are shown
beside it, never hidden in it.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from catalog.models import Book, Review
from orders.models import Order, OrderLine

REVENUE_STATUSES = (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.DELIVERED)
ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)
PERIODS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


def _money(expression, **filter_):
    return Coalesce(Sum(expression, filter=Q(**filter_) if filter_ else None), Value(ZERO), output_field=MONEY)


def cents(value) -> Decimal:
    """A sum as money: SQLite's sums come back as floats' decimals (57.9800000000000), PostgreSQL's exact."""
    return Decimal(value).quantize(Decimal("0.01"))


def day_start(day: date) -> datetime:
    """Midnight of `day` in the shop's time zone, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class Overview:
    today_orders: int
    today_revenue: Decimal
    week_orders: int
    week_revenue: Decimal
    awaiting_payment: int
    awaiting_shipping: int


def overview(*, today: date | None = None) -> Overview:
    """Today's and this week's (since Monday) orders and revenue, and the two queues: one query."""
    today = today or timezone.localdate()
    today_from = day_start(today)
    week_from = day_start(today - timedelta(days=today.weekday()))
    figures = Order.objects.aggregate(
        today_orders=Count("pk", filter=Q(created_at__gte=today_from)),
        today_revenue=_money("total", created_at__gte=today_from, status__in=REVENUE_STATUSES),
        week_orders=Count("pk", filter=Q(created_at__gte=week_from)),
        week_revenue=_money("total", created_at__gte=week_from, status__in=REVENUE_STATUSES),
        awaiting_payment=Count("pk", filter=Q(status=Order.Status.PENDING)),
        awaiting_shipping=Count("pk", filter=Q(status=Order.Status.PAID)),
    )
    for key in ("today_revenue", "week_revenue"):
        figures[key] = cents(figures[key])
    return Overview(**figures)


def revenue_by_day(*, days: int = 30, today: date | None = None) -> list[tuple[date, Decimal, int]]:
    """(day, revenue, paid orders) for each of the last `days` days, today included; days without sales are 0."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    rows = {
        row["day"].date() if isinstance(row["day"], datetime) else row["day"]: (cents(row["revenue"]), row["orders"])
        for row in Order.objects.filter(created_at__gte=day_start(first), status__in=REVENUE_STATUSES)
        .annotate(day=TruncDay("created_at"))
        .values("day")
        .annotate(revenue=_money("total"), orders=Count("pk"))
        .order_by("day")
    }
    return [(day, *rows.get(day, (ZERO, 0))) for day in (first + timedelta(days=n) for n in range(days))]


def low_stock_books(*, limit: int = 10):
    """Books on sale with `Book.LOW_STOCK` copies or fewer, the emptiest first."""
    return list(
        Book.objects.filter(is_active=True, stock_record__quantity__lte=Book.LOW_STOCK)
        .select_related("stock_record")
        .only("pk", "title", "isbn", "stock_record__quantity")
        .order_by("stock_record__quantity", "title", "pk")[:limit]
    )


def reviews_to_moderate():
    """The reviews waiting for a moderator.

    Moderation (a review's status and customers' reports) is another part of the back office: when
    the reviews' queryset has `awaiting_moderation()`, that is the queue; until then, every review
    written in the last 7 days counts as not yet looked at.
    """
    queryset = Review.objects.all()
    if hasattr(queryset, "awaiting_moderation"):
        return queryset.awaiting_moderation()
    return queryset.filter(created_at__gte=timezone.now() - timedelta(days=7))


@dataclass(frozen=True)
class SalesRow:
    period: date
    orders: int
    revenue: Decimal
    refunded: Decimal

    @property
    def net(self) -> Decimal:
        return self.revenue - self.refunded


def sales(*, period: str, start: date, end: date) -> list[SalesRow]:
    """Paid orders placed from `start` to `end` (both included), per day, week (from Monday) or month: one query."""
    trunc = PERIODS[period]
    rows = (
        Order.objects.filter(
            created_at__gte=day_start(start),
            created_at__lt=day_start(end + timedelta(days=1)),
            status__in=REVENUE_STATUSES,
        )
        .annotate(period=trunc("created_at"))
        .values("period")
        .annotate(
            orders=Count("pk"),
            revenue=_money("total"),
            refunded=_money("payment__amount_refunded"),
        )
        .order_by("period")
    )
    return [
        SalesRow(
            period=row["period"].date() if isinstance(row["period"], datetime) else row["period"],
            orders=row["orders"],
            revenue=cents(row["revenue"]),
            refunded=cents(row["refunded"]),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class BestsellerRow:
    book_id: int
    title: str
    isbn: str
    copies: int
    revenue: Decimal


def bestsellers(*, start: date, end: date, limit: int = 20) -> list[BestsellerRow]:
    """The books sold most (copies) in paid orders placed from `start` to `end`: one query."""
    rows = (
        OrderLine.objects.filter(
            order__created_at__gte=day_start(start),
            order__created_at__lt=day_start(end + timedelta(days=1)),
            order__status__in=REVENUE_STATUSES,
        )
        .values("book_id")
        .annotate(title=F("book__title"), isbn=F("book__isbn"), copies=Sum("quantity"), revenue=_money("line_total"))
        .order_by("-copies", "-revenue", "book_id")[:limit]
    )
    return [
        BestsellerRow(
            book_id=row["book_id"],
            title=row["title"],
            isbn=row["isbn"],
            copies=row["copies"],
            revenue=cents(row["revenue"]),
        )
        for row in rows
    ]
