"""The back office in a real browser: staff flows in the Django admin, driven by Playwright.

Playwright drives Debian's Chromium (`/usr/bin/chromium`); it never downloads a browser. The
tests skip on a machine without Chromium, but fail in CI (REQUIRE_POSTGRES=1) rather than
pass silently. Every step leaves a screenshot under `artifacts/screenshots/`.
"""

from decimal import Decimal

from django.core import mail
from PIL import Image
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from bookstore.tests.browser import STAFF_PASSWORD, Steps, log_in, messages, open_filters
from catalog.models import Author, Book, StockMovement
from catalog.tests.factories import BookFactory
from orders.models import Order
from orders.tests.factories import order_placed


def run_action(page, action: str, *orders: Order, note: str = "") -> None:
    page.goto("/admin/orders/order/")
    for order in orders:
        page.check(f"input[name=_selected_action][value='{order.pk}']")
    page.select_option("select[name=action]", action)
    if note:
        page.fill("#changelist-actions input[name=note]", note)
    page.click("button[name=index]")


def test_a_customer_cannot_sign_in_to_the_back_office(page, transactional_db, request):
    steps = Steps(page, request.node.name)
    customer = UserFactory(password=STAFF_PASSWORD)

    log_in(page, steps, customer.email, STAFF_PASSWORD)

    steps.shot("refused")
    assert page.url.endswith("/admin/login/?next=/admin/")
    assert "Please enter the correct email address and password for a staff account" in page.inner_text("body")


def test_staff_add_a_book_with_a_cover_find_it_and_restock_it_inline(page, staff, media_root, tmp_path, request):
    steps = Steps(page, request.node.name)
    cover = tmp_path / "cover.png"
    Image.new("RGB", (60, 90), (200, 40, 40)).save(cover, format="PNG")
    BookFactory(title="Unrelated Almanac", stock=40)

    log_in(page, steps, staff.email, STAFF_PASSWORD)
    assert page.locator("#site-name").inner_text() != ""
    assert page.url.endswith("/admin/")

    # An author.
    page.goto("/admin/catalog/author/add/")
    page.fill("#id_name", "Octavia Quill")
    page.fill("#id_bio", "Writes about lighthouses.")
    steps.shot("author-form")
    page.click("button[name=_save]")
    steps.shot("author-added")
    assert any("Octavia Quill" in text and "added successfully" in text for text in messages(page, "success"))
    author = Author.objects.get(name="Octavia Quill")

    # A book by that author, with an ISBN-10 and a cover upload; the slug fills itself from the title.
    page.goto("/admin/catalog/book/add/")
    page.fill("#id_isbn", "0-306-40615-2")
    page.locator("#id_title").press_sequentially("The Lamp Keeper")
    assert page.input_value("#id_slug") == "the-lamp-keeper"
    page.click(".field-authors .select2-selection")
    page.locator(".field-authors .select2-search__field").press_sequentially("Octavia")
    page.locator(".select2-results__option", has_text="Octavia Quill").click()
    page.fill("#id_price", "18.40")
    page.fill("#id_stock", "3")
    page.set_input_files("#id_cover", cover)
    steps.shot("book-form")
    page.click("button[name=_save]")
    steps.shot("book-added")
    assert any("The Lamp Keeper" in text and "added successfully" in text for text in messages(page, "success"))
    book = Book.objects.get(title="The Lamp Keeper")
    assert book.isbn == "9780306406157"  # stored as ISBN-13
    assert list(book.authors.all()) == [author]
    assert book.stock == 3
    assert (media_root / book.cover.name).is_file()
    assert list(book.stock_movements.values_list("reason", "delta", "stock_after", "actor")) == [
        (StockMovement.Reason.INITIAL, 3, 3, staff.pk)
    ]

    # The admin search finds it by author name, and only it; the thumbnail is the uploaded cover.
    page.fill("#searchbar", "quill")
    page.press("#searchbar", "Enter")
    steps.shot("search")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "The Lamp Keeper" in rows.first.inner_text()
    thumbnail = rows.first.locator(".field-cover_thumbnail img")
    thumbnail.wait_for()
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth") == 60

    # The "stock level" filter: low stock lists it, healthy stock does not.
    page.goto("/admin/catalog/book/")
    open_filters(page)
    page.locator("#changelist-filter a", has_text="Low (1-5)").click()
    steps.shot("filter-low-stock")
    listed = page.inner_text("#result_list")
    assert "The Lamp Keeper" in listed and "Unrelated Almanac" not in listed

    # Restock in the changelist (list_editable): the ledger records the adjustment.
    page.goto("/admin/catalog/book/?q=lamp+keeper")
    page.fill("#id_form-0-stock", "12")
    steps.shot("inline-stock-edit")
    page.click("button[name=_save][form=changelist-form]")
    steps.shot("inline-stock-saved")
    assert "1 book was changed successfully." in messages(page, "success")
    assert page.input_value("#id_form-0-stock") == "12"
    book.refresh_from_db()
    assert book.stock == 12
    assert list(book.stock_movements.values_list("reason", "delta", "stock_after")) == [
        (StockMovement.Reason.ADJUSTMENT, 9, 12),
        (StockMovement.Reason.INITIAL, 3, 3),
    ]

    # The book's page shows its stock movements, newest first.
    page.locator("#result_list tbody a", has_text="The Lamp Keeper").click()
    ledger = page.locator("#stock_movements-group")
    ledger.scroll_into_view_if_needed()
    steps.shot("stock-ledger")
    ledger_rows = ledger.locator("tbody tr.has_original, tbody tr.form-row").all_inner_texts()
    assert len(ledger_rows) == 2
    assert "Adjustment" in ledger_rows[0] and "12" in ledger_rows[0] and staff.email in ledger_rows[0]
    assert "Initial" in ledger_rows[1]


def test_staff_move_an_order_with_the_actions_and_see_refusals(page, staff, request):
    steps = Steps(page, request.node.name)
    customer = UserFactory(email="reader@example.com")
    book = BookFactory(title="Moby-Dick", stock=5)
    first = order_placed(user=customer, lines=[(book, 2)])
    second = order_placed(user=customer, lines=[(book, 1)])
    mail.outbox.clear()

    log_in(page, steps, staff.email, STAFF_PASSWORD)
    page.goto("/admin/orders/order/")
    steps.shot("orders")
    listed = page.inner_text("#result_list")
    assert first.number in listed and second.number in listed and customer.email in listed

    run_action(page, "mark_paid", first, note="Transfer received.")
    steps.shot("marked-paid")
    assert messages(page, "success") == ["1 order(s) now paid."]
    first.refresh_from_db()
    assert first.status == Order.Status.PAID

    run_action(page, "mark_paid", first)
    steps.shot("paid-twice-refused")
    assert messages(page, "error") == [f"{first.number}: An order cannot move from “paid” to “paid”."]
    assert messages(page, "success") == []
    assert first.status_history.count() == 2  # placed, paid: the refusal wrote nothing

    run_action(page, "mark_shipped", first, note="Posted second class.")
    steps.shot("marked-shipped")
    assert messages(page, "success") == ["1 order(s) now shipped."]
    first.refresh_from_db()
    assert first.status == Order.Status.SHIPPED

    run_action(page, "mark_delivered", second)
    steps.shot("deliver-pending-refused")
    assert messages(page, "error") == [f"{second.number}: An order cannot move from “pending” to “delivered”."]
    second.refresh_from_db()
    assert second.status == Order.Status.PENDING

    # The order's page: read-only record with its lines and the history the actions wrote.
    page.locator("#result_list tbody a", has_text=first.number).click()
    steps.shot("order-page")
    assert page.locator("#status_history-group .field-status .readonly").last.inner_text() == "Shipped"
    assert "Moby-Dick" in page.locator("#items-group").inner_text()
    history = page.locator("#status_history-group").inner_text()
    assert "Transfer received." in history and "Posted second class." in history and staff.email in history
    book.refresh_from_db()
    assert book.stock == 2  # 5 - 2 - 1: no stock moved by the status changes
    assert [message.subject for message in mail.outbox] == [
        f"Your Bookstore order {first.number} is paid",
        f"Your Bookstore order {first.number} is shipped",
    ]


def test_sales_made_while_staff_edit_the_changelist_are_kept(page, staff, request):
    steps = Steps(page, request.node.name)
    customer = UserFactory()
    sold = BookFactory(title="Bestseller Atlas", stock=5, price="20.00")
    edited = BookFactory(title="Quiet Primer", stock=5, price="10.00")

    shop = APIClient()
    assert shop.get(f"/api/v1/books/{edited.pk}").json()["price"] == "10.00"  # the public read, now cached

    log_in(page, steps, staff.email, STAFF_PASSWORD)
    page.goto("/admin/catalog/book/?o=2")  # by title: Bestseller Atlas is row 0, Quiet Primer row 1
    assert page.input_value("#id_form-0-stock") == page.input_value("#id_form-1-stock") == "5"
    order_placed(user=customer, lines=[(sold, 2)])  # a customer buys while the page is open

    # A price edit on another row leaves the sold book's stock at what the sale made of it.
    page.fill("#id_form-1-price", "11.00")
    page.click("button[name=_save][form=changelist-form]")
    steps.shot("price-edit-saved")
    assert "1 book was changed successfully." in messages(page, "success")
    sold.refresh_from_db()
    edited.refresh_from_db()
    assert (sold.stock, edited.price, edited.stock) == (3, Decimal("11.00"), 5)
    assert list(sold.stock_movements.values_list("reason", flat=True)) == [StockMovement.Reason.SALE]
    assert page.input_value("#id_form-0-stock") == "3"
    assert shop.get(f"/api/v1/books/{edited.pk}").json()["price"] == "11.00"  # customers see the new price

    # A stock edit over a level that a sale changed meanwhile is refused, not applied.
    order_placed(user=customer, lines=[(sold, 1)])
    page.fill("#id_form-0-stock", "9")
    page.click("button[name=_save][form=changelist-form]")
    steps.shot("stale-stock-refused")
    assert "The stock changed from 3 to 2 while you were editing" in page.inner_text("#result_list")
    sold.refresh_from_db()
    assert sold.stock == 2

    # Seen afresh, the edit goes through the ledger.
    page.goto("/admin/catalog/book/?o=2")
    page.fill("#id_form-0-stock", "9")
    page.click("button[name=_save][form=changelist-form]")
    steps.shot("fresh-stock-saved")
    sold.refresh_from_db()
    assert sold.stock == 9
    assert sold.stock_movements.values_list("reason", "delta", "stock_after", "actor").first() == (
        StockMovement.Reason.ADJUSTMENT,
        7,
        9,
        staff.pk,
    )
