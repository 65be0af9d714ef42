from decimal import Decimal

import pytest
from django.apps import apps
from django.db import models
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from addresses.models import Address
from cart.models import Cart
from catalog.models import Book, Review, StockMovement
from catalog.tests.factories import BookFactory
from orders.models import Order, OrderLine
from orders.tests.factories import ADDRESS, cart_with

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me"
SECRET_ADDRESS = ADDRESS | {
    "full_name": "Zebulon Quixotic",
    "line1": "7 Xylophone Mews",
    "line2": "Flat Qwerty",
    "city": "Plumtree-on-Wyre",
    "region": "Wyreshire",
    "postal_code": "ZZ9 9ZZ",
    "phone": "+44 1234 987654",
}
PERSONAL = ["zebulon", "quixotic", "xylophone", "qwerty", "plumtree", "wyreshire", "ZZ9 9ZZ", "987654", "zq@mail"]


@pytest.fixture
def customer(db, password):
    return UserFactory(email="zq@mail.example", first_name="Zebulon", last_name="Quixotic", password=password)


@pytest.fixture
def customer_client(customer, password):
    client = APIClient()
    tokens = client.post("/api/v1/auth/token", {"email": customer.email, "password": password}).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    client.refresh_token = tokens["refresh"]
    return client


def _shop(client, user):
    book = BookFactory(price=Decimal("10.00"), stock=5, title="Dune")
    client.post(f"{ME}/addresses", SECRET_ADDRESS | {"label": "Home"})
    cart_with(user, (book, 2))
    assert client.post("/api/v1/orders", {"shipping_address": SECRET_ADDRESS}).status_code == 201
    cart_with(user, (BookFactory(), 1))
    Review.objects.create(book=book, user=user, rating=5, title="Great", body="Loved it")
    return book


def test_export_holds_profile_addresses_orders_with_lines_reviews_and_carts(customer_client, customer):
    book = _shop(customer_client, customer)

    response = customer_client.get(f"{ME}/export")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"profile", "addresses", "orders", "reviews", "carts"}
    assert body["profile"]["email"] == "zq@mail.example"
    assert [a["line1"] for a in body["addresses"]] == [SECRET_ADDRESS["line1"]]
    [order] = body["orders"]
    assert [(i["book_id"], i["quantity"]) for i in order["items"]] == [(book.pk, 2)]
    assert order["shipping_address"]["full_name"] == "Zebulon Quixotic"
    assert [(r["book_id"], r["rating"], r["body"]) for r in body["reviews"]] == [(book.pk, 5, "Loved it")]
    assert [len(c["items"]) for c in body["carts"]] == [1]


def test_export_shows_only_the_callers_data(customer_client, customer, other_client, other_user):
    _shop(customer_client, customer)

    body = other_client.get(f"{ME}/export").json()

    assert (body["addresses"], body["orders"], body["reviews"], body["carts"]) == ([], [], [], [])
    assert body["profile"]["id"] == other_user.pk


def test_closing_the_account_needs_the_password(customer_client, customer):
    for body in [{"password": "wrong"}, {}, {"password": 12}]:
        response = customer_client.delete(ME, body)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["attr"] == "password"
    customer.refresh_from_db()
    assert customer.is_active and customer.email == "zq@mail.example"


def test_closing_the_account_erases_everything_personal_and_keeps_the_books_balanced(
    customer_client, customer, password, api_client
):
    book = _shop(customer_client, customer)
    order = Order.objects.get(user=customer)
    movements_before = StockMovement.objects.count()

    response = customer_client.delete(ME, {"password": password})

    assert response.status_code == 204
    # every token stops at once
    assert customer_client.get(ME).status_code == 401
    assert api_client.post("/api/v1/auth/token/refresh", {"refresh": customer_client.refresh_token}).status_code == 401
    assert api_client.post("/api/v1/auth/token", {"email": "zq@mail.example", "password": password}).status_code == 401
    # orders stay, with their money and lines, personal fields replaced
    order.refresh_from_db()
    assert order.shipping_address == {
        "full_name": "erased", "line1": "erased", "line2": "erased", "city": "erased", "region": "erased",
        "postal_code": "erased", "country": "GB", "phone": "erased",
    }  # fmt: skip
    assert order.email == "erased"
    assert (order.total, OrderLine.objects.filter(order=order).count()) == (Decimal("24.99"), 1)
    assert StockMovement.objects.count() == movements_before
    assert Book.objects.get(pk=book.pk).stock == 3
    assert not Address.objects.filter(user=customer).exists()
    assert not Cart.objects.filter(user=customer).exists()
    review = Review.objects.get(user=customer)
    assert review.user.display_name == f"Reader {customer.pk}"

    # nothing personal remains in any table
    for model in apps.get_models():
        text_fields = [
            f.name for f in model._meta.concrete_fields if isinstance(f, (models.CharField, models.TextField))
        ]
        for value in PERSONAL:
            query = models.Q()
            for name in text_fields:
                query |= models.Q(**{f"{name}__icontains": value})
            if text_fields:
                assert not model._base_manager.filter(query).exists(), (model, value)


def test_closing_the_account_needs_authentication(api_client):
    assert api_client.delete(ME, {"password": "x"}).status_code == 401
