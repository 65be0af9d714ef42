"""The sales and bestsellers reports over HTTP: tables, chart data, CSV, and bad periods."""

import csv
import io
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from backoffice.tests.helpers import days_ago, placed_on
from catalog.tests.factories import BookFactory
from orders.models import Order
from payments.models import Payment

pytestmark = pytest.mark.django_db

SALES = "/admin/reports/sales/"
BESTSELLERS = "/admin/reports/bestsellers/"


def csv_of(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.fixture
def sales_history(user):
    """Three paid orders over two days, one refunded in part, and orders that are not sales."""
    dune = BookFactory(title="Dune", price="10.00", stock=100)
    emma = BookFactory(title="Emma", price="8.00", stock=100)
    first = placed_on(days_ago(5), user=user, lines=[(dune, 3)], status=Order.Status.DELIVERED)
    second = placed_on(days_ago(5), user=user, lines=[(dune, 1), (emma, 1)], status=Order.Status.SHIPPED)
    third = placed_on(days_ago(2), user=user, lines=[(emma, 5)], status=Order.Status.PAID)
    Payment.objects.create(
        order=third,
        method="manual",
        amount=third.total,
        amount_paid=third.total,
        amount_refunded="8.00",
        currency=third.currency,
        status="partially_refunded",
    )
    placed_on(days_ago(2), user=user, lines=[(dune, 7)])  # pending: not a sale
    placed_on(days_ago(2), user=user, lines=[(dune, 9)], status=Order.Status.CANCELLED)
    return {"dune": dune, "emma": emma, "orders": (first, second, third)}


def test_sales_by_day_table_and_totals(admin_client, sales_history):
    first, second, third = sales_history["orders"]
    response = admin_client.get(SALES, {"period": "day", "start": days_ago(6), "end": days_ago(0)})

    assert response.status_code == 200
    rows = [(label, row.orders, row.revenue, row.refunded) for label, row in response.context["rows"]]
    assert rows == [
        (days_ago(5).isoformat(), 2, first.total + second.total, Decimal("0.00")),
        (days_ago(2).isoformat(), 1, third.total, Decimal("8.00")),
    ]
    assert response.context["totals"]["net"] == first.total + second.total + third.total - Decimal("8.00")
    page = response.content.decode()
    assert 'id="sales-table"' in page and 'data-type="bar"' in page


def test_sales_by_week_and_month_add_up_to_the_same(admin_client, sales_history):
    total = sum(order.total for order in sales_history["orders"])
    for period in ("week", "month"):
        response = admin_client.get(SALES, {"period": period, "start": days_ago(30), "end": days_ago(0)})
        assert response.status_code == 200
        assert sum(row.revenue for _, row in response.context["rows"]) == total
        assert sum(row.orders for _, row in response.context["rows"]) == 3


def test_sales_csv(admin_client, sales_history):
    first, second, third = sales_history["orders"]
    rows = csv_of(admin_client.get(SALES, {"period": "day", "start": days_ago(6), "end": days_ago(0), "format": "csv"}))
    assert rows[0] == ["period", "orders", "revenue", "refunded", "net", "currency"]
    assert rows[1:] == [
        [days_ago(5).isoformat(), "2", str(first.total + second.total), "0.00", str(first.total + second.total), "USD"],
        [days_ago(2).isoformat(), "1", str(third.total), "8.00", str(third.total - Decimal("8.00")), "USD"],
    ]


def test_bestsellers_rank_copies_sold_in_paid_orders(admin_client, sales_history):
    response = admin_client.get(BESTSELLERS, {"start": days_ago(10), "end": days_ago(0)})
    assert response.status_code == 200
    assert [(row.title, row.copies, row.revenue) for row in response.context["rows"]] == [
        ("Emma", 6, Decimal("48.00")),
        ("Dune", 4, Decimal("40.00")),
    ]
    rows = csv_of(admin_client.get(BESTSELLERS, {"start": days_ago(10), "end": days_ago(0), "format": "csv"}))
    assert rows[0] == ["rank", "book_id", "title", "isbn", "copies", "revenue", "currency"]
    assert [row[2] for row in rows[1:]] == ["Emma", "Dune"]
    assert rows[1][4:6] == ["6", "48.00"]

    narrow = admin_client.get(BESTSELLERS, {"start": days_ago(3), "end": days_ago(0)})
    assert [(row.title, row.copies) for row in narrow.context["rows"]] == [("Emma", 5)]


def test_a_bad_period_is_a_form_error_not_a_crash(admin_client):
    backwards = admin_client.get(SALES, {"start": days_ago(0), "end": days_ago(5)})
    assert backwards.status_code == 400
    assert "after its end" in backwards.content.decode()
    assert admin_client.get(SALES, {"start": "not-a-date"}).status_code == 400
    assert admin_client.get(SALES, {"period": "decade"}).status_code == 400
    assert admin_client.get(BESTSELLERS, {"start": days_ago(0), "end": days_ago(5), "format": "csv"}).status_code == 400
    assert admin_client.get(BESTSELLERS, {"start": "2000-01-01", "end": days_ago(0)}).status_code == 400


def test_reports_default_to_the_last_30_days(admin_client, sales_history):
    response = admin_client.get(SALES)
    assert response.status_code == 200
    assert (response.context["start"], response.context["end"]) == (days_ago(29), days_ago(0))
    assert sum(row.orders for _, row in response.context["rows"]) == 3


def test_reports_are_in_the_sidebar_and_for_staff_only(admin_client, client, user):
    page = admin_client.get("/admin/").content.decode()
    assert SALES in page and BESTSELLERS in page
    client.force_login(user)
    assert client.get(SALES).status_code == 302


def test_reports_cost_a_fixed_number_of_queries(admin_client, sales_history, django_assert_max_num_queries):
    admin_client.get(SALES)
    with django_assert_max_num_queries(3):  # session, user, the report
        admin_client.get(SALES, {"period": "week"})
    with django_assert_max_num_queries(3):
        admin_client.get(BESTSELLERS)


def input_values(response) -> dict[str, str]:
    """The values the report form's inputs show (a date input without one shows a placeholder)."""
    values: dict[str, str] = {}

    class Inputs(HTMLParser):
        in_form = False

        def handle_starttag(self, tag, attrs):
            attributes = dict(attrs)
            if tag == "form":
                self.in_form = attributes.get("id") == "report-form"
            elif tag == "input" and self.in_form and attributes.get("name"):
                values[attributes["name"]] = attributes.get("value") or ""

        def handle_endtag(self, tag):
            if tag == "form":
                self.in_form = False

    Inputs().feed(response.content.decode())
    return values


def test_the_period_inputs_show_the_period_the_report_covers(admin_client):
    assert input_values(admin_client.get(SALES)) == {
        "start": days_ago(29).isoformat(),
        "end": days_ago(0).isoformat(),
    }
    shown = input_values(admin_client.get(BESTSELLERS, {"end": days_ago(3)}))
    assert (shown["start"], shown["end"], shown["limit"]) == (days_ago(32).isoformat(), days_ago(3).isoformat(), "20")
