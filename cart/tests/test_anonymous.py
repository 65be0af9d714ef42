"""Anonymous carts keyed by a Cart-Token, expiry and pruning, and the merge on sign-in."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from cart.models import Cart, CartItem, cart_token_hash
from cart.tests.factories import CartFactory, CartItemFactory
from catalog.models import Book
from catalog.tests.factories import BookFactory, stock_force

pytestmark = pytest.mark.django_db

# The order with its first history line, the payment with its first event: on PostgreSQL one INSERT
# each pair (bookstore.inserts), elsewhere two: these are the statements SQLite adds.
PAIRED_INSERTS = 0 if connection.vendor == "postgresql" else 2


CART = "/api/v1/cart"
ITEMS = "/api/v1/cart/items"


def _anonymous_cart(api_client, *lines) -> str:
    """Adds `(book, quantity)` lines as an anonymous shopper; returns the cart's token."""
    token = None
    for book, quantity in lines:
        headers = {"HTTP_CART_TOKEN": token} if token else {}
        response = api_client.post(ITEMS, {"book_id": book.pk, "quantity": quantity}, **headers)
        assert response.status_code == 201, response.content
        token = response.json()["cart_token"]
    return token


def test_the_first_add_without_auth_creates_a_cart_and_answers_its_token(api_client):
    book = BookFactory(price=Decimal("7.00"), stock=5)

    response = api_client.post(ITEMS, {"book_id": book.pk, "quantity": 2})

    assert response.status_code == 201
    body = response.json()
    token = body["cart_token"]
    assert response["Cart-Token"] == token
    assert len(token) >= 43  # 256 random bits, URL-safe base64
    assert (body["total_quantity"], body["subtotal"], body["notices"]) == (2, "14.00", [])
    cart = Cart.objects.get()
    assert cart.user is None and cart.token_hash == cart_token_hash(token)
    assert token not in str(Cart.objects.values_list().get())  # only the hash is stored

    again = api_client.post(ITEMS, {"book_id": book.pk}, HTTP_CART_TOKEN=token)
    assert again.status_code == 201
    assert again.json()["items"][0]["quantity"] == 3
    assert Cart.objects.count() == 1
    shown = api_client.get(CART, HTTP_CART_TOKEN=token).json()
    assert (shown["cart_token"], shown["total_quantity"]) == (token, 3)


def test_anonymous_carts_are_isolated_from_each_other(api_client):
    mine = _anonymous_cart(api_client, (BookFactory(), 1))
    theirs = _anonymous_cart(api_client, (BookFactory(), 2))
    their_line = CartItem.objects.get(cart__token_hash=cart_token_hash(theirs))

    assert api_client.patch(f"{ITEMS}/{their_line.pk}", {"quantity": 5}, HTTP_CART_TOKEN=mine).status_code == 404
    assert api_client.delete(f"{ITEMS}/{their_line.pk}", HTTP_CART_TOKEN=mine).status_code == 404
    assert api_client.get(CART, HTTP_CART_TOKEN=mine).json()["total_quantity"] == 1
    their_line.refresh_from_db()
    assert their_line.quantity == 2


@pytest.mark.parametrize("token", ["no-such-token", "x" * 129, "tök", " ", "a\tb"])
def test_an_unknown_or_malformed_token_is_404_and_creates_nothing(api_client, token):
    book = BookFactory()

    for response in [
        api_client.get(CART, HTTP_CART_TOKEN=token),
        api_client.post(ITEMS, {"book_id": book.pk}, HTTP_CART_TOKEN=token),
        api_client.delete(CART, HTTP_CART_TOKEN=token),
    ]:
        assert response.status_code == 404, response.content
        assert response.json()["errors"][0]["code"] == "not_found"
    assert not Cart.objects.exists()


def test_an_expired_anonymous_cart_is_404_and_pruned(api_client, settings):
    settings.ANONYMOUS_CART_DAYS = 30
    old = _anonymous_cart(api_client, (BookFactory(), 1))
    fresh = _anonymous_cart(api_client, (BookFactory(), 1))
    Cart.objects.filter(token_hash=cart_token_hash(old)).update(updated_at=timezone.now() - timedelta(days=31))
    signed_in = CartFactory()
    Cart.objects.filter(pk=signed_in.pk).update(updated_at=timezone.now() - timedelta(days=400))

    assert api_client.get(CART, HTTP_CART_TOKEN=old).status_code == 404
    out = StringIO()
    call_command("prune_carts", stdout=out)

    assert "Deleted 1 anonymous cart(s)" in out.getvalue()
    assert set(Cart.objects.values_list("token_hash", flat=True)) == {cart_token_hash(fresh), None}
    assert Cart.objects.filter(pk=signed_in.pk).exists()  # users' carts never expire


def test_a_signed_in_caller_uses_their_own_cart_whatever_cart_token_they_send(user_client, api_client, user):
    token = _anonymous_cart(api_client, (BookFactory(), 2))

    body = user_client.get(CART, HTTP_CART_TOKEN=token).json()

    assert (body["cart_token"], body["total_quantity"]) == (None, 0)


def test_anonymous_cart_requests_are_throttled_as_anonymous(api_client, settings, monkeypatch):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] | {"anon": "3/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    book = BookFactory(stock=50)

    statuses = [api_client.post(ITEMS, {"book_id": book.pk}).status_code for _ in range(4)]

    assert statuses[:3] == [201, 201, 201]
    assert statuses[3] == 429


# Merging on sign-in


def test_signing_in_with_a_cart_token_merges_it_and_reports_what_changed(api_client, user, password):
    plenty, scarce, gone, sold_out, new = (BookFactory(stock=s) for s in (10, 3, 5, 5, 4))
    mine = CartFactory(user=user)
    CartItemFactory(cart=mine, book=plenty, quantity=2)
    CartItemFactory(cart=mine, book=scarce, quantity=2)
    token = _anonymous_cart(api_client, (plenty, 3), (scarce, 2), (gone, 1), (sold_out, 1), (new, 4))
    Book.objects.filter(pk=gone.pk).update(is_active=False)
    stock_force(sold_out.pk, 0)

    response = api_client.post("/api/v1/auth/token", {"email": user.email, "password": password, "cart_token": token})

    assert response.status_code == 200
    body = response.json()
    assert body["access"] and body["refresh"]
    assert body["cart_merge"] == {
        "merged": [{"book_id": plenty.pk, "quantity": 5}, {"book_id": new.pk, "quantity": 4}],
        "clamped": [{"book_id": scarce.pk, "requested": 4, "quantity": 3}],
        "dropped": [{"book_id": gone.pk, "reason": "withdrawn"}, {"book_id": sold_out.pk, "reason": "out_of_stock"}],
    }
    assert dict(CartItem.objects.filter(cart=mine).values_list("book_id", "quantity")) == {
        plenty.pk: 5,
        scarce.pk: 3,
        new.pk: 4,
    }
    assert not Cart.objects.filter(user__isnull=True).exists()  # the anonymous cart is gone
    assert api_client.get(CART, HTTP_CART_TOKEN=token).status_code == 404
    again = api_client.post("/api/v1/auth/token", {"email": user.email, "password": password, "cart_token": token})
    assert (again.status_code, again.json()["cart_merge"]) == (200, None)  # merges once


def test_merge_caps_a_line_at_100_copies(api_client, user, password):
    book = BookFactory(stock=500)
    CartItemFactory(cart=CartFactory(user=user), book=book, quantity=60)
    token = _anonymous_cart(api_client, (book, 50))

    body = api_client.post("/api/v1/auth/token", {"email": user.email, "password": password, "cart_token": token})

    assert body.json()["cart_merge"]["clamped"] == [{"book_id": book.pk, "requested": 110, "quantity": 100}]


@pytest.mark.parametrize("cart_token", ["unknown", "", None, 12, ["x"], {"a": 1}, "x" * 5000])
def test_a_bad_cart_token_never_fails_the_sign_in(api_client, user, password, cart_token):
    response = api_client.post(
        "/api/v1/auth/token", {"email": user.email, "password": password, "cart_token": cart_token}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["cart_merge"] is None


def test_a_sign_in_without_cart_token_has_a_null_cart_merge(api_client, user, password):
    body = api_client.post("/api/v1/auth/token", {"email": user.email, "password": password}).json()

    assert body["cart_merge"] is None


def test_cookie_login_and_register_merge_too(api_client, user, password):
    book = BookFactory(stock=9)
    token = _anonymous_cart(api_client, (book, 2))

    login = api_client.post(
        "/api/v1/auth/cookie/login", {"email": user.email, "password": password, "cart_token": token}
    )

    assert login.status_code == 200
    assert login.json()["cart_merge"]["merged"] == [{"book_id": book.pk, "quantity": 2}]
    assert login.json()["email"] == user.email
    stranger = APIClient()  # api_client is signed in by its cookies now
    other = _anonymous_cart(stranger, (book, 1))
    registered = stranger.post(
        "/api/v1/auth/register", {"email": "new@example.com", "password": password, "cart_token": other}
    )
    assert registered.status_code == 201, registered.content
    assert registered.json()["cart_merge"]["merged"] == [{"book_id": book.pk, "quantity": 1}]
    assert CartItem.objects.get(cart__user__email="new@example.com").quantity == 1


def test_a_wrong_password_merges_nothing(api_client, user):
    token = _anonymous_cart(api_client, (BookFactory(), 1))

    response = api_client.post("/api/v1/auth/token", {"email": user.email, "password": "wrong", "cart_token": token})

    assert response.status_code == 401
    assert api_client.get(CART, HTTP_CART_TOKEN=token).json()["total_quantity"] == 1


def test_a_failing_merge_does_not_fail_the_sign_in(api_client, user, password, monkeypatch):
    from django.db import DatabaseError

    from cart import services

    token = _anonymous_cart(api_client, (BookFactory(), 1))

    def broken(**kwargs):
        raise DatabaseError("boom")

    monkeypatch.setattr(services, "_cart_merge", broken)
    response = api_client.post("/api/v1/auth/token", {"email": user.email, "password": password, "cart_token": token})

    assert (response.status_code, response.json()["cart_merge"]) == (200, None)


def test_anonymous_cart_reads_and_adds_run_a_constant_number_of_queries(api_client, queries_of):
    books = BookFactory.create_batch(11)
    token = _anonymous_cart(api_client, (books[0], 1))
    with_one_line = queries_of(lambda: api_client.get(CART, HTTP_CART_TOKEN=token))
    for book in books[1:10]:
        api_client.post(ITEMS, {"book_id": book.pk}, HTTP_CART_TOKEN=token)

    with_ten_lines = queries_of(lambda: api_client.get(CART, HTTP_CART_TOKEN=token))
    add = queries_of(lambda: api_client.post(ITEMS, {"book_id": books[10].pk}, HTTP_CART_TOKEN=token))

    assert len(with_ten_lines) == len(with_one_line) == 2  # the cart by its token's hash, its lines with their books
    statements = [sql for sql in add if sql not in {"BEGIN", "COMMIT"}]
    # lock and touch the cart by its token's hash, the lines' books with the added one, the share lock, insert
    assert len(statements) == 4, statements


def test_a_guest_checkout_runs_a_constant_number_of_queries(api_client, queries_of):
    from orders.tests.factories import ADDRESS

    token = _anonymous_cart(api_client, *[(BookFactory(), 1) for _ in range(10)])

    queries = queries_of(
        lambda: api_client.post(
            "/api/v1/orders", {"shipping_address": ADDRESS, "email": "g@example.com"}, HTTP_CART_TOKEN=token
        )
    )

    statements = [sql for sql in queries if not sql.startswith(("BEGIN", "COMMIT"))]
    # as a signed-in checkout (10, 12 on SQLite), the user's row aside: cart lock, shipping method, lines and
    # books locked, tax rates, stock update and movements, order and history, lines, empty cart, payment and
    # its ledger line
    assert len(statements) == 10 + PAIRED_INSERTS, statements


def test_a_guest_checkout_with_an_idempotency_key_adds_only_its_lookups(api_client, queries_of):
    from orders.tests.factories import ADDRESS

    token = _anonymous_cart(api_client, *[(BookFactory(), 1) for _ in range(3)])

    queries = queries_of(
        lambda: api_client.post(
            "/api/v1/orders",
            {"shipping_address": ADDRESS, "email": "g@example.com"},
            HTTP_CART_TOKEN=token,
            HTTP_IDEMPOTENCY_KEY="guest-count",
        )
    )

    statements = [sql for sql in queries if not sql.startswith(("BEGIN", "COMMIT"))]
    # the 12 above, the key's lookup, and the payments' check that the order found has no payment yet
    assert len(statements) == 12 + PAIRED_INSERTS, statements
    assert sum("idempotency_key" in sql and sql.startswith("SELECT") for sql in statements) == 1
