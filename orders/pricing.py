"""What an order costs: one function for the quote and for checkout, so the two never disagree.

Per line: `line_total = unit_price × quantity`; its tax is `line_total × rate` when prices exclude
tax (`PRICES_INCLUDE_TAX=0`), or the tax inside it, `line_total × rate / (1 + rate)`, when they
include it; shipping is taxed the same way at the country's shipping rate. Every tax amount is
rounded half-up to the cent on its own line, and the totals are sums of the rounded parts:
`tax_total = Σ line tax + shipping tax`, and `total = subtotal + shipping_cost + tax_total`
(exclusive) or `subtotal + shipping_cost` (inclusive, the tax being part of the prices).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from bookstore.exceptions import DomainError
from catalog.exceptions import InsufficientStockError, Shortage
from orders.exceptions import EmptyCartError
from shipping.models import ShippingMethod, TaxRate, tax_rates_for

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
NO_RATE = Decimal("0.0000")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def tax_of(amount: Decimal, rate: Decimal, *, included: bool) -> Decimal:
    """The tax on `amount` (exclusive) or inside it (inclusive), half-up to the cent."""
    if not rate:
        return ZERO
    return cents(amount * rate / (1 + rate) if included else amount * rate)


@dataclass
class PricedLine:
    book_id: int
    title: str
    isbn: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal
    tax_rate: Decimal
    tax_amount: Decimal


@dataclass
class Pricing:
    lines: list[PricedLine]
    subtotal: Decimal
    shipping_method: ShippingMethod
    shipping_cost: Decimal
    shipping_tax_rate: Decimal
    shipping_tax_amount: Decimal
    tax_total: Decimal
    total: Decimal
    prices_include_tax: bool
    currency: str
    problems: list[DomainError] = field(default_factory=list)

    def raise_problems(self) -> None:
        """Checkout's rule: an order is placed only when the quote has no problem."""
        for problem in self.problems:
            raise problem


def price_order(*, cart_lines: Iterable, country: str, method: ShippingMethod) -> Pricing:
    """Prices cart lines (with their books loaded) for delivery to `country` by `method`; one query (the rates).

    Withdrawn books are left out of the lines; they and lines beyond stock are `problems`
    (one `insufficient_stock` listing every such book), as is an empty cart.
    """
    include = settings.PRICES_INCLUDE_TAX
    rates = tax_rates_for(country)
    lines: list[PricedLine] = []
    shortages: list[Shortage] = []
    for line in cart_lines:
        book = line.book
        if not book.is_active or book.stock < line.quantity:
            shortages.append(Shortage.for_sale(book=book, requested=line.quantity))
        if not book.is_active:
            continue
        rate = rates.get(TaxRate.kind_of_format(book.format), NO_RATE)
        line_total = cents(book.price * line.quantity)
        lines.append(
            PricedLine(
                book_id=book.pk,
                title=book.title,
                isbn=book.isbn,
                unit_price=book.price,
                quantity=line.quantity,
                line_total=line_total,
                tax_rate=rate,
                tax_amount=tax_of(line_total, rate, included=include),
            )
        )
    subtotal = sum((line.line_total for line in lines), ZERO)
    shipping_cost = cents(method.cost_for(subtotal=subtotal)) if lines else ZERO
    shipping_rate = rates.get(TaxRate.Kind.SHIPPING, NO_RATE)
    shipping_tax = tax_of(shipping_cost, shipping_rate, included=include)
    tax_total = sum((line.tax_amount for line in lines), ZERO) + shipping_tax
    problems: list[DomainError] = []
    if not lines and not shortages:
        problems.append(EmptyCartError())
    if shortages:
        problems.append(InsufficientStockError(shortages))
    return Pricing(
        lines=lines,
        subtotal=subtotal,
        shipping_method=method,
        shipping_cost=shipping_cost,
        shipping_tax_rate=shipping_rate,
        shipping_tax_amount=shipping_tax,
        tax_total=tax_total,
        total=subtotal + shipping_cost + (ZERO if include else tax_total),
        prices_include_tax=include,
        currency=settings.STORE_CURRENCY,
        problems=problems,
    )
