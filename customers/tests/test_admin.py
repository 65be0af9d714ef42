import pytest

from addresses.models import Address
from catalog.tests.factories import BookFactory
from orders.tests.factories import ADDRESS, order_placed
from shipping.models import ShippingMethod, TaxRate

pytestmark = pytest.mark.django_db


def test_the_customer_page_shows_their_addresses_and_orders(admin_client, user, other_user):
    Address.objects.create(user=user, label="Holiday home", **ADDRESS | {"line1": "1 Sandy Lane"})
    order = order_placed(user=user, lines=[(BookFactory(), 1)])
    theirs = order_placed(user=other_user, lines=[(BookFactory(), 1)])

    listing = admin_client.get("/admin/customers/customer/")
    page = admin_client.get(f"/admin/customers/customer/{user.pk}/change/")

    assert listing.status_code == 200 and user.email in listing.content.decode()
    assert page.status_code == 200
    html = page.content.decode()
    assert "Holiday home" in html and "1 Sandy Lane" in html
    assert order.number in html and theirs.number not in html


def test_staff_add_a_shipping_method_with_its_countries_and_a_tax_rate(admin_client):
    response = admin_client.post(
        "/admin/shipping/shippingmethod/add/",
        {
            "code": "express",
            "name": "Express",
            "price": "12.00",
            "free_over": "",
            "min_days": "1",
            "max_days": "2",
            "is_active": "on",
            "position": "1",
            "countries-TOTAL_FORMS": "2",
            "countries-INITIAL_FORMS": "0",
            "countries-MIN_NUM_FORMS": "0",
            "countries-MAX_NUM_FORMS": "1000",
            "countries-0-country": "FR",
            "countries-1-country": "DE",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(ShippingMethod.objects.delivering_to("FR").values_list("code", flat=True)) == ["standard", "express"]

    response = admin_client.post("/admin/shipping/taxrate/add/", {"country": "FR", "kind": "print", "rate": "0.0550"})
    assert response.status_code == 302
    assert str(TaxRate.objects.get(country="FR").rate) == "0.0550"
    assert (
        admin_client.post("/admin/shipping/taxrate/add/", {"country": "FR", "kind": "print", "rate": "2"}).status_code
        == 200
    )
    assert admin_client.get("/admin/shipping/shippingmethod/").status_code == 200
