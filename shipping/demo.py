"""Demo shipping methods and tax rates for `manage.py seed_demo` (idempotent: existing rows are kept).

The rates on books in force in 2025-26, checked against these sources:
- GB: printed books and ebooks 0 %. Printed matter is zero-rated (VAT Act 1994, Schedule 8
  Group 3) and e-publications have been since 1 May 2020: HMRC, "Zero rate of VAT for electronic
  publications", https://www.gov.uk/guidance/zero-rate-of-vat-for-electronic-publications .
  Audiobooks stay standard-rated (20 %) in the UK, physical or digital (same page); this store
  groups them with ebooks as "digital", so a UK shop selling audiobooks must split them.
- DE: 7 % (ermäßigter Satz) on printed books, audiobooks on a carrier and, from the end of
  2019, ebooks (UStG § 12 (2) no. 14): Mazars, "Introduction of the reduced VAT rate for books",
  https://eng.mazars.de/Home/Latest-news/News/Introduction-of-the-reduced-VAT-rate-for-books-etc .
- FR: 5.5 % (taux réduit, CGI art. 278-0 bis) on printed books, on ebooks since 1 January 2013
  and on audiobooks since 1 January 2020:
  https://www.legifiscal.fr/tva/tva-francaise/livres-e-book-livre-audio-taux-tva.html .
- IE: 0 % on printed books, and on ebooks and audiobooks since 1 January 2024 (Budget 2024,
  Finance (No. 2) Act 2023; they were 9 % from 2019 to 2023): the Minister for Finance's written
  answer of 5 December 2023, https://www.kildarestreet.com/wrans/?id=2023-12-05a.405 .
Delivery is taxed as the goods it delivers (the "ancillary supply" rule), at the print rate here.
"""

from decimal import Decimal

from shipping.models import ShippingMethod, ShippingMethodCountry, TaxRate

DEMO_TAX_RATES = {
    "GB": {"print": "0", "digital": "0", "shipping": "0"},
    "DE": {"print": "0.07", "digital": "0.07", "shipping": "0.07"},
    "FR": {"print": "0.055", "digital": "0.055", "shipping": "0.055"},
    "IE": {"print": "0", "digital": "0", "shipping": "0"},
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
