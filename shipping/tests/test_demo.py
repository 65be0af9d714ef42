from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from shipping.models import ShippingMethod, TaxRate

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_real_book_vat_rates_and_express_shipping_once():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # again: nothing doubled

    rates = {(r.country, r.kind): r.rate for r in TaxRate.objects.all()}
    assert rates[("GB", "print")] == rates[("GB", "digital")] == Decimal("0")
    assert rates[("DE", "print")] == Decimal("0.0700")
    assert rates[("FR", "print")] == rates[("FR", "digital")] == Decimal("0.0550")
    # Ireland zero-rated ebooks and audiobooks from 1 January 2024 (they were 9 % from 2019)
    assert rates[("IE", "print")] == rates[("IE", "digital")] == Decimal("0")
    assert rates[("DE", "digital")] == Decimal("0.0700")
    assert len(rates) == 12
    assert list(ShippingMethod.objects.delivering_to("FR").values_list("code", flat=True)) == ["standard", "express"]
    assert list(ShippingMethod.objects.delivering_to("US").values_list("code", flat=True)) == ["standard"]
