"""Shipping methods (with the countries each delivers to) and tax rates, kept by staff in the admin."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from bookstore.compiled import TEXT_PLACEHOLDERS, compiled
from bookstore.countries import ISO_3166_ALPHA2

COUNTRY_CHOICES = sorted((code, code) for code in ISO_3166_ALPHA2)


class ShippingMethodQuerySet(models.QuerySet["ShippingMethod"]):
    def active(self) -> "ShippingMethodQuerySet":
        return self.filter(is_active=True)

    def delivering_to(self, country: str) -> "ShippingMethodQuerySet":
        """The methods that deliver to `country` (ISO 3166-1 alpha-2): everywhere, or that country named."""
        return self.filter(Q(everywhere=True) | Q(countries__country=country)).distinct()


class ShippingMethod(models.Model):
    code = models.SlugField(max_length=32, unique=True, help_text="What clients send as `shipping_method`.")
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=9, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    free_over = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Free when the subtotal is at least this much; empty: never free.",
    )
    min_days = models.PositiveSmallIntegerField(default=1)
    max_days = models.PositiveSmallIntegerField(default=5)
    everywhere = models.BooleanField(default=False, help_text="Delivers to every country (the list below is ignored).")
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Listed by this, then by price.")

    objects = ShippingMethodQuerySet.as_manager()

    class Meta:
        ordering = ["position", "price", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="shipping_method_price_not_negative"),
            models.CheckConstraint(
                condition=Q(min_days__lte=models.F("max_days")), name="shipping_method_days_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def cost_for(self, *, subtotal: Decimal) -> Decimal:
        """The price, or nothing once the subtotal reaches `free_over`."""
        if self.free_over is not None and subtotal >= self.free_over:
            return Decimal("0.00")
        return self.price


class ShippingMethodCountry(models.Model):
    method = models.ForeignKey(ShippingMethod, on_delete=models.CASCADE, related_name="countries")
    country = models.CharField(max_length=2, choices=COUNTRY_CHOICES, help_text="ISO 3166-1 alpha-2")

    class Meta:
        ordering = ["country"]
        verbose_name = "country served"
        verbose_name_plural = "countries served"
        constraints = [models.UniqueConstraint(fields=["method", "country"], name="shipping_method_country_once")]

    def __str__(self) -> str:
        return self.country


class TaxRate(models.Model):
    """The rate of one kind of sale in one country. No row for a country and kind: no tax."""

    class Kind(models.TextChoices):
        PRINT = "print", "Printed books (paperback, hardcover)"
        DIGITAL = "digital", "Digital books (ebook, audiobook)"
        SHIPPING = "shipping", "Shipping"

    country = models.CharField(max_length=2, choices=COUNTRY_CHOICES, help_text="ISO 3166-1 alpha-2")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="A fraction: 0.0550 is 5.5 %.",
    )

    class Meta:
        ordering = ["country", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["country", "kind"], name="shipping_taxrate_one_per_country_kind"),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=1), name="shipping_taxrate_rate_0_to_1"),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.kind} {self.rate}"

    @staticmethod
    def kind_of_format(book_format: str) -> str:
        """Print for paperbacks and hardcovers, digital for ebooks and audiobooks."""
        return TaxRate.Kind.DIGITAL if book_format in {"ebook", "audiobook"} else TaxRate.Kind.PRINT


_COUNTRY, _CODE = TEXT_PLACEHOLDERS


def tax_rates_for(country: str) -> dict[str, Decimal]:
    """The country's rates by kind, in one query; a kind with no rate is absent (no tax)."""
    # Compiled once per thread and connection (bookstore.compiled): read on every checkout and quote.
    return dict(compiled("shipping.tax-rates", _tax_rates, prepare=True).rows({_COUNTRY: country}))


def _tax_rates() -> "models.QuerySet[TaxRate, tuple[str, Decimal]]":
    return TaxRate.objects.filter(country=_COUNTRY).values_list("kind", "rate")


def shipping_method_for(*, code: str, country: str) -> ShippingMethod:
    """The active method `code` if it delivers to `country`; else `ShippingUnavailableError`."""
    from shipping.exceptions import ShippingUnavailableError

    found = compiled("shipping.method-for", _method_for, prepare=True).instances({_COUNTRY: country, _CODE: code})
    if not found:
        raise ShippingUnavailableError(method=code, country=country)
    method: ShippingMethod = found[0]
    return method


def _method_for() -> "ShippingMethodQuerySet":
    # `.first()` as a statement of its own, compiled once per thread and connection (bookstore.compiled).
    methods = ShippingMethod.objects.active().delivering_to(_COUNTRY).filter(code=_CODE)
    return (methods if methods.ordered else methods.order_by("pk"))[:1]
