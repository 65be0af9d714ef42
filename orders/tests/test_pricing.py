"""Shipping methods and tax at checkout: what the order charges, line by line, over HTTP and as properties."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from catalog.models import Book
from catalog.tests.factories import BookFactory
from orders.models import Order
from orders.pricing import price_order
from orders.tests.factories import ADDRESS, cart_with
from shipping.models import ShippingMethod, TaxRate
from shipping.tests.factories import ShippingMethodFactory, TaxRateFactory

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders"
PARIS = ADDRESS | {"city": "Paris", "postal_code": "75001", "country": "FR", "phone": ""}
DUBLIN = ADDRESS | {"city": "Dublin", "postal_code": "D02 X285", "country": "IE", "phone": ""}


def _french_vat():
    TaxRateFactory(country="FR", kind=TaxRate.Kind.PRINT, rate=Decimal("0.0550"))
    TaxRateFactory(country="FR", kind=TaxRate.Kind.DIGITAL, rate=Decimal("0.0550"))
    TaxRateFactory(country="FR", kind=TaxRate.Kind.SHIPPING, rate=Decimal("0.2000"))


def test_express_to_france_adds_french_vat_on_each_line_and_on_shipping(user_client, user):
    ShippingMethodFactory(code="express", name="Express", price=Decimal("15.00"), countries=["FR", "BE"])
    _french_vat()
    novel = BookFactory(price=Decimal("20.00"), format=Book.Format.PAPERBACK, stock=5)
    cart_with(user, (novel, 2))

    response = user_client.post(ORDERS, {"shipping_address": PARIS, "shipping_method": "express"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["shipping_method"] == {"code": "express", "name": "Express"}
    [line] = body["items"]
    assert (line["line_total"], line["tax_rate"], line["tax_amount"]) == ("40.00", "0.0550", "2.20")
    assert body["subtotal"] == "40.00"
    assert body["shipping_cost"] == "15.00"
    assert body["tax_total"] == "5.20"  # 2.20 on the books + 20 % of 15.00 shipping
    assert body["total"] == "60.20"
    order = Order.objects.get(pk=body["id"])
    assert (order.tax_total, order.shipping_tax_amount, order.total) == (
        Decimal("5.20"),
        Decimal("3.00"),
        Decimal("60.20"),
    )
    assert order.items.get().tax_rate == Decimal("0.0550")


def test_ireland_taxes_digital_books_but_not_print(user_client, user):
    TaxRateFactory(country="IE", kind=TaxRate.Kind.PRINT, rate=Decimal("0"))
    TaxRateFactory(country="IE", kind=TaxRate.Kind.DIGITAL, rate=Decimal("0.0900"))
    paperback = BookFactory(price=Decimal("10.00"), format=Book.Format.PAPERBACK)
    audiobook = BookFactory(price=Decimal("10.00"), format=Book.Format.AUDIOBOOK)
    cart_with(user, (paperback, 1), (audiobook, 1))

    body = user_client.post(ORDERS, {"shipping_address": DUBLIN}).json()

    assert [(i["book_id"], i["tax_rate"], i["tax_amount"]) for i in body["items"]] == [
        (paperback.pk, "0.0000", "0.00"),
        (audiobook.pk, "0.0900", "0.90"),
    ]
    assert (body["shipping_cost"], body["tax_total"], body["total"]) == ("4.99", "0.90", "25.89")


def test_tax_is_rounded_half_up_per_line(user_client, user):
    TaxRateFactory(country="FR", kind=TaxRate.Kind.PRINT, rate=Decimal("0.0500"))
    a, b = BookFactory(price=Decimal("0.10")), BookFactory(price=Decimal("0.30"))
    cart_with(user, (a, 1), (b, 1))

    body = user_client.post(ORDERS, {"shipping_address": PARIS}).json()

    # 0.005 and 0.015 both round up (half-even would give 0.00 and 0.02); per line, not on the 0.40 sum (0.02).
    assert [i["tax_amount"] for i in body["items"]] == ["0.01", "0.02"]
    assert body["tax_total"] == "0.03"


def test_inclusive_prices_show_the_tax_inside_and_do_not_add_it(user_client, user, settings):
    settings.PRICES_INCLUDE_TAX = True
    _french_vat()
    cart_with(user, (BookFactory(price=Decimal("10.55")), 1))

    body = user_client.post(ORDERS, {"shipping_address": PARIS}).json()

    assert body["items"][0]["tax_amount"] == "0.55"  # 10.55 = 10.00 + 5.5 %
    assert body["tax_total"] == "1.38"  # 0.55 + 4.99 × 0.2 / 1.2 = 0.83
    assert body["total"] == "15.54"  # 10.55 + 4.99, tax included
    assert Order.objects.get().prices_include_tax is True


def test_an_unknown_shipping_method_is_400_shipping_unavailable_and_changes_nothing(user_client, user):
    book = BookFactory(stock=3)
    cart_with(user, (book, 1))

    response = user_client.post(ORDERS, {"shipping_address": PARIS, "shipping_method": "teleport"})

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "code": "shipping_unavailable",
            "detail": "The shipping method “teleport” does not deliver to FR.",
            "attr": "shipping_method",
            "meta": {"shipping_method": "teleport", "country": "FR"},
        }
    ]
    assert not Order.objects.exists()
    book.refresh_from_db()
    assert book.stock == 3


@pytest.mark.parametrize("method", ["uk-only", "retired"])
def test_a_method_that_does_not_deliver_there_is_400_shipping_unavailable(user_client, user, method):
    ShippingMethodFactory(code="uk-only", countries=["GB"])
    ShippingMethodFactory(code="retired", everywhere=True, is_active=False)
    cart_with(user, (BookFactory(), 1))

    response = user_client.post(ORDERS, {"shipping_address": PARIS, "shipping_method": method})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "shipping_unavailable"


@pytest.mark.parametrize("method", [7, "", "Ünïcode", "x" * 33, None])
def test_a_malformed_shipping_method_is_400_on_the_field(user_client, user, method):
    cart_with(user, (BookFactory(), 1))

    response = user_client.post(ORDERS, {"shipping_address": PARIS, "shipping_method": method})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "shipping_method"


def test_free_over_applies_to_the_chosen_method(user_client, user):
    ShippingMethodFactory(code="express", price=Decimal("15.00"), free_over=Decimal("100.00"), everywhere=True)
    cart_with(user, (BookFactory(price=Decimal("50.00"), stock=10), 2))

    body = user_client.post(ORDERS, {"shipping_address": PARIS, "shipping_method": "express"}).json()

    assert (body["shipping_cost"], body["total"]) == ("0.00", "100.00")


# Properties: whatever the cart and the rates, the totals are the sums of their parts.

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)
rate = st.decimals(min_value=Decimal("0"), max_value=Decimal("0.3"), places=4)
formats = st.sampled_from([choice for choice, _ in Book.Format.choices])
carts = st.lists(st.tuples(money, st.integers(min_value=1, max_value=100), formats), min_size=1, max_size=8)


@pytest.mark.parametrize("inclusive", [False, True], ids=["exclusive", "inclusive"])
@hypothesis_settings(
    max_examples=min(60, hypothesis_settings.default.max_examples),  # 5 in test-fast (conftest.py)
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(cart=carts, rates=st.tuples(rate, rate, rate), shipping=money, free_over=st.none() | money)
def test_totals_always_equal_the_sum_of_their_parts(settings, inclusive, cart, rates, shipping, free_over):
    settings.PRICES_INCLUDE_TAX = inclusive
    for kind, value in zip(TaxRate.Kind.values, rates, strict=True):
        TaxRate.objects.update_or_create(country="DE", kind=kind, defaults={"rate": value})
    method = ShippingMethod(code="m", name="M", price=shipping, free_over=free_over)
    lines = [
        SimpleNamespace(
            quantity=quantity,
            book=SimpleNamespace(pk=i, title="t", isbn="i", price=price, format=fmt, is_active=True, stock=100),
        )
        for i, (price, quantity, fmt) in enumerate(cart)
    ]

    pricing = price_order(cart_lines=lines, country="DE", method=method)

    assert pricing.problems == []
    assert all(line.line_total == line.unit_price * line.quantity for line in pricing.lines)
    assert pricing.subtotal == sum(line.line_total for line in pricing.lines)
    line_tax = sum(line.tax_amount for line in pricing.lines)
    assert pricing.tax_total == line_tax + pricing.shipping_tax_amount
    parts = pricing.subtotal + pricing.shipping_cost
    assert pricing.total == (parts if inclusive else parts + pricing.tax_total)
    for amount in [pricing.subtotal, pricing.shipping_cost, pricing.tax_total, pricing.total]:
        assert isinstance(amount, Decimal) and amount == amount.quantize(Decimal("0.01"))
    # the tax on a line is never more than the line (inclusive) or its rate's share (exclusive), to the half-cent
    for line in pricing.lines:
        exact = line.line_total * line.tax_rate / ((1 + line.tax_rate) if inclusive else 1)
        assert abs(line.tax_amount - exact) <= Decimal("0.005")
