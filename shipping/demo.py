"""Demo shipping methods and tax rates for `manage.py seed_demo` (idempotent: existing rows are kept).

The rates are the standard reduced/zero rates on books in force in 2025, from the European
Commission's "Taxes in Europe Database" / "VAT rates applied in the Member States"
(taxation-customs.ec.europa.eu) and, for the UK, HMRC's VAT Notice 701/10 "Zero-rating of books
and printed matter" (e-publications zero-rated since 1 May 2020):
- GB: printed books and ebooks 0 % (audiobooks are in fact standard-rated at 20 % in the UK;
  this store groups them with ebooks as "digital", so a UK shop selling audiobooks must split them);
- DE: 7 % (ermäßigter Satz) on printed books, ebooks and audiobooks;
- FR: 5.5 % (taux réduit) on printed books, ebooks and audiobooks;
- IE: 0 % on printed books, 9 % on ebooks and audiobooks (since 1 January 2020).
Delivery is taxed as the goods it delivers (the "ancillary supply" rule), at the print rate here.
"""

from decimal import Decimal

from shipping.models import ShippingMethod, ShippingMethodCountry, TaxRate

DEMO_TAX_RATES = {
    "GB": {"print": "0", "digital": "0", "shipping": "0"},
    "DE": {"print": "0.07", "digital": "0.07", "shipping": "0.07"},
    "FR": {"print": "0.055", "digital": "0.055", "shipping": "0.055"},
    "IE": {"print": "0", "digital": "0.09", "shipping": "0"},
}
EXPRESS_COUNTRIES = ["GB", "IE", "FR", "DE", "BE", "NL"]


def seed_shipping_and_tax() -> dict[str, int]:
    created = {"tax rates": 0, "shipping methods": 0}
    for country, rates in DEMO_TAX_RATES.items():
        for kind, rate in rates.items():
            _, new = TaxRate.objects.get_or_create(country=country, kind=kind, defaults={"rate": Decimal(rate)})
            created["tax rates"] += new
    express, new = ShippingMethod.objects.get_or_create(
        code="express",
        defaults={"name": "Express", "price": Decimal("14.90"), "min_days": 1, "max_days": 2, "position": 1},
    )
    if new:
        created["shipping methods"] += 1
        ShippingMethodCountry.objects.bulk_create(
            ShippingMethodCountry(method=express, country=country) for country in EXPRESS_COUNTRIES
        )
    return created
