"""The admin's home page is the dashboard: the day's and week's figures, the queues, stock, reviews."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from backoffice import stats
from backoffice.tests.helpers import days_ago, placed_on
from catalog.tests.factories import BookFactory
from orders.models import Order

pytestmark = pytest.mark.django_db


def test_the_admin_home_page_is_the_dashboard_with_todays_and_this_weeks_figures(admin_client, user):
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    book = BookFactory(price="20.00", stock=50)
    paid_today = placed_on(today, user=user, lines=[(book, 2)], status=Order.Status.PAID)
    placed_on(today, user=user, lines=[(book, 1)])  # pending: an order, not revenue
    placed_on(today, user=user, lines=[(book, 1)], status=Order.Status.CANCELLED)
    shipped_monday = placed_on(monday, user=user, lines=[(book, 1)], status=Order.Status.SHIPPED, hour=0)
    placed_on(monday - timedelta(days=1), user=user, lines=[(book, 3)], status=Order.Status.DELIVERED)  # last week

    figures = stats.overview(today=today)

    same_day = monday == today
    assert figures.today_orders == 3 + (1 if same_day else 0)
    assert figures.today_revenue == paid_today.total + (shipped_monday.total if same_day else 0)
    assert figures.week_orders == 4
    assert figures.week_revenue == paid_today.total + shipped_monday.total
    assert (figures.awaiting_payment, figures.awaiting_shipping) == (1, 1)

    response = admin_client.get("/admin/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="dashboard"' in page
    assert f"{figures.week_revenue} <span" in page
    assert "Awaiting shipping" in page and "Revenue, last 30 days" in page


def test_revenue_chart_has_thirty_days_with_zero_for_days_without_sales(user):
    book = BookFactory(price="10.00", stock=50)
    one = placed_on(days_ago(3), user=user, lines=[(book, 1)], status=Order.Status.PAID)
    two = placed_on(days_ago(3), user=user, lines=[(book, 2)], status=Order.Status.DELIVERED, hour=23)
    placed_on(days_ago(40), user=user, lines=[(book, 1)], status=Order.Status.PAID)  # outside the 30 days

    series = stats.revenue_by_day(days=30)

    assert len(series) == 30
    assert series[-1][0] == timezone.localdate() and series[0][0] == days_ago(29)
    by_day = {day: (revenue, orders) for day, revenue, orders in series}
    assert by_day[days_ago(3)] == (one.total + two.total, 2)
    assert sum(revenue for _, revenue, _ in series) == one.total + two.total
    assert by_day[days_ago(2)] == (Decimal("0.00"), 0)


def test_low_stock_lists_books_on_sale_emptiest_first(admin_client):
    BookFactory(title="Plenty", stock=30)
    BookFactory(title="Withdrawn Empty", stock=0, is_active=False)
    three = BookFactory(title="Three Left", stock=3)
    none = BookFactory(title="Sold Out", stock=0)
    one = BookFactory(title="Last Copy", stock=1)

    assert stats.low_stock_books() == [none, one, three]

    page = admin_client.get("/admin/").content.decode()
    assert page.index("Sold Out") < page.index("Last Copy") < page.index("Three Left")
    assert "Plenty" not in page and "Withdrawn Empty" not in page


def test_reviews_waiting_for_moderation_are_counted(admin_client, user, other_user):
    from catalog.models import Review, ReviewReport

    book = BookFactory()
    reported = Review.objects.create(book=book, user=user, rating=2, title="Fell apart")
    decided = Review.objects.create(book=book, user=other_user, rating=5, title="Old praise")
    Review.objects.create(book=book, user=UserFactory(), rating=4, title="Nobody minds")
    ReviewReport.objects.create(review=reported, user=other_user, reason="Spoilers")
    ReviewReport.objects.create(review=decided, user=user, reason="Rude", resolved_at=timezone.now())

    waiting = stats.reviews_to_moderate()

    assert list(waiting.values_list("title", flat=True)) == ["Fell apart"]
    page = admin_client.get("/admin/").content.decode()
    assert "Fell apart" in page and "Old praise" not in page


def test_dashboard_costs_a_fixed_number_of_queries(admin_client, user, django_assert_max_num_queries):
    admin_client.get("/admin/")  # warm: the session's user

    # The session and its user, then at most five: figures, 30 days, low stock, newest reviews, their count.
    def budget():
        with django_assert_max_num_queries(7) as captured:
            assert admin_client.get("/admin/").status_code == 200
        return len(captured)

    empty = budget()
    for n in range(12):
        placed_on(days_ago(n), user=user, lines=[(BookFactory(stock=n % 4 + 1), 1)], status=Order.Status.PAID)
    assert budget() == empty  # the same queries whatever the number of orders and books


def test_customers_cannot_open_the_dashboard(client, user):
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
