import pytest

from addresses.models import Address
from catalog.tests.factories import BookFactory
from orders.models import Order
from orders.tests.factories import ADDRESS, cart_with
from shipping.tests.factories import ShippingMethodFactory, TaxRateFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/me/addresses"
HOME = ADDRESS | {"label": "Home"}
PARIS = ADDRESS | {"label": "Paris flat", "city": "Paris", "postal_code": "75001", "country": "FR"}


def test_add_list_change_and_remove_addresses(user_client, user):
    created = user_client.post(URL, HOME)
    assert created.status_code == 201, created.content
    home = created.json()
    assert home | {"id": None, "created_at": None, "updated_at": None} == HOME | {
        "id": None,
        "is_default": False,
        "created_at": None,
        "updated_at": None,
    }
    paris = user_client.post(URL, PARIS | {"is_default": True}).json()

    listed = user_client.get(URL)
    assert listed.status_code == 200
    assert [(a["id"], a["is_default"]) for a in listed.json()] == [(paris["id"], True), (home["id"], False)]

    changed = user_client.patch(f"{URL}/{home['id']}", {"is_default": True, "city": "Bath"})
    assert changed.status_code == 200
    assert (changed.json()["city"], changed.json()["is_default"], changed.json()["line1"]) == (
        "Bath",
        True,
        ADDRESS["line1"],
    )
    assert list(Address.objects.filter(user=user, is_default=True).values_list("pk", flat=True)) == [home["id"]]

    assert user_client.delete(f"{URL}/{paris['id']}").status_code == 204
    assert [a["id"] for a in user_client.get(URL).json()] == [home["id"]]


def test_another_users_address_is_404_and_untouched(user_client, other_user):
    theirs = Address.objects.create(user=other_user, **ADDRESS)

    assert user_client.patch(f"{URL}/{theirs.pk}", {"city": "Nowhere"}).status_code == 404
    assert user_client.patch(f"{URL}/{theirs.pk}", {"country": "XX"}).status_code == 404
    assert user_client.delete(f"{URL}/{theirs.pk}").status_code == 404
    assert user_client.get(URL).json() == []
    theirs.refresh_from_db()
    assert theirs.city == ADDRESS["city"]


def test_at_most_twenty_addresses(user_client, user):
    Address.objects.bulk_create(Address(user=user, **ADDRESS) for _ in range(Address.MAX_PER_USER))

    response = user_client.post(URL, HOME)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "address_book_full"
    assert Address.objects.filter(user=user).count() == 20


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"country": "XX"}, "country"),
        ({"full_name": ""}, "full_name"),
        ({"label": "x" * 51}, "label"),
        ({"phone": "call me"}, "phone"),
        ({"is_default": "perhaps"}, "is_default"),
    ],
)
def test_a_bad_address_is_400_on_the_field_and_saves_nothing(user_client, user, change, attr):
    response = user_client.post(URL, HOME | change)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr
    assert not Address.objects.exists()


def test_addresses_need_authentication(api_client):
    assert api_client.get(URL).status_code == 401
    assert api_client.post(URL, HOME).status_code == 401


def test_checkout_to_a_saved_address_by_express_shows_french_vat(user_client, user):
    ShippingMethodFactory(code="express", name="Express", price="15.00", countries=["FR"])
    TaxRateFactory(country="FR", kind="print", rate="0.0550")
    TaxRateFactory(country="FR", kind="shipping", rate="0.0550")
    paris = user_client.post(URL, PARIS | {"is_default": True}).json()
    cart_with(user, (BookFactory(price="10.00"), 2))

    response = user_client.post("/api/v1/orders", {"shipping_address_id": paris["id"], "shipping_method": "express"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["shipping_address"] == {key: PARIS[key] for key in ADDRESS}
    assert body["shipping_method"] == {"code": "express", "name": "Express"}
    assert [item["tax_rate"] for item in body["items"]] == ["0.0550"]
    assert (body["tax_total"], body["total"]) == ("1.93", "36.93")  # 1.10 + 0.825 → 0.83 on 15.00 shipping


def test_checkout_with_another_users_address_id_is_400_and_places_nothing(user_client, user, other_user):
    theirs = Address.objects.create(user=other_user, **ADDRESS)
    cart_with(user, (BookFactory(), 1))

    response = user_client.post("/api/v1/orders", {"shipping_address_id": theirs.pk})

    assert response.status_code == 400
    assert [(e["code"], e["attr"]) for e in response.json()["errors"]] == [("does_not_exist", "shipping_address_id")]
    assert not Order.objects.exists()


def test_checkout_takes_an_address_or_an_address_id_not_both(user_client, user):
    saved = Address.objects.create(user=user, **ADDRESS)
    cart_with(user, (BookFactory(), 1))

    both = user_client.post("/api/v1/orders", {"shipping_address": ADDRESS, "shipping_address_id": saved.pk})

    assert both.status_code == 400
    assert both.json()["errors"][0]["attr"] == "shipping_address_id"
