"""POST /orders: checkout, its money, its failures and its Idempotency-Key."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from rest_framework.settings import api_settings

from cart.models import CartItem
from catalog.models import Book, StockMovement
from catalog.tests.factories import BookFactory, stock_force
from orders.models import Order, OrderLine, OrderStatusChange
from orders.tests.factories import ADDRESS, cart_with
from shipping.models import ShippingMethod

pytestmark = pytest.mark.django_db

# The order with its first history line, the payment with its first event: on PostgreSQL one INSERT
# each pair (bookstore.inserts), elsewhere two: these are the statements SQLite adds.
PAIRED_INSERTS = 0 if connection.vendor == "postgresql" else 2


ORDERS = "/api/v1/orders"


def checkout(client, address=None, **headers):
    return client.post(ORDERS, {"shipping_address": address or ADDRESS}, **headers)


def error_codes(response) -> list[tuple[str, str | None]]:
    return [(error["code"], error["attr"]) for error in response.json()["errors"]]


def test_checkout_turns_the_cart_into_a_pending_order(
    user_client, user, mailoutbox, django_capture_on_commit_callbacks
):
    dune = BookFactory(title="Dune", isbn="9780441172719", price=Decimal("9.99"), stock=5)
    emma = BookFactory(title="Emma", price=Decimal("4.50"), stock=3)
    cart_with(user, (dune, 2), (emma, 1))

    with django_capture_on_commit_callbacks(execute=True):
        response = checkout(user_client)

    assert response.status_code == 201
    body = response.json()
    order = Order.objects.get(user=user)
    assert body["id"] == order.pk
    assert re.fullmatch(r"BK-[0-9A-HJKMNP-TV-Z]{10}", body["number"])
    assert body["status"] == "pending"
    assert body["items"] == [
        {
            "book_id": dune.pk,
            "title": "Dune",
            "isbn": "9780441172719",
            "unit_price": "9.99",
            "quantity": 2,
            "line_total": "19.98",
            "tax_rate": "0.0000",
            "tax_amount": "0.00",
        },
        {
            "book_id": emma.pk,
            "title": "Emma",
            "isbn": emma.isbn,
            "unit_price": "4.50",
            "quantity": 1,
            "line_total": "4.50",
            "tax_rate": "0.0000",
            "tax_amount": "0.00",
        },
    ]
    assert body["subtotal"] == "24.48"
    assert body["shipping_cost"] == "4.99"
    assert body["tax_total"] == "0.00"  # no rate configured for GB: no tax
    assert body["total"] == "29.47"
    assert body["shipping_method"] == {"code": "standard", "name": "Standard"}
    assert body["currency"] == "USD"
    assert body["shipping_address"] == ADDRESS
    assert [(entry["status"], entry["note"]) for entry in body["status_history"]] == [("pending", "Order placed.")]
    assert set(body) == {
        "id", "number", "status", "email", "items", "subtotal", "shipping_cost", "tax_total", "total", "currency",
        "shipping_method", "shipping_address", "status_history", "created_at", "updated_at", "payment", "refunds",
        "expires_at", "carrier", "tracking_number", "tracking_url",
    }  # fmt: skip

    # stock taken and recorded, cart emptied, confirmation sent
    assert {book.pk: book.stock for book in Book.objects.filter(pk__in=[dune.pk, emma.pk])} == {dune.pk: 3, emma.pk: 2}
    movements = StockMovement.objects.filter(order_reference=order.number).order_by("book_id")
    assert [(m.book_id, m.delta, m.stock_after, m.reason, m.actor_id) for m in movements] == [
        (dune.pk, -2, 3, "sale", user.pk),
        (emma.pk, -1, 2, "sale", user.pk),
    ]
    assert not CartItem.objects.filter(cart__user=user).exists()
    assert OrderStatusChange.objects.get(order=order).actor == user
    [mail] = mailoutbox
    assert mail.to == [user.email]
    assert order.number in mail.subject
    assert "29.47" in mail.body


def test_order_numbers_are_unique_and_random(user_client, user):
    numbers = []
    for _ in range(3):
        cart_with(user, (BookFactory(), 1))
        numbers.append(checkout(user_client).json()["number"])

    assert len(set(numbers)) == 3
    assert all(re.fullmatch(r"BK-[0-9A-Z]{10}", number) for number in numbers)


@pytest.mark.parametrize(
    ("price", "quantity", "subtotal", "shipping", "total"),
    [
        ("34.99", 1, "34.99", "4.99", "39.98"),  # one cent below the threshold
        ("35.00", 1, "35.00", "0.00", "35.00"),  # at the threshold: free
        ("11.67", 3, "35.01", "0.00", "35.01"),
        ("0.10", 3, "0.30", "4.99", "5.29"),  # 0.1 * 3 is not 0.3 in floats
        ("19.99", 100, "1999.00", "0.00", "1999.00"),
    ],
)
def test_checkout_money_is_exact_to_the_cent(user_client, user, price, quantity, subtotal, shipping, total):
    cart_with(user, (BookFactory(price=Decimal(price), stock=100), quantity))

    body = checkout(user_client).json()

    assert (body["subtotal"], body["shipping_cost"], body["total"]) == (subtotal, shipping, total)
    order = Order.objects.get(user=user)
    assert (order.subtotal, order.shipping_cost, order.total) == (Decimal(subtotal), Decimal(shipping), Decimal(total))


def test_checkout_charges_the_standard_method_as_staff_priced_it(user_client, user):
    ShippingMethod.objects.filter(code="standard").update(price=Decimal("7.50"), free_over=Decimal("50.00"))
    cart_with(user, (BookFactory(price=Decimal("40.00")), 1))

    body = checkout(user_client).json()

    assert (body["shipping_cost"], body["total"]) == ("7.50", "47.50")


def test_order_lines_keep_the_price_title_and_isbn_of_the_purchase(user_client, user):
    book = BookFactory(title="Old title", price=Decimal("12.50"))
    cart_with(user, (book, 2))
    order_id = checkout(user_client).json()["id"]

    Book.objects.filter(pk=book.pk).update(title="New title", price=Decimal("99.00"), isbn="9780000000002")
    body = user_client.get(f"{ORDERS}/{order_id}").json()

    assert body["items"][0] | {"book_id": None} == {
        "book_id": None,
        "title": "Old title",
        "isbn": book.isbn,
        "unit_price": "12.50",
        "quantity": 2,
        "line_total": "25.00",
        "tax_rate": "0.0000",
        "tax_amount": "0.00",
    }
    assert body["subtotal"] == "25.00"


def test_checkout_of_an_empty_cart_is_400_empty_cart(user_client, user):
    response = checkout(user_client)

    assert response.status_code == 400
    assert error_codes(response) == [("empty_cart", None)]
    assert not Order.objects.exists()


def test_checkout_with_a_withdrawn_book_is_409_naming_it_and_changes_nothing(user_client, user, mailoutbox):
    kept = BookFactory(stock=5)
    withdrawn = BookFactory(stock=5, title="Gone Book")
    cart_with(user, (kept, 1), (withdrawn, 1))
    Book.objects.filter(pk=withdrawn.pk).update(is_active=False)

    response = checkout(user_client)

    assert response.status_code == 409
    assert error_codes(response) == [("insufficient_stock", None)]
    assert "Gone Book" in response.json()["errors"][0]["detail"]
    assert response.json()["errors"][0]["meta"] == {"book_id": withdrawn.pk, "requested": 1, "available": 0}
    assert not Order.objects.exists()
    assert Book.objects.get(pk=kept.pk).stock == 5
    assert not StockMovement.objects.exists()
    assert CartItem.objects.filter(cart__user=user).count() == 2
    assert mailoutbox == []


def test_stock_gone_between_adding_and_checkout_is_409_naming_each_book_and_changes_nothing(user_client, user):
    fine = BookFactory(stock=5, title="Fine")
    short_a = BookFactory(stock=5, title="Short A")
    short_b = BookFactory(stock=5, title="Short B")
    cart_with(user, (fine, 1), (short_a, 3), (short_b, 2))
    stock_force(short_a.pk, 2)
    stock_force(short_b.pk, 0)

    response = checkout(user_client)

    assert response.status_code == 409
    errors = response.json()["errors"]
    assert [error["code"] for error in errors] == ["insufficient_stock", "insufficient_stock"]
    assert "Short A" in errors[0]["detail"] and "Short B" in errors[1]["detail"]
    assert [error["meta"] for error in errors] == [
        {"book_id": short_a.pk, "requested": 3, "available": 2},
        {"book_id": short_b.pk, "requested": 2, "available": 0},
    ]
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    assert dict(
        Book.objects.filter(pk__in=[fine.pk, short_a.pk, short_b.pk]).values_list("pk", "stock_record__quantity")
    ) == {
        fine.pk: 5,
        short_a.pk: 2,
        short_b.pk: 0,
    }
    assert not StockMovement.objects.exists()
    assert CartItem.objects.filter(cart__user=user).count() == 3


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"full_name": None}, ("null", "shipping_address.full_name")),
        ({"line1": ""}, ("blank", "shipping_address.line1")),
        ({"city": None}, ("null", "shipping_address.city")),
        ({"postal_code": ""}, ("blank", "shipping_address.postal_code")),
        ({"country": "XX"}, ("invalid", "shipping_address.country")),
        ({"country": "GBR"}, ("max_length", "shipping_address.country")),
        ({"country": ""}, ("blank", "shipping_address.country")),
        ({"phone": "call me"}, ("invalid", "shipping_address.phone")),
    ],
)
def test_checkout_with_a_bad_address_is_400_on_the_field(user_client, user, change, expected):
    book = BookFactory(stock=5)
    cart_with(user, (book, 1))

    response = checkout(user_client, ADDRESS | change)

    assert response.status_code == 400
    assert error_codes(response) == [expected]
    assert not Order.objects.exists()
    assert Book.objects.get(pk=book.pk).stock == 5


def test_checkout_with_a_missing_address_field_is_400_required(user_client, user):
    cart_with(user, (BookFactory(), 1))
    address = {key: value for key, value in ADDRESS.items() if key != "postal_code"}

    response = checkout(user_client, address)

    assert response.status_code == 400
    assert error_codes(response) == [("required", "shipping_address.postal_code")]


def test_checkout_without_an_address_is_400(user_client, user):
    cart_with(user, (BookFactory(), 1))

    response = user_client.post(ORDERS, {})

    assert response.status_code == 400
    assert error_codes(response) == [("required", "shipping_address")]


def test_checkout_accepts_optional_fields_absent_and_a_lower_case_country(user_client, user):
    cart_with(user, (BookFactory(), 1))
    address = {"full_name": "Jean Valjean", "line1": "1 rue de la Paix", "city": "Paris", "postal_code": "75002"}

    response = checkout(user_client, address | {"country": "fr"})

    assert response.status_code == 201
    assert response.json()["shipping_address"] == address | {"country": "FR", "line2": "", "region": "", "phone": ""}


def test_checkout_requires_authentication(api_client):
    assert checkout(api_client).status_code == 401


# Idempotency-Key


def test_same_idempotency_key_returns_the_same_order_and_takes_stock_once(
    user_client, user, mailoutbox, django_capture_on_commit_callbacks
):
    book = BookFactory(stock=5)
    cart_with(user, (book, 2))

    with django_capture_on_commit_callbacks(execute=True):
        first = checkout(user_client, HTTP_IDEMPOTENCY_KEY="checkout-42")
        second = checkout(user_client, HTTP_IDEMPOTENCY_KEY="checkout-42")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert Order.objects.count() == 1
    assert Book.objects.get(pk=book.pk).stock == 3
    assert StockMovement.objects.count() == 1
    assert len(mailoutbox) == 1


def test_same_idempotency_key_with_another_body_is_409(user_client, user):
    cart_with(user, (BookFactory(), 1))
    checkout(user_client, HTTP_IDEMPOTENCY_KEY="k1")
    cart_with(user, (BookFactory(), 1))

    response = checkout(user_client, ADDRESS | {"city": "Bath"}, HTTP_IDEMPOTENCY_KEY="k1")

    assert response.status_code == 409
    assert error_codes(response) == [("idempotency_key_reused", None)]
    assert Order.objects.count() == 1
    assert CartItem.objects.filter(cart__user=user).count() == 1


def test_a_new_idempotency_key_places_a_new_order(user_client, user):
    cart_with(user, (BookFactory(), 1))
    checkout(user_client, HTTP_IDEMPOTENCY_KEY="k1")
    cart_with(user, (BookFactory(), 1))

    response = checkout(user_client, HTTP_IDEMPOTENCY_KEY="k2")

    assert response.status_code == 201
    assert Order.objects.count() == 2


def test_idempotency_keys_belong_to_one_user(user_client, other_client, user, other_user):
    cart_with(user, (BookFactory(), 1))
    cart_with(other_user, (BookFactory(), 1))

    mine = checkout(user_client, HTTP_IDEMPOTENCY_KEY="same")
    theirs = checkout(other_client, HTTP_IDEMPOTENCY_KEY="same")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]


def test_an_idempotency_key_longer_than_255_characters_is_400(user_client, user):
    cart_with(user, (BookFactory(), 1))

    response = checkout(user_client, HTTP_IDEMPOTENCY_KEY="k" * 256)

    assert response.status_code == 400
    assert error_codes(response) == [("max_length", "Idempotency-Key")]
    assert not Order.objects.exists()


def test_a_failed_checkout_does_not_burn_its_idempotency_key(user_client, user):
    book = BookFactory(stock=1)
    cart_with(user, (book, 1))
    stock_force(book.pk, 0)
    assert checkout(user_client, HTTP_IDEMPOTENCY_KEY="retry-me").status_code == 409
    stock_force(book.pk, 1)

    response = checkout(user_client, HTTP_IDEMPOTENCY_KEY="retry-me")

    assert response.status_code == 201


def test_checkout_has_its_own_throttle_and_reads_are_not_counted(user_client, user, monkeypatch):
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "checkout", "2/min")

    statuses = [checkout(user_client).status_code for _ in range(3)]

    assert statuses == [400, 400, 429]  # empty cart twice, then throttled
    assert user_client.get(ORDERS).status_code == 200


# Query counts


def _checkout_queries(queries_of, client, user, lines: int, **headers) -> list[str]:
    """The checkout's SQL, what runs once its transaction commits included (the test's own never does)."""
    cart_with(user, *[(BookFactory(), 1) for _ in range(lines)])
    client.get(ORDERS)  # the user's row is read once, then cached

    def checkout_committed():
        with TestCase.captureOnCommitCallbacks(execute=True):
            return checkout(client, **headers)

    return queries_of(checkout_committed)


def test_checkout_runs_a_constant_number_of_queries(user_client, user, queries_of):
    one_line = _checkout_queries(queries_of, user_client, user, 1)
    ten_lines = _checkout_queries(queries_of, user_client, user, 10)

    assert len(ten_lines) == len(one_line)
    # cart lock (and touch); the shipping method; lines with their books locked; the country's tax rates;
    # stock update, movements; order and history, lines; empty cart; the payment and its ledger line
    # (payments). Each pair is one statement on PostgreSQL.
    # The response is built from what was written.
    assert len(ten_lines) == 10 + PAIRED_INSERTS, ten_lines


def test_checkout_with_queued_emails_adds_only_the_tasks_row(user_client, user, queries_of, settings):
    # As in production and in the bench (TASKS_BACKEND=database): the confirmation email is a task
    # row, written in the checkout's transaction and sent by `db_worker` (with TASKS_BACKEND=immediate
    # it is sent then, and reads nothing). The bench counts these 11 (PostgreSQL).
    settings.TASKS = {"default": {"BACKEND": "bookstore.tasks.DatabaseBackend", "QUEUES": ["default"]}}
    queries = _checkout_queries(queries_of, user_client, user, 3)

    assert len(queries) == 11 + PAIRED_INSERTS, queries
    assert sum(sql.startswith('INSERT INTO "django_tasks_database_dbtaskresult"') for sql in queries) == 1


@pytest.mark.django_db(transaction=True)
def test_checkout_commits_once_with_its_email_task_and_no_savepoint(user_client, user, settings):
    # Every round trip counts on the write path: one transaction holds the order, its payment and
    # the confirmation's task row (not a second one after it). On PostgreSQL no savepoint either: a
    # clash of random order numbers inserts nothing (ON CONFLICT DO NOTHING) and draws again;
    # elsewhere the order's INSERT is a savepoint that a clash rolls back.
    settings.TASKS = {"default": {"BACKEND": "bookstore.tasks.DatabaseBackend", "QUEUES": ["default"]}}
    cart_with(user, (BookFactory(), 1), (BookFactory(), 2))
    user_client.get(ORDERS)  # the user's row, cached
    with CaptureQueriesContext(connection) as captured:
        response = checkout(user_client)
    assert response.status_code == 201, response.content

    sql = [query["sql"] for query in captured]
    control = [s for s in sql if s in ("BEGIN", "COMMIT", "ROLLBACK") or "SAVEPOINT" in s]
    expected = ["BEGIN", "COMMIT"] if connection.vendor == "postgresql" else ["BEGIN", "SAVEPOINT", "RELEASE", "COMMIT"]
    assert [s.split(" ")[0] for s in control] == expected, control
    task = next(i for i, s in enumerate(sql) if s.startswith('INSERT INTO "django_tasks_database_dbtaskresult"'))
    assert sql.index("BEGIN") < task < sql.index("COMMIT")
    assert Order.objects.get().number == response.json()["number"]


def test_checkout_with_an_idempotency_key_adds_only_its_lookup(user_client, user, queries_of):
    queries = _checkout_queries(queries_of, user_client, user, 3, HTTP_IDEMPOTENCY_KEY="count-3")

    # The key's lookup, and the payments' check that the order found is not a replay with a payment already.
    assert len(queries) == 12 + PAIRED_INSERTS
    assert sum("idempotency_key" in sql and sql.startswith("SELECT") for sql in queries) == 1
