"""A typed client generated from the served OpenAPI schema walks a customer's and a staff member's day.

`openapi-python-client` builds the client at test time into a temporary directory; the journeys
use nothing but that client against a live server. The client raises on any status the schema
does not document, parses every body into the schema's models (a missing required field, an
unknown enum value or a malformed date fails), and each parsed model is checked for fields the
schema does not declare. If the schema lies about a request or a response, this test fails.
"""

import importlib
import subprocess
import sys
from decimal import Decimal
from http import HTTPStatus
from pathlib import Path

import attrs
import httpx
import pytest

from accounts.tests.factories import UserFactory
from catalog.search_index import book_search_vector_refresh
from catalog.tests.factories import AuthorFactory, BookFactory, CategoryFactory

PACKAGE = "bookstore_generated_client"
PASSWORD = "Plenty-of-entropy-42"
ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
    "phone": "+44 20 7946 0000",
}


@pytest.fixture(scope="module")
def api(live_server, tmp_path_factory, django_db_setup, django_db_blocker):
    """The generated package, imported from a temporary directory (nothing generated is committed)."""
    root = tmp_path_factory.mktemp("client")
    schema = root / "schema.json"
    with django_db_blocker.unblock():  # serving a request may touch the (test) database
        response = httpx.get(f"{live_server.url}/api/schema", params={"format": "json"}, timeout=30)
    assert response.status_code == 200, response.text
    schema.write_bytes(response.content)
    config = root / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run: the code is imported, never read
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(schema),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
            "--fail-on-warning",  # a schema the generator cannot model fully is a failure
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield _Api(importlib.import_module(PACKAGE), live_server.url)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


class _Api:
    """The generated package: `api.call("orders.orders_create", client, ...)` and `api.models.Order`."""

    def __init__(self, package, base_url: str):
        self.package = package
        self.base_url = base_url
        self.models = importlib.import_module(f"{PACKAGE}.models")

    def anonymous(self):
        return self.package.Client(base_url=self.base_url, raise_on_unexpected_status=True)

    def authenticated(self, access: str):
        return self.package.AuthenticatedClient(base_url=self.base_url, token=access, raise_on_unexpected_status=True)

    def call(self, operation: str, client, expected: HTTPStatus, model: str | None, **kwargs):
        """Sends one operation; the status must be `expected` and the body parse into `model`, fully declared."""
        module = importlib.import_module(f"{PACKAGE}.api.{operation}")
        response = module.sync_detailed(client=client, **kwargs)
        assert response.status_code == expected, (operation, response.status_code, response.content)
        if model is None:
            assert response.parsed is None or not response.content, response.content
            return None
        parsed = response.parsed
        assert isinstance(parsed, getattr(self.models, model)), (operation, type(parsed), response.content)
        _assert_fully_declared(parsed, operation)
        return parsed


def _assert_fully_declared(value, where: str) -> None:
    """No model in the body carries a field the schema does not declare (it would land in additional_properties)."""
    if isinstance(value, list):
        for item in value:
            _assert_fully_declared(item, where)
        return
    if not attrs.has(type(value)) or type(value).__name__.endswith("Meta"):
        return  # an error's `meta` is an open object: its keys depend on the error's code
    extra = getattr(value, "additional_properties", {})
    assert not extra, f"{where}: {type(value).__name__} has undeclared fields {sorted(extra)}"
    for field in attrs.fields(type(value)):
        if field.name != "additional_properties":
            _assert_fully_declared(getattr(value, field.name), where)


@pytest.fixture
def shelf(db):
    fiction = CategoryFactory(name="Fiction", slug="fiction")
    author = AuthorFactory(name="Ursula K. Le Guin")
    wizard = BookFactory(title="A Wizard of Earthsea", category=fiction, authors=[author], price=Decimal("9.99"))
    BookFactory(title="The Dispossessed", category=fiction, authors=[author])
    book_search_vector_refresh()  # factories skip what the catalog's services write for search
    return {"category": fiction, "author": author, "book": wizard}


def _log_in(api, email: str, password: str):
    login = api.models.LoginRequest(email=email, password=password)
    tokens = api.call("auth.auth_token_create", api.anonymous(), HTTPStatus.OK, "SignInTokenPair", body=login)
    return api.authenticated(tokens.access)


def _check_out(api, client, book_id: int, quantity: int, key: str):
    models = api.models
    cart = api.call(
        "cart.cart_items_create",
        client,
        HTTPStatus.CREATED,
        "Cart",
        body=models.CartItemCreateRequest(book_id=book_id, quantity=quantity),
    )
    assert [(item.book.id, item.quantity) for item in cart.items] == [(book_id, quantity)]
    checkout = models.CheckoutRequest(shipping_address=models.ShippingAddressRequest(**ADDRESS))
    return api.call(
        "orders.orders_create", client, HTTPStatus.CREATED, "CheckedOutOrder", body=checkout, idempotency_key=key
    )


@pytest.mark.django_db(transaction=True)
def test_a_customer_shops_with_the_generated_client(api, shelf):
    models = api.models
    email = "reader@example.com"

    profile = api.call(
        "auth.auth_register_create",
        api.anonymous(),
        HTTPStatus.CREATED,
        "SignInProfile",
        body=models.RegisterRequest(email=email, password=PASSWORD, first_name="Ada"),
    )
    assert profile.email == email and profile.is_staff is False
    customer = _log_in(api, email, PASSWORD)
    me = api.call("auth.auth_me_retrieve", customer, HTTPStatus.OK, "Profile")
    assert me.id == profile.id

    # Browse and search, anonymously and signed in.
    categories = api.call("categories.categories_list", api.anonymous(), HTTPStatus.OK, "PaginatedCategoryList")
    assert [category.slug for category in categories.results] == ["fiction"]
    found = api.call("books.books_list", customer, HTTPStatus.OK, "PaginatedBookListList", search="earthsea")
    assert [book.title for book in found.results] == ["A Wizard of Earthsea"]
    by_category = api.call(
        "books.books_list",
        api.anonymous(),
        HTTPStatus.OK,
        "PaginatedBookListList",
        category="fiction",
        ordering="price",
    )
    assert by_category.count == 2
    book = api.call("books.books_retrieve", customer, HTTPStatus.OK, "Book", id=shelf["book"].pk)
    assert book.price == "9.99" and book.authors[0].name == "Ursula K. Le Guin"
    api.call("books.books_reviews_list", api.anonymous(), HTTPStatus.OK, "PaginatedReviewList", book_id=book.id)

    # Cart, checkout (idempotent), the order, cancel.
    order = _check_out(api, customer, book.id, 2, key="journey-1")
    assert order.status == models.StatusEnum.PENDING
    assert [(line.book_id, line.quantity, line.unit_price) for line in order.items] == [(book.id, 2, "9.99")]
    again = models.CheckoutRequest(shipping_address=models.ShippingAddressRequest(**ADDRESS))
    replay = api.call(
        "orders.orders_create", customer, HTTPStatus.CREATED, "CheckedOutOrder", body=again, idempotency_key="journey-1"
    )
    assert replay.id == order.id
    empty = api.call("cart.cart_retrieve", customer, HTTPStatus.OK, "Cart")
    assert empty.items == [] and empty.total_quantity == 0

    orders = api.call("orders.orders_list", customer, HTTPStatus.OK, "PaginatedOrderList")
    assert [listed.number for listed in orders.results] == [order.number]
    seen = api.call("orders.orders_retrieve", customer, HTTPStatus.OK, "Order", id=order.id)
    assert seen.total == order.total and seen.shipping_address.city == "London"

    cancelled = api.call("orders.orders_cancel_create", customer, HTTPStatus.OK, "Order", id=order.id)
    assert cancelled.status == models.StatusEnum.CANCELLED
    assert [entry.status for entry in cancelled.status_history][-1] == models.StatusEnum.CANCELLED
    refused = api.call(
        "orders.orders_cancel_create", customer, HTTPStatus.CONFLICT, "ConflictInvalidTransition", id=order.id
    )
    assert refused.errors[0].code == "invalid_transition"
    restocked = api.call("books.books_retrieve", api.anonymous(), HTTPStatus.OK, "Book", id=book.id)
    assert restocked.stock == shelf["book"].stock


@pytest.mark.django_db(transaction=True)
def test_staff_add_a_book_and_move_an_order_along_with_the_generated_client(api, shelf):
    models = api.models
    staff_user = UserFactory(password=PASSWORD, is_staff=True)
    customer_user = UserFactory(password=PASSWORD)
    staff = _log_in(api, staff_user.email, PASSWORD)
    customer = _log_in(api, customer_user.email, PASSWORD)

    category = api.call(
        "categories.categories_create",
        staff,
        HTTPStatus.CREATED,
        "Category",
        body=models.CategoryRequest(name="Science fiction", parent_id=shelf["category"].pk),
    )
    author = api.call(
        "authors.authors_create", staff, HTTPStatus.CREATED, "Author", body=models.AuthorRequest(name="Octavia Butler")
    )
    book = api.call(
        "books.books_create",
        staff,
        HTTPStatus.CREATED,
        "Book",
        body=models.BookWriteRequest(
            isbn="0-446-60197-7",  # ISBN-10, stored as ISBN-13
            title="Parable of the Sower",
            price="14.50",
            author_ids=[author.id],
            category_id=category.id,
            language=models.LanguageEnum.EN,
            format_=models.FormatEnum.PAPERBACK,
            stock=5,
        ),
    )
    assert book.isbn == "9780446601979" and book.category.id == category.id and book.stock == 5
    changed = api.call(
        "books.books_partial_update",
        staff,
        HTTPStatus.OK,
        "Book",
        id=book.id,
        body=models.PatchedBookWriteRequest(stock=7),
    )
    assert changed.stock == 7
    # A customer may read it but not change it.
    api.call(
        "books.books_partial_update",
        customer,
        HTTPStatus.FORBIDDEN,
        "ErrorResponse403",
        id=book.id,
        body=models.PatchedBookWriteRequest(stock=0),
    )

    order = _check_out(api, customer, book.id, 1, key="staff-journey")
    for status in (models.StatusEnum.PAID, models.StatusEnum.SHIPPED, models.StatusEnum.DELIVERED):
        moved = api.call(
            "orders.orders_partial_update",
            staff,
            HTTPStatus.OK,
            "Order",
            id=order.id,
            body=models.OrderStatusUpdateRequest(status=status, note=f"now {status.value}"),
        )
        assert moved.status == status
    wrong_way = api.call(
        "orders.orders_partial_update",
        staff,
        HTTPStatus.CONFLICT,
        "ConflictInvalidTransition",
        id=order.id,
        body=models.OrderStatusUpdateRequest(status=models.StatusEnum.PAID),
    )
    assert wrong_way.errors[0].code == "invalid_transition"
    not_staff = api.call(
        "orders.orders_partial_update",
        customer,
        HTTPStatus.FORBIDDEN,
        "ErrorResponse403",
        id=order.id,
        body=models.OrderStatusUpdateRequest(status=models.StatusEnum.CANCELLED),
    )
    assert not_staff.errors[0].code == "permission_denied"

    everyone = api.call(
        "orders.orders_list", staff, HTTPStatus.OK, "PaginatedOrderList", status=models.OrdersListStatus.DELIVERED
    )
    assert [listed.id for listed in everyone.results] == [order.id]
    delivered = api.call("orders.orders_retrieve", customer, HTTPStatus.OK, "Order", id=order.id)
    assert [entry.status for entry in delivered.status_history] == [
        models.StatusEnum.PENDING,
        models.StatusEnum.PAID,
        models.StatusEnum.SHIPPED,
        models.StatusEnum.DELIVERED,
    ]
    assert api.call("books.books_destroy", staff, HTTPStatus.NO_CONTENT, None, id=book.id) is None
    api.call("books.books_retrieve", customer, HTTPStatus.NOT_FOUND, "ErrorResponse404", id=book.id)
