"""A careless or hostile client, after the OWASP API Security Top 10: other users' objects
(BOLA), privileged fields (mass assignment), staff routes, resource caps, forged proxy headers,
account enumeration and odd input. Never a 500, never a leak, never a change it may not make.
"""

import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from cart.models import Cart, CartItem
from cart.tests.factories import CartFactory, CartItemFactory
from catalog.models import Author, Book, Category, Review, StockMovement
from catalog.tests.factories import AuthorFactory, BookFactory, CategoryFactory, ReviewFactory
from orders.models import Order
from orders.tests.factories import ADDRESS, order_placed

pytestmark = pytest.mark.django_db


def _codes(response) -> list[str]:
    return [error["code"] for error in response.json()["errors"]]


def _never_500(response) -> None:
    assert response.status_code < 500, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]


@pytest.fixture
def quiet_client():
    """An anonymous client that returns 5xx responses instead of re-raising them."""
    return APIClient(raise_request_exception=False)


# --- API1 Broken object level authorisation: another user's object is a 404, nothing changes ------


def test_another_users_cart_line_is_a_404_and_stays(user, other_client):
    line = CartItemFactory(cart=CartFactory(user=user), quantity=2)

    assert other_client.patch(f"/api/v1/cart/items/{line.pk}", {"quantity": 5}).status_code == 404
    assert other_client.delete(f"/api/v1/cart/items/{line.pk}").status_code == 404
    assert other_client.get("/api/v1/cart").json()["items"] == []

    line.refresh_from_db()
    assert line.quantity == 2


def test_another_users_order_is_a_404_for_reading_cancelling_and_changing(user, other_client):
    order = order_placed(user=user)
    stock = Book.objects.get(pk=order.items.get().book_id).stock

    assert other_client.get(f"/api/v1/orders/{order.pk}").status_code == 404
    assert other_client.post(f"/api/v1/orders/{order.pk}/cancel").status_code == 404
    assert other_client.patch(f"/api/v1/orders/{order.pk}", {"status": "cancelled"}).status_code == 404
    # The `user` filter is staff's: a customer's list stays their own.
    listed = other_client.get("/api/v1/orders", {"user": user.pk})
    assert listed.status_code == 200
    assert listed.json()["results"] == []

    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert Book.objects.get(pk=order.items.get().book_id).stock == stock


def test_a_customer_cannot_move_their_own_order(user_client, user):
    order = order_placed(user=user)

    response = user_client.patch(f"/api/v1/orders/{order.pk}", {"status": "delivered"})

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_another_users_review_cannot_be_changed_or_deleted(user, other_client):
    review = ReviewFactory(user=user, rating=5, title="Mine")

    assert other_client.patch(f"/api/v1/reviews/{review.pk}", {"rating": 1, "title": "Hacked"}).status_code == 403
    assert other_client.put(f"/api/v1/reviews/{review.pk}", {"rating": 1, "title": "x", "body": "y"}).status_code in (
        403,
        405,
    )
    assert other_client.delete(f"/api/v1/reviews/{review.pk}").status_code == 403

    review.refresh_from_db()
    assert (review.rating, review.title) == (5, "Mine")


def test_me_is_always_the_caller(user, other_user, other_client):
    response = other_client.patch("/api/v1/auth/me", {"id": user.pk, "first_name": "Mallory"})

    assert response.status_code == 200
    assert response.json()["id"] == other_user.pk
    user.refresh_from_db()
    assert user.first_name != "Mallory"


# --- API3/API6 Mass assignment: privileged fields are ignored or refused, nothing changes -----------


def test_register_ignores_every_privileged_field(api_client):
    response = api_client.post(
        "/api/v1/auth/register",
        {
            "email": "mallory@example.com",
            "password": "a-long-enough-passphrase-2026",
            "is_staff": True,
            "is_superuser": True,
            "is_email_verified": True,
            "is_active": False,
            "id": 987654321,
        },
    )

    assert response.status_code == 201
    user = User.objects.get(email="mallory@example.com")
    assert (user.is_staff, user.is_superuser, user.is_email_verified, user.is_active) == (False, False, False, True)
    assert user.pk != 987654321  # far beyond any id the sequence hands out in a test run
    assert response.json()["id"] == user.pk


def test_me_ignores_every_privileged_field(user_client, user):
    before = (user.email, user.is_staff, user.is_superuser, user.is_email_verified, user.date_joined)

    response = user_client.patch(
        "/api/v1/auth/me",
        {
            "email": "new@example.com",
            "is_staff": True,
            "is_superuser": True,
            "is_email_verified": True,
            "date_joined": "2000-01-01T00:00:00Z",
            "password": "x",
        },
    )

    # Read-only fields are ignored, as DRF does; the profile answers unchanged.
    assert response.status_code == 200
    assert response.json()["email"] == before[0] and response.json()["is_staff"] is False
    user.refresh_from_db()
    assert (user.email, user.is_staff, user.is_superuser, user.is_email_verified, user.date_joined) == before


def test_cart_ignores_a_price_sent_by_the_client(user_client):
    book = BookFactory(price=Decimal("12.50"))

    response = user_client.post(
        "/api/v1/cart/items",
        {"book_id": book.pk, "quantity": 1, "unit_price": "0.01", "price": "0.01", "line_total": "0.01"},
    )

    assert response.status_code == 201
    assert response.json()["items"][0]["unit_price"] == "12.50"
    assert response.json()["subtotal"] == "12.50"


def test_checkout_ignores_status_user_prices_and_totals_sent_by_the_client(user, other_user, user_client):
    book = BookFactory(price=Decimal("12.50"), stock=5)
    CartItemFactory(cart=CartFactory(user=user), book=book, quantity=2)

    response = user_client.post(
        "/api/v1/orders",
        {
            "shipping_address": ADDRESS,
            "status": "delivered",
            "user": other_user.pk,
            "user_id": other_user.pk,
            "total": "0.01",
            "subtotal": "0.01",
            "shipping_cost": "0.00",
            "items": [{"book_id": book.pk, "quantity": 1, "unit_price": "0.01", "price": "0.01"}],
            "number": "ORDER-1",
        },
    )

    assert response.status_code == 201
    order = Order.objects.get()
    assert (order.user_id, order.status) == (user.pk, Order.Status.PENDING)
    assert order.subtotal == Decimal("25.00")
    assert order.total == Decimal("29.99")
    assert order.number != "ORDER-1"
    line = order.items.get()
    assert (line.unit_price, line.quantity) == (Decimal("12.50"), 2)
    book.refresh_from_db()
    assert book.stock == 3


def test_a_review_cannot_claim_a_verified_purchase_or_another_author(user, other_user, user_client):
    book = BookFactory()

    response = user_client.post(
        f"/api/v1/books/{book.pk}/reviews",
        {
            "rating": 5,
            "title": "Great",
            "body": "Read it twice",
            "verified_purchase": True,
            "user": other_user.pk,
            "user_id": other_user.pk,
            "book_id": BookFactory().pk,
        },
    )

    assert response.status_code == 201
    assert response.json()["verified_purchase"] is False
    review = Review.objects.get()
    assert (review.user_id, review.book_id) == (user.pk, book.pk)

    changed = user_client.patch(
        f"/api/v1/reviews/{review.pk}", {"verified_purchase": True, "user": other_user.pk, "book_id": 1}
    )
    assert changed.status_code == 200
    assert changed.json()["verified_purchase"] is False
    review.refresh_from_db()
    assert (review.user_id, review.book_id) == (user.pk, book.pk)


def test_a_staff_status_change_cannot_rewrite_the_order(staff_client, user):
    order = order_placed(user=user)
    total = order.total

    response = staff_client.patch(
        f"/api/v1/orders/{order.pk}", {"status": "paid", "total": "0.01", "user": 1, "items": []}, format="json"
    )

    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.status, order.total, order.user_id, order.items.count()) == ("paid", total, user.pk, 1)


def test_a_book_write_cannot_set_derived_fields(staff_client):
    book = BookFactory(stock=4)

    response = staff_client.patch(
        f"/api/v1/books/{book.pk}",
        {"average_rating": "5.0", "review_count": 1000, "in_stock": False, "id": 12345, "created_at": "2000-01-01"},
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["average_rating"], body["review_count"], body["in_stock"]) == (book.pk, None, 0, True)


# --- API5 Broken function level authorisation: staff routes refuse customers and strangers --------


def _staff_routes():
    book = BookFactory()
    category = CategoryFactory()
    author = AuthorFactory()
    cover = {"image": SimpleUploadedFile("c.png", b"\x89PNG\r\n", content_type="image/png")}
    return [
        ("post", "/api/v1/books", {"isbn": "9780306406157", "title": "T", "price": "1.00"}, "json"),
        ("patch", f"/api/v1/books/{book.pk}", {"stock": 0, "price": "0.01"}, "json"),
        ("put", f"/api/v1/books/{book.pk}", {"isbn": "9780306406157", "title": "T", "price": "1.00"}, "json"),
        ("delete", f"/api/v1/books/{book.pk}", None, "json"),
        ("put", f"/api/v1/books/{book.pk}/cover", cover, "multipart"),
        ("post", "/api/v1/categories", {"name": "X", "slug": "x"}, "json"),
        ("patch", f"/api/v1/categories/{category.pk}", {"name": "Y"}, "json"),
        ("delete", f"/api/v1/categories/{category.pk}", None, "json"),
        ("post", "/api/v1/authors", {"name": "X"}, "json"),
        ("patch", f"/api/v1/authors/{author.pk}", {"name": "Y"}, "json"),
        ("delete", f"/api/v1/authors/{author.pk}", None, "json"),
    ]


def _catalog_state():
    return (
        list(
            Book.objects.order_by("pk").values_list(
                "pk", "title", "price", "stock_record__quantity", "is_active", "cover"
            )
        ),
        list(Category.objects.order_by("pk").values_list("pk", "name")),
        list(Author.objects.order_by("pk").values_list("pk", "name")),
        StockMovement.objects.count(),
    )


def test_staff_routes_refuse_customers_with_403_and_strangers_with_401(user_client, api_client):
    routes = _staff_routes()
    before = _catalog_state()

    for method, path, body, fmt in routes:
        as_customer = getattr(user_client, method)(path, body, format=fmt)
        as_stranger = getattr(api_client, method)(path, body, format=fmt)
        assert as_customer.status_code == 403, (method, path, as_customer.content)
        assert _codes(as_customer) == ["permission_denied"]
        assert as_stranger.status_code == 401, (method, path, as_stranger.content)
        assert _codes(as_stranger) == ["not_authenticated"]

    assert _catalog_state() == before


def test_order_routes_refuse_strangers_with_401(api_client, user):
    order = order_placed(user=user)

    for method, path in (
        ("get", "/api/v1/orders"),
        ("post", "/api/v1/orders"),
        ("get", f"/api/v1/orders/{order.pk}"),
        ("patch", f"/api/v1/orders/{order.pk}"),
        ("post", f"/api/v1/orders/{order.pk}/cancel"),
        ("get", "/api/v1/auth/me"),
    ):
        assert getattr(api_client, method)(path, {}).status_code == 401, (method, path)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    # The cart is anyone's (anonymous carts), but a stranger without a Cart-Token sees and changes no one's.
    assert api_client.get("/api/v1/cart").json()["items"] == []
    assert api_client.delete("/api/v1/cart").status_code == 204
    assert api_client.delete("/api/v1/cart/items/1").status_code == 404
    assert Cart.objects.get(user=user) is not None


def test_staff_only_book_filter_changes_nothing_for_customers(user_client):
    BookFactory(is_active=False, title="Withdrawn")

    response = user_client.get("/api/v1/books", {"is_active": "false"})

    assert response.status_code == 200
    assert [book["title"] for book in response.json()["results"]] == []


# --- API4 Unrestricted resource consumption ---------------------------------------------------


def test_page_size_is_clamped_to_100(api_client):
    response = api_client.get("/api/v1/books", {"page_size": 100_000})

    assert response.status_code == 200
    assert response.json()["page_size"] == 100


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "99999999999999999999999"])
def test_bad_or_huge_pages_are_4xx(api_client, page):
    response = api_client.get("/api/v1/books", {"page": page})

    assert response.status_code in (400, 404)
    _never_500(response)


def test_search_longer_than_200_characters_is_a_400(api_client):
    response = api_client.get("/api/v1/books", {"search": "x" * 201})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "search"


@pytest.mark.parametrize("quantity", [0, -1, 101, 10**12, "1e3", "", None, True, [1]])
def test_cart_quantity_outside_1_to_100_is_a_400(user_client, quantity):
    book = BookFactory(stock=500)

    response = user_client.post("/api/v1/cart/items", {"book_id": book.pk, "quantity": quantity}, format="json")

    assert response.status_code == 400, response.content
    assert not CartItem.objects.exists()


def test_body_over_the_limit_is_a_413_in_the_error_shape(quiet_client):
    """Django raises RequestDataTooBig when the body is read: without a mapping that was a 500."""
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024):
        response = quiet_client.post(
            "/api/v1/auth/token",
            data=json.dumps({"email": "a@example.com", "password": "p" * 4096}),
            content_type="application/json",
        )

    assert response.status_code == 413
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "request_too_large", "detail": "The request body is too large.", "attr": None}],
    }


def test_a_cover_above_the_body_limit_is_a_413_and_changes_nothing(staff_client):
    """Files are not counted in DATA_UPLOAD_MAX_MEMORY_SIZE: the cover check must refuse them itself."""
    book = BookFactory()
    staff_client.raise_request_exception = False
    huge = SimpleUploadedFile("huge.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (11 * 1024 * 1024), content_type="image/png")

    response = staff_client.put(f"/api/v1/books/{book.pk}/cover", {"image": huge}, format="multipart")

    assert response.status_code == 413
    assert _codes(response) == ["file_too_large"]
    book.refresh_from_db()
    assert not book.cover


def test_too_many_form_fields_is_a_400_not_a_500(staff_client):
    # The cover upload is the one endpoint that parses forms (any other answers a form with a 415).
    book = BookFactory()
    staff_client.raise_request_exception = False
    with override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=10):
        response = staff_client.put(
            f"/api/v1/books/{book.pk}/cover", {f"field{n}": "x" for n in range(50)}, format="multipart"
        )

    assert response.status_code == 400, response.content
    assert response.json()["type"] in ("client_error", "validation_error")


def test_a_form_body_on_a_json_endpoint_is_a_415(user_client):
    response = user_client.post("/api/v1/cart/items", {"book_id": 1, "quantity": 1}, format="multipart")

    assert response.status_code == 415
    assert response.json()["errors"][0]["code"] == "unsupported_media_type"


def test_idempotency_key_longer_than_255_is_a_400(user, user_client):
    CartItemFactory(cart=CartFactory(user=user))

    response = user_client.post("/api/v1/orders", {"shipping_address": ADDRESS}, HTTP_IDEMPOTENCY_KEY="k" * 256)

    assert response.status_code == 400
    assert not Order.objects.exists()


# --- Throttles cannot be dodged with a forged X-Forwarded-For ----------------------------------


def test_anonymous_read_throttle_ignores_a_forged_forwarded_for(api_client, settings):
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"].split("/")[0])
    for n in range(rate):
        api_client.get("/api/v1/books", HTTP_X_FORWARDED_FOR=f"10.0.{n // 250}.{n % 250}")

    response = api_client.get("/api/v1/books", HTTP_X_FORWARDED_FOR="192.0.2.99", HTTP_X_REAL_IP="192.0.2.99")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


# --- API2 Broken authentication: no account enumeration ----------------------------------------


def test_login_answers_the_same_for_unknown_email_wrong_password_and_inactive_account(api_client, user):
    UserFactory(email="sleeper@example.com", password="a-long-enough-passphrase", is_active=False)

    unknown = api_client.post("/api/v1/auth/token", {"email": "nobody@example.com", "password": "whatever-1"})
    wrong = api_client.post("/api/v1/auth/token", {"email": user.email, "password": "whatever-1"})
    inactive = api_client.post(
        "/api/v1/auth/token", {"email": "sleeper@example.com", "password": "a-long-enough-passphrase"}
    )
    cookie = api_client.post("/api/v1/auth/cookie/login", {"email": "nobody@example.com", "password": "whatever-1"})
    cookie_wrong = api_client.post("/api/v1/auth/cookie/login", {"email": user.email, "password": "whatever-1"})

    assert unknown.status_code == wrong.status_code == inactive.status_code == 401
    assert unknown.json() == wrong.json() == inactive.json()
    assert cookie.status_code == cookie_wrong.status_code == 401
    assert cookie.json() == cookie_wrong.json()


def test_password_reset_answers_the_same_for_known_unknown_and_malformed_case(api_client, user, mailoutbox):
    known = api_client.post("/api/v1/auth/password/reset", {"email": user.email.upper()})
    unknown = api_client.post("/api/v1/auth/password/reset", {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content


def test_register_says_an_email_is_taken_only_as_the_contract_requires(api_client, user):
    """The contract makes a taken email a 400 `unique`; it must not say more (no name, no id, no state)."""
    response = api_client.post("/api/v1/auth/register", {"email": user.email, "password": "a-long-passphrase-2026"})

    assert response.status_code == 400
    assert _codes(response) == ["unique"]
    text = response.content.decode()
    assert user.first_name not in text and str(user.pk) not in text.replace("400", "")


# --- API8/API10 Odd and hostile input never answers a 500 ------------------------------------

ODD_VALUES = [
    "'",
    "''; DROP TABLE catalog_book; --",
    "' OR '1'='1",
    "%",
    "%%",
    "_",
    "\\",
    "\x00",
    "a\x00b",
    "x" * 5000,
    "😀📚",
    "\u202eevil",
    "１２",
    "NaN",
    "Infinity",
    "-0",
    "1e999999",
    "9" * 40,
    "[]",
    "{}",
    "null",
    " ",
]
BOOK_PARAMS = [
    "search",
    "ordering",
    "category",
    "author",
    "min_price",
    "max_price",
    "in_stock",
    "language",
    "format",
    "min_rating",
    "page",
    "page_size",
    "is_active",
]


@pytest.mark.parametrize("param", BOOK_PARAMS)
def test_book_list_filters_never_500(quiet_client, param):
    BookFactory()
    for value in ODD_VALUES:
        response = quiet_client.get("/api/v1/books", {param: value})
        _never_500(response)
        assert response.status_code in (200, 400, 404, 414), (param, value, response.status_code)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/authors", ("search", "page", "page_size")),
        ("/api/v1/categories", ("search", "parent", "page")),
        ("/api/v1/orders", ("status", "user", "page_size")),
        ("/api/v1/books/{book}/reviews", ("page", "ordering")),
    ],
)
def test_other_lists_never_500(staff_client, path, params):
    book = BookFactory()
    staff_client.raise_request_exception = False
    for param in params:
        for value in ODD_VALUES:
            response = staff_client.get(path.format(book=book.pk), {param: value})
            _never_500(response)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/books/{n}",
        "/api/v1/books/{n}/reviews",
        "/api/v1/reviews/{n}",
        "/api/v1/categories/{n}",
        "/api/v1/authors/{n}",
        "/api/v1/orders/{n}",
        "/api/v1/orders/{n}/cancel",
        "/api/v1/cart/items/{n}",
    ],
)
def test_ids_out_of_range_are_404(user_client, path):
    user_client.raise_request_exception = False
    for n in ("0", "2147483648", "9223372036854775808", "9" * 30):
        method = "post" if path.endswith("cancel") else "get"
        if path.startswith("/api/v1/cart/items"):
            method = "delete"
        response = getattr(user_client, method)(path.format(n=n))
        assert response.status_code == 404, (path, n, response.status_code, response.content)


@pytest.mark.parametrize("book_id", [0, -1, 2**31, 2**63, 10**30, "1; DROP TABLE x", "\x00", None, [1], {"a": 1}])
def test_cart_with_odd_book_ids_is_a_400(user_client, book_id):
    user_client.raise_request_exception = False

    response = user_client.post("/api/v1/cart/items", {"book_id": book_id, "quantity": 1}, format="json")

    assert response.status_code == 400, response.content
    assert not CartItem.objects.exists()


@pytest.mark.parametrize("key", ["\x00", "a\x00b", "😀", "' OR 1=1 --", "%", " "])
def test_odd_idempotency_keys_never_500(user, user_client, key):
    user_client.raise_request_exception = False
    CartItemFactory(cart=CartFactory(user=user))

    first = user_client.post("/api/v1/orders", {"shipping_address": ADDRESS}, HTTP_IDEMPOTENCY_KEY=key)
    again = user_client.post("/api/v1/orders", {"shipping_address": ADDRESS}, HTTP_IDEMPOTENCY_KEY=key)

    _never_500(first)
    _never_500(again)
    if "\x00" in key:  # PostgreSQL text cannot hold NUL: this was a 500 there
        assert first.status_code == 400
        assert first.json()["errors"][0]["attr"] == "Idempotency-Key"
    assert Order.objects.count() <= 1


@pytest.mark.parametrize("body", ["{", "[]", '"text"', "null", "1", '{"shipping_address": null}', "\x00", "{}" * 1000])
def test_malformed_json_bodies_are_400(user_client, body):
    user_client.raise_request_exception = False
    for path in ("/api/v1/orders", "/api/v1/cart/items", "/api/v1/auth/me"):
        method = user_client.patch if path.endswith("me") else user_client.post
        response = method(path, data=body, content_type="application/json")
        _never_500(response)
        if not (path.endswith("me") and body.startswith('{"')):  # a JSON object is a valid (empty) PATCH
            assert response.status_code == 400, (path, body, response.content)


def test_deeply_nested_json_is_a_400_not_a_500(user_client):
    """Python's JSON decoder raises RecursionError on deep nesting: that was a 500."""
    user_client.raise_request_exception = False

    response = user_client.post(
        "/api/v1/cart/items", data="[" * 100_000 + "]" * 100_000, content_type="application/json"
    )

    assert response.status_code == 400
    assert _codes(response) == ["parse_error"]


def test_odd_text_in_writes_is_refused_or_stored_never_500(user_client, user, staff_client):
    book = BookFactory()
    user_client.raise_request_exception = False
    staff_client.raise_request_exception = False
    for value in ODD_VALUES:
        for response in (
            user_client.patch("/api/v1/auth/me", {"first_name": value[:150]}, format="json"),
            user_client.post(f"/api/v1/books/{book.pk}/reviews", {"rating": 3, "title": value, "body": value}),
            user_client.post("/api/v1/orders", {"shipping_address": {**ADDRESS, "full_name": value}}, format="json"),
            staff_client.post("/api/v1/authors", {"name": value}, format="json"),
            staff_client.post("/api/v1/categories", {"name": value, "slug": value}, format="json"),
            staff_client.patch(f"/api/v1/books/{book.pk}", {"title": value, "price": value}, format="json"),
        ):
            _never_500(response)
        Review.objects.filter(user=user).delete()
