"""Passing faults of the real services: Redis stops, the database connection dies mid-checkout,
the database goes away and comes back. No 500, no lost or half-written order, no lost stock.

These act on this test run's own Redis (started here, on a free port) and on this run's own
test database only; the machine's PostgreSQL and Redis keep running for everyone else.
"""

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from unittest import mock

import psycopg
import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from bookstore.tests.clients import client_for
from cart.models import CartItem
from cart.tests.factories import CartFactory, CartItemFactory
from catalog.models import StockMovement
from catalog.tests.factories import BookFactory, stock_force
from orders import services as order_services
from orders.models import Order
from orders.tests.factories import ADDRESS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _client(user=None) -> APIClient:
    """A client that returns 5xx responses instead of re-raising what the handler reported."""
    if user is None:
        return APIClient(raise_request_exception=False)
    return client_for(user, raise_request_exception=False)


def _assert_no_internals(response) -> None:
    text = response.content.decode()
    for leak in ("Traceback", "psycopg", "OperationalError", "terminat", "127.0.0.1", "SECRET", "postgres"):
        assert leak not in text, (leak, text)


def _admin_connection():
    """A connection to the server's `postgres` database, outside Django: the fault injector."""
    params = connection.settings_dict
    return psycopg.connect(
        dbname="postgres",
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        autocommit=True,
    )


# --- 1. Redis stops --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis():
    """A private redis-server on a free port, with the cache pointed at it; yields a killer."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed for the Redis outage test")
    port = _free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("private redis-server did not start")
            time.sleep(0.05)
    caches = {
        "default": {
            "BACKEND": "bookstore.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "faults",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

    def kill():
        process.kill()
        process.wait(timeout=10)

    try:
        with override_settings(CACHES=caches, REDIS_URL=url):
            yield kill
    finally:
        if process.poll() is None:
            kill()


def test_with_redis_stopped_reads_work_login_is_503_and_readiness_names_the_cache(own_redis, user, password):
    book = BookFactory()
    cart = CartFactory(user=user)
    CartItemFactory(cart=cart, book=book, quantity=1)
    client = _client(user)
    anonymous = _client()
    assert client.get("/health/ready").status_code == 200
    assert client.get("/api/v1/books").status_code == 200  # the cache really is in use

    own_redis()

    for path in ("/api/v1/books", f"/api/v1/books/{book.pk}", "/api/v1/cart", "/api/v1/auth/me", "/api/v1/orders"):
        assert client.get(path).status_code == 200, path
    assert anonymous.get("/api/v1/books").status_code == 200
    assert anonymous.get(f"/api/v1/books/{book.pk}").status_code == 200

    login = anonymous.post("/api/v1/auth/token", {"email": user.email, "password": password}, format="json")
    assert login.status_code == 503
    assert int(login["Retry-After"]) > 0
    assert login.json() == {
        "type": "server_error",
        "errors": [{"code": "service_unavailable", "detail": login.json()["errors"][0]["detail"], "attr": None}],
    }

    ready = anonymous.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "cache": "unavailable"}
    assert ready.json()["failed"] == ["cache"]
    _assert_no_internals(ready)


# --- 2. The database connection dies in the middle of a checkout ---------------------------------


@contextmanager
def connection_killed_during(target: str):
    """Patches `orders.services.<target>` to have the request's own backend terminated right there."""
    original = getattr(order_services, target)
    calls = {"n": 0}

    def killer(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            with _admin_connection() as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        return original(*args, **kwargs)

    with mock.patch.object(order_services, target, side_effect=killer):
        yield calls


@pytest.mark.parametrize("target", ["stock_apply", "cart_empty"])
def test_connection_cut_mid_checkout_is_a_503_and_the_retry_places_the_order_once(target, user):
    book = BookFactory(stock=5)
    stock_force(book.pk, 5)
    StockMovement.objects.create(book=book, delta=5, stock_after=5, reason=StockMovement.Reason.INITIAL)
    cart = CartFactory(user=user)
    CartItemFactory(cart=cart, book=book, quantity=2)
    client = _client(user)
    body = {"shipping_address": ADDRESS}

    with connection_killed_during(target) as calls:
        response = client.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert calls["n"] == 1
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response.json()["type"] == "server_error"
    assert response.json()["errors"][0]["code"] == "service_unavailable"
    _assert_no_internals(response)

    # Nothing of the checkout survived: no order, stock and ledger untouched, the cart intact.
    assert Order.objects.count() == 0
    book.refresh_from_db()
    assert book.stock == 5
    assert list(StockMovement.objects.filter(book=book).values_list("delta", flat=True)) == [5]
    assert CartItem.objects.filter(cart__user=user).count() == 1

    retry = client.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert retry.status_code == 201, retry.content
    again = client.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert again.status_code == 201
    assert again.json()["id"] == retry.json()["id"]
    assert Order.objects.count() == 1
    book.refresh_from_db()
    assert book.stock == 3
    assert sum(StockMovement.objects.filter(book=book).values_list("delta", flat=True)) == 3


# --- 3. The database goes away and comes back ------------------------------------------------------


@contextmanager
def database_away():
    """Refuses new connections to this run's test database and ends the existing ones."""
    name = connection.settings_dict["NAME"]
    assert name.startswith("test_"), name  # never anyone else's database
    with _admin_connection() as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def test_readiness_follows_the_database_without_a_restart(user):
    book = BookFactory()
    client = _client(user)
    anonymous = _client()
    assert anonymous.get("/health/ready").status_code == 200

    with database_away():
        for _ in range(2):  # the dead connection, then a refused new one
            ready = anonymous.get("/health/ready")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"] == "unavailable"
            _assert_no_internals(ready)
        for api_client, path in ((anonymous, "/api/v1/books"), (client, "/api/v1/cart"), (client, "/api/v1/orders")):
            response = api_client.get(path)
            assert response.status_code == 503, (path, response.content)
            assert int(response["Retry-After"]) > 0
            assert response.json()["errors"][0]["code"] == "service_unavailable"
            _assert_no_internals(response)

    assert anonymous.get("/health/ready").status_code == 200
    assert anonymous.get(f"/api/v1/books/{book.pk}").status_code == 200
    assert client.get("/api/v1/cart").status_code == 200
