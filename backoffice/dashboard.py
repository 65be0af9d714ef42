"""The admin's home page (UNFOLD["DASHBOARD_CALLBACK"]): what a shop's staff look at first each morning.

Five queries whatever the shop's size (`backoffice.tests.test_dashboard` holds the budget):
the day's and week's figures with both queues, the 30 days of revenue, the low-stock books, the
reviews waiting for a moderator (a count and the newest few), all through `backoffice.stats`.
"""

import json

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from backoffice import stats
from catalog.models import Book
from orders.models import Order

REVIEWS_SHOWN = 5


def dashboard_callback(request, context: dict) -> dict:
    today = timezone.localdate()
    figures = stats.overview(today=today)
    series = stats.revenue_by_day(days=30, today=today)
    reviews = stats.reviews_to_moderate()
    newest_reviews = list(reviews.select_related("book", "user").order_by("-created_at", "-id")[:REVIEWS_SHOWN])
    orders_url = reverse("admin:orders_order_changelist")
    context.update(
        {
            "title": "Dashboard",
            "currency": settings.STORE_CURRENCY,
            "figures": figures,
            "kpis": [
                {"label": "Orders today", "value": figures.today_orders, "href": f"{orders_url}?placed=today"},
                {"label": "Revenue today", "value": figures.today_revenue, "money": True},
                {"label": "Orders this week", "value": figures.week_orders, "href": f"{orders_url}?placed=week"},
                {"label": "Revenue this week", "value": figures.week_revenue, "money": True},
                {
                    "label": "Awaiting payment",
                    "value": figures.awaiting_payment,
                    "href": f"{orders_url}?status__exact={Order.Status.PENDING}",
                },
                {
                    "label": "Awaiting shipping",
                    "value": figures.awaiting_shipping,
                    "href": f"{orders_url}?status__exact={Order.Status.PAID}",
                },
            ],
            "revenue_total": sum(revenue for _, revenue, _ in series),
            "revenue_chart": json.dumps(
                {
                    "labels": [day.strftime("%d %b") for day, _, _ in series],
                    "datasets": [
                        {
                            "label": f"Revenue ({settings.STORE_CURRENCY})",
                            "data": [float(revenue) for _, revenue, _ in series],
                            "backgroundColor": "var(--color-primary-600)",
                        }
                    ],
                }
            ),
            "revenue_days": series,
            "low_stock": stats.low_stock_books(),
            "low_stock_limit": Book.LOW_STOCK,
            "books_url": reverse("admin:catalog_book_changelist"),
            "reviews_waiting": len(newest_reviews) if len(newest_reviews) < REVIEWS_SHOWN else reviews.count(),
            "newest_reviews": newest_reviews,
            "reviews_url": reverse("admin:catalog_review_changelist"),
        }
    )
    return context
