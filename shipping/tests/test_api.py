from decimal import Decimal

import pytest

from shipping.models import ShippingMethod
from shipping.tests.factories import ShippingMethodFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/shipping-methods"


def test_a_fresh_store_ships_everywhere_by_standard_at_the_flat_rate(api_client):
    response = api_client.get(URL, {"country": "JP"})

    assert response.status_code == 200
    assert response.json() == [
        {
            "code": "standard",
            "name": "Standard",
            "price": "4.99",
            "currency": "USD",
            "free_over": "35.00",
            "min_days": 3,
            "max_days": 7,
        }
    ]


def test_lists_only_the_active_methods_that_deliver_to_the_country(api_client):
    ShippingMethodFactory(code="express", name="Express", price=Decimal("12.00"), countries=["FR", "DE"])
    ShippingMethodFactory(code="uk-next-day", countries=["GB"])
    ShippingMethodFactory(code="retired", countries=["FR"], is_active=False)

    french = [m["code"] for m in api_client.get(URL, {"country": "fr"}).json()]
    british = [m["code"] for m in api_client.get(URL, {"country": "GB"}).json()]

    assert french == ["standard", "express"]
    assert british == ["standard", "uk-next-day"]


def test_no_method_delivers_there_is_an_empty_list(api_client):
    ShippingMethod.objects.update(everywhere=False)

    assert api_client.get(URL, {"country": "FR"}).json() == []


@pytest.mark.parametrize("query", [{}, {"country": ""}, {"country": "XX"}, {"country": "FRA"}, {"country": "ｆｒ"}])
def test_a_missing_or_unknown_country_is_400(api_client, query):
    response = api_client.get(URL, query)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "country"


def test_a_country_given_twice_is_400(api_client):
    assert api_client.get(f"{URL}?country=FR&country=DE").status_code == 400
