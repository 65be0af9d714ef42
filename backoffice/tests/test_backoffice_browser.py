"""The new back office (django-unfold) in a real browser at a laptop's 1366×768: the dashboard, the
orders desk's move form and packing slip, and the sales report.

The browser, the staff member and the Chromium set-up are the admin browser tests' own
(`bookstore/tests/browser.py`, a plugin of the root conftest): Debian's Chromium, never a downloaded one; skipped
without it, failed under REQUIRE_CHROMIUM=1. Each page leaves a screenshot under `artifacts/screenshots/`.
"""

import pytest

from accounts.tests.factories import UserFactory
from backoffice.tests.helpers import days_ago, placed_on
from bookstore.tests.browser import SCREENSHOTS, STAFF_PASSWORD
from catalog.tests.factories import BookFactory
from orders.models import Order
from orders.tests.factories import order_placed


@pytest.fixture
def signed_in(page, staff):
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", staff.email)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url("**/admin/")
    return page


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def rows_of(page, selector: str) -> list[int]:
    """How many of the elements sit on each row of the page, top to bottom."""
    tops = [round(box["y"]) for box in (item.bounding_box() for item in page.locator(selector).all()) if box]
    return [tops.count(top) for top in sorted(set(tops))]


def lines_of(page, selector: str) -> int:
    """How many lines an inline element's text takes (one box per line)."""
    return page.locator(selector).first.evaluate("element => element.getClientRects().length")


def kpi(page, slug: str) -> str:
    return page.locator(f"[data-kpi={slug}] .bo-kpi-value").inner_text().strip()


def test_the_dashboard_shows_todays_figures_and_low_stock_books(signed_in):
    page = signed_in
    customer = UserFactory()
    book = BookFactory(title="Harbour Lights", price="20.00", stock=50)
    paid = placed_on(days_ago(0), user=customer, lines=[(book, 2)], status=Order.Status.PAID)
    placed_on(days_ago(0), user=customer, lines=[(book, 1)])  # pending: an order, not revenue
    BookFactory(title="Sold Out Sonnets", stock=0)
    BookFactory(title="Last Copy Ledger", stock=1)
    BookFactory(title="Plenty Of Pages", stock=40)

    page.goto("/admin/")
    page.locator("#dashboard").wait_for()
    shot(page, "dashboard")

    # the six figures in one row or a balanced grid at a laptop's width, not five and one left over
    per_row = rows_of(page, "#kpis > *")
    assert sum(per_row) == 6 and len(set(per_row)) == 1, per_row
    assert kpi(page, "orders-today") == "2"
    assert kpi(page, "revenue-today").split()[0] == str(paid.total)
    low_stock = page.locator("#low-stock tbody tr").all_inner_texts()
    assert [row.split("\t")[0].strip() for row in low_stock] == ["Sold Out Sonnets", "Last Copy Ledger"]
    assert "Plenty Of Pages" not in page.locator("#low-stock").inner_text()


def test_the_orders_desk_ships_a_paid_order_with_tracking_and_prints_its_packing_slip(signed_in):
    page = signed_in
    customer = UserFactory(email="reader@example.com")
    order = order_placed(user=customer, lines=[(BookFactory(title="Moby-Dick", stock=5), 1)], status=Order.Status.PAID)

    page.goto("/admin/orders/order/")
    shot(page, "orders-desk")
    assert order.number in page.locator("#result_list tbody").inner_text()
    assert lines_of(page, "#result_list tbody .field-number a") == 1  # the order number on one line

    page.locator("#result_list tbody a", has_text=order.number).click()
    page.click("#move-order")
    assert page.locator("#current-status").inner_text() == "Paid"
    # the page names the order and what is done to it, in the tab and the header's breadcrumbs
    assert page.title().startswith(f"Move order {order.number}")
    crumbs = [crumb.strip() for crumb in page.locator("#header-inner h1 .truncate").all_inner_texts()]
    assert crumbs == ["Orders", "Orders", order.number, "Change its status"]
    page.select_option("#id_status", "shipped")
    page.fill("#id_note", "Left the warehouse at 4 pm.")
    page.fill("#id_carrier", "Royal Mail")
    page.fill("#id_tracking_number", "RM123456789GB")
    shot(page, "order-ship")
    page.click("#move-submit")

    # Unfold renders messages without Django's `ul.messagelist li.success`: the text is what staff see.
    page.get_by_text(f"{order.number} is now shipped.", exact=True).wait_for()
    assert page.url.endswith(f"/admin/orders/order/{order.pk}/change/")
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == (Order.Status.SHIPPED, "Royal Mail", "RM123456789GB")

    slip = page.request.get(page.get_attribute("#packing-slip", "href"))
    assert slip.status == 200
    assert slip.headers["content-type"] == "application/pdf"
    assert slip.body().startswith(b"%PDF")


def test_the_sales_report_shows_a_row_per_day_with_sales(signed_in):
    page = signed_in
    book = BookFactory(price="12.00", stock=50)
    sale = placed_on(days_ago(2), user=UserFactory(), lines=[(book, 3)], status=Order.Status.DELIVERED)

    page.goto("/admin/reports/sales/")
    table = page.locator("#sales-table")
    table.wait_for()
    shot(page, "report-sales")
    # the inputs show the period the report covers (the last 30 days), not empty date placeholders
    assert (page.input_value("#id_start"), page.input_value("#id_end")) == (
        days_ago(29).isoformat(),
        days_ago(0).isoformat(),
    )

    rows = table.locator("tbody tr").all_inner_texts()
    assert len(rows) == 1
    assert str(sale.total) in rows[0]
