"""The bench writes the store's tables in SQL of its own: these tests keep it in step with the migrations.

`bench/generate.py` fills the catalog, carts and orders with INSERTs, and `bench/bare.py` checks out
with them; a NOT NULL column added by a migration (the review moderation's, the tracking number's)
breaks both without any other test noticing. So: generate a small catalog into the test database,
then read it through the store and check out through the bare app.
"""

import io
import json

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from bench import bare, generate
from catalog.models import Book, Review, Stock
from orders.models import Order, OrderLine

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BOOKS, USERS = 300, 60


@pytest.fixture
def bench_data():
    params = connection.get_connection_params()
    host, port = params.get("host") or "127.0.0.1", params.get("port") or 5432
    dsn = f"postgresql://{params.get('user') or 'postgres'}@{host}:{port}/{params['dbname']}"
    counts = generate.generate(
        dsn,
        books=BOOKS,
        authors=40,
        categories=20,
        users=USERS,
        reviews=2 * BOOKS,
        orders_users=10,
        log=lambda *a: None,
    )
    generate.refresh_search_vectors(log=lambda *a: None)
    return dsn, counts


def test_the_generator_fills_every_table_the_bench_reads(bench_data):
    assert Book.objects.count() == BOOKS
    assert Stock.objects.count() == BOOKS
    assert Review.objects.filter(status=Review.Status.PUBLISHED).exists()
    assert Order.objects.filter(user_id=1).count() == 5

    answer = APIClient().get("/api/v1/books", {"search": generate.WORDS[0]})
    assert answer.status_code == 200
    assert answer.json()["count"] > 0
    with connection.cursor() as cursor:  # the refresh dropped the vectors' index for its UPDATE: it is back
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'catalog_book_search_vector_gin'")
        assert "USING gin (search_vector)" in cursor.fetchone()[0]

    listed = APIClient().get("/api/v1/books").json()
    assert listed["count"] == Book.objects.filter(is_active=True).count()


def _bare(environ: dict) -> tuple[str, bytes]:
    statuses = []
    chunks = bare.app(environ, lambda status, headers: statuses.append(status))
    return statuses[0], b"".join(chunks)


INSTRUCTIONS = "Pay by bank transfer, quoting your order number."


def test_the_bare_apps_checkout_places_an_order_the_store_lists_alike(bench_data, monkeypatch, settings):
    """The bench compares the two apps' order lists byte for byte: with a payment, too."""
    dsn, _ = bench_data
    user = USERS  # no generated order history: an order placed now is the bare app's
    generate.fill_carts(dsn, first_user=user, last_user=user, books=BOOKS)
    monkeypatch.setenv("BARE_DSN", dsn)
    monkeypatch.setenv("SECRET_KEY", settings.SECRET_KEY)
    monkeypatch.setenv("MANUAL_PAYMENT_INSTRUCTIONS", INSTRUCTIONS)
    settings.MANUAL_PAYMENT_INSTRUCTIONS = INSTRUCTIONS
    monkeypatch.setattr(bare, "_local", type(bare._local)())  # a connection of its own, to this database
    token = str(AccessToken.for_user(User.objects.get(pk=user)))
    body = json.dumps(
        {
            "shipping_address": {
                "full_name": "Bench User",
                "line1": "1 Bench Street",
                "city": "Benchville",
                "postal_code": "12345",
                "country": "US",
            }
        }
    ).encode()
    placed = _bare(
        {
            "PATH_INFO": "/api/v1/orders",
            "REQUEST_METHOD": "POST",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
    )
    listed = _bare(
        {
            "PATH_INFO": "/api/v1/orders",
            "REQUEST_METHOD": "GET",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_HOST": "testserver",
        }
    )
    bare._local.conn.close()

    assert placed[0] == "201 Created", placed[1]
    order = Order.objects.get(user_id=user)
    assert OrderLine.objects.filter(order=order).count() == 3
    assert order.total == order.subtotal + order.shipping_cost
    assert order.payment.method == "manual" and order.payment.amount == order.total
    store = APIClient()
    store.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    answer = store.get("/api/v1/orders")
    assert answer.status_code == 200
    assert listed == ("200 OK", answer.content)


@pytest.mark.parametrize(
    "path, query",
    [
        ("/api/v1/books", ""),
        ("/api/v1/books", "page=3"),
        ("/api/v1/books", "min_price=10&max_price=40"),
        ("/api/v1/books/123", ""),
        ("/api/v1/books/7", ""),
    ],
)
def test_the_bare_app_answers_the_stores_book_list_and_detail_byte_for_byte(bench_data, monkeypatch, path, query):
    """The bench's same-bytes check of the catalog reads (catalog.reads builds them without DRF's fields)."""
    dsn, _ = bench_data
    monkeypatch.setenv("BARE_DSN", dsn)
    monkeypatch.setattr(bare, "_local", type(bare._local)())  # a connection of its own, to this database
    environ = {"PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": "GET", "HTTP_HOST": "testserver"}
    answered = _bare(environ)
    bare._local.conn.close()

    store = APIClient().get(f"{path}?{query}" if query else path)

    assert store.status_code == 200
    assert answered == ("200 OK", store.content)
