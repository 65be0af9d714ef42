"""POST checkout/quote: what POST orders would charge, with its problems, and nothing written."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cart.models import Cart, CartItem
from catalog.models import Book, StockMovement
from catalog.tests.factories import BookFactory
from orders.models import Order
from orders.tests.factories import ADDRESS, cart_with
from shipping.models import TaxRate
from shipping.tests.factories import ShippingMethodFactory, TaxRateFactory

pytestmark = pytest.mark.django_db

QUOTE = "/api/v1/checkout/quote"
ORDERS = "/api/v1/orders"
PARIS = ADDRESS | {"city": "Paris", "postal_code": "75001", "country": "FR", "phone": ""}
MONEY = ["items", "subtotal", "shipping_cost", "tax_total", "total", "currency", "shipping_method"]


def _money_of(body: dict) -> dict:
    return {key: body[key] for key in MONEY}


def test_a_quote_shows_the_lines_with_tax_and_the_totals(user_client, user):
    TaxRateFactory(country="FR", kind=TaxRate.Kind.PRINT, rate=Decimal("0.0550"))
    book = BookFactory(title="Dune", price=Decimal("20.00"), stock=5)
    cart_with(user, (book, 2))

    response = user_client.post(QUOTE, {"shipping_address": PARIS})

    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "book_id": book.pk,
                "title": "Dune",
                "isbn": book.isbn,
                "unit_price": "20.00",
                "quantity": 2,
                "line_total": "40.00",
                "tax_rate": "0.0550",
                "tax_amount": "2.20",
            }
        ],
        "subtotal": "40.00",
        "shipping_cost": "0.00",
        "tax_total": "2.20",
        "total": "42.20",
        "currency": "USD",
        "shipping_method": {"code": "standard", "name": "Standard"},
        "problems": [],
    }


def test_a_quote_lists_problems_instead_of_failing_and_writes_nothing(user_client, user):
    short = BookFactory(title="Short", stock=1)
    withdrawn = BookFactory(title="Gone", stock=9)
    fine = BookFactory(stock=9, price=Decimal("5.00"))
    cart = cart_with(user, (short, 3), (withdrawn, 1), (fine, 1))
    Book.objects.filter(pk=withdrawn.pk).update(is_active=False)
    touched = Cart.objects.get(pk=cart.pk).updated_at

    response = user_client.post(QUOTE, {"shipping_address": PARIS})

    assert response.status_code == 200
    body = response.json()
    assert [(p["code"], p["meta"]) for p in body["problems"]] == [
        ("insufficient_stock", {"book_id": short.pk, "requested": 3, "available": 1}),
        ("insufficient_stock", {"book_id": withdrawn.pk, "requested": 1, "available": 0}),
    ]
    assert [item["book_id"] for item in body["items"]] == [short.pk, fine.pk]  # withdrawn books are not priced
    # nothing reserved, nothing written
    assert Cart.objects.get(pk=cart.pk).updated_at == touched
    assert CartItem.objects.filter(cart=cart).count() == 3
    assert Book.objects.get(pk=short.pk).stock == 1
    assert not Order.objects.exists() and not StockMovement.objects.filter(reason="sale").exists()


def test_a_quote_of_an_empty_cart_has_the_empty_cart_problem(user_client, user):
    body = user_client.post(QUOTE, {"shipping_address": PARIS}).json()

    assert [p["code"] for p in body["problems"]] == ["empty_cart"]
    assert (body["items"], body["total"]) == ([], "0.00")
    assert not Cart.objects.exists()  # a quote creates no cart either


def test_a_quote_with_a_method_not_delivering_there_is_400_shipping_unavailable(user_client, user):
    ShippingMethodFactory(code="uk-only", countries=["GB"])
    cart_with(user, (BookFactory(), 1))

    response = user_client.post(QUOTE, {"shipping_address": PARIS, "shipping_method": "uk-only"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "shipping_unavailable"


def test_a_quote_needs_a_sign_in_or_a_cart_token(api_client):
    assert api_client.post(QUOTE, {"shipping_address": PARIS}).status_code == 401


def test_a_quote_runs_a_constant_number_of_queries(user_client, user, queries_of):
    cart_with(user, *[(BookFactory(), 1) for _ in range(10)])
    user_client.get(ORDERS)  # the user's row is read once, then cached

    queries = queries_of(lambda: user_client.post(QUOTE, {"shipping_address": PARIS}))

    # the shipping method; the cart's lines with their books; the country's tax rates
    assert len(queries) == 3, queries


books = st.lists(
    st.tuples(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500.00"), places=2),
        st.integers(min_value=1, max_value=5),
        st.sampled_from(["paperback", "hardcover", "ebook", "audiobook"]),
    ),
    min_size=1,
    max_size=5,
)
rates = st.decimals(min_value=Decimal("0"), max_value=Decimal("0.25"), places=4)


@pytest.mark.parametrize("inclusive", [False, True], ids=["exclusive", "inclusive"])
@hypothesis_settings(
    max_examples=min(25, hypothesis_settings.default.max_examples),  # 5 in test-fast (conftest.py)
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(cart=books, print_rate=rates, digital_rate=rates, shipping_rate=rates, express=st.booleans())
def test_the_quote_is_what_checkout_charges(
    user_client, user, settings, inclusive, cart, print_rate, digital_rate, shipping_rate, express
):
    settings.PRICES_INCLUDE_TAX = inclusive
    cache.clear()  # the checkout throttle counts every example
    for kind, rate in [("print", print_rate), ("digital", digital_rate), ("shipping", shipping_rate)]:
        TaxRate.objects.update_or_create(country="FR", kind=kind, defaults={"rate": rate})
    ShippingMethodFactory(code=f"express-{Order.objects.count()}", price=Decimal("12.34"), everywhere=True)
    method = f"express-{Order.objects.count()}" if express else "standard"
    cart_with(user, *[(BookFactory(price=price, stock=5, format=fmt), qty) for price, qty, fmt in cart])
    body = {"shipping_address": PARIS, "shipping_method": method}

    quote = user_client.post(QUOTE, body).json()
    order = user_client.post(ORDERS, body)

    assert order.status_code == 201, order.content
    assert quote["problems"] == []
    assert _money_of(quote) == _money_of(order.json())
