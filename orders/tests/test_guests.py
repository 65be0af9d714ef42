"""Guest checkout: a Cart-Token and an email, the Order-Token, the emailed link, cancel by token, claiming."""

import re
from decimal import Decimal

import pytest
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.services import email_verification_token_generator
from accounts.tests.factories import UserFactory
from catalog.models import Book
from catalog.tests.factories import BookFactory
from orders.models import Order, order_token_hash
from orders.tests.factories import ADDRESS

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders"


def _guest_cart(api_client, book, quantity=1) -> str:
    response = api_client.post("/api/v1/cart/items", {"book_id": book.pk, "quantity": quantity})
    assert response.status_code == 201
    return response.json()["cart_token"]


def _guest_checkout(api_client, token, email="Guest@Example.com"):
    return api_client.post(ORDERS, {"shipping_address": ADDRESS, "email": email}, HTTP_CART_TOKEN=token)


def test_a_guest_checks_out_follows_the_email_link_and_cancels(
    api_client, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.FRONTEND_URL = "https://shop.example"
    book = BookFactory(price=Decimal("10.00"), stock=4)
    token = _guest_cart(api_client, book, 2)

    with django_capture_on_commit_callbacks(execute=True):
        response = _guest_checkout(api_client, token)

    assert response.status_code == 201, response.content
    body = response.json()
    order_token = body["order_token"]
    assert len(order_token) >= 43
    assert (body["email"], body["status"], body["total"]) == ("guest@example.com", "pending", "24.99")
    order = Order.objects.get()
    assert order.user is None and order.order_token_hash == order_token_hash(order_token)
    assert Book.objects.get(pk=book.pk).stock == 2
    assert api_client.get("/api/v1/cart", HTTP_CART_TOKEN=token).json()["items"] == []  # cart emptied
    [mail] = mailoutbox
    assert mail.to == ["guest@example.com"]
    [link] = re.findall(r"https://shop\.example/orders/\S+", mail.body)
    assert link == f"https://shop.example/orders/{order.number}?token={order_token}"

    opened = api_client.get(f"{ORDERS}/{order.pk}", HTTP_ORDER_TOKEN=link.split("token=")[1])
    assert opened.status_code == 200
    assert opened.json()["number"] == order.number
    assert "order_token" not in opened.json()
    cancelled = api_client.post(f"{ORDERS}/{order.pk}/cancel", HTTP_ORDER_TOKEN=order_token)
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert Book.objects.get(pk=book.pk).stock == 4


def test_an_order_token_opens_that_order_alone(api_client, user):
    first = _guest_checkout(api_client, _guest_cart(api_client, BookFactory())).json()
    second = _guest_checkout(api_client, _guest_cart(api_client, BookFactory())).json()

    assert api_client.get(f"{ORDERS}/{second['id']}", HTTP_ORDER_TOKEN=first["order_token"]).status_code == 404
    assert api_client.post(f"{ORDERS}/{second['id']}/cancel", HTTP_ORDER_TOKEN=first["order_token"]).status_code == 404
    for forged in ["forged", "x" * 500, "tök", first["order_token"][:-1]]:
        assert api_client.get(f"{ORDERS}/{first['id']}", HTTP_ORDER_TOKEN=forged).status_code == 404
    assert api_client.get(ORDERS, HTTP_ORDER_TOKEN=first["order_token"]).status_code == 401  # no listing by token
    assert Order.objects.get(pk=second["id"]).status == "pending"


def test_a_guest_checkout_needs_an_email(api_client):
    token = _guest_cart(api_client, BookFactory())

    response = api_client.post(ORDERS, {"shipping_address": ADDRESS}, HTTP_CART_TOKEN=token)

    assert response.status_code == 400
    assert [(e["code"], e["attr"]) for e in response.json()["errors"]] == [("required", "email")]
    assert not Order.objects.exists()


def test_a_guest_checkout_with_an_unknown_cart_token_is_404(api_client):
    response = api_client.post(ORDERS, {"shipping_address": ADDRESS, "email": "a@b.co"}, HTTP_CART_TOKEN="nope")

    assert response.status_code == 404
    assert not Order.objects.exists()


def test_a_guest_cannot_use_a_saved_address_id(api_client):
    token = _guest_cart(api_client, BookFactory())

    response = api_client.post(ORDERS, {"shipping_address_id": 1, "email": "a@b.co"}, HTTP_CART_TOKEN=token)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "shipping_address_id"


def test_a_guest_quote_uses_the_cart_token(api_client):
    token = _guest_cart(api_client, BookFactory(price=Decimal("40.00")))

    body = api_client.post("/api/v1/checkout/quote", {"shipping_address": ADDRESS}, HTTP_CART_TOKEN=token).json()

    assert (body["subtotal"], body["shipping_cost"], body["total"], body["problems"]) == ("40.00", "0.00", "40.00", [])


def test_guest_orders_join_the_account_that_verifies_their_email(api_client):
    _guest_checkout(api_client, _guest_cart(api_client, BookFactory()), email="reader@example.com")
    _guest_checkout(api_client, _guest_cart(api_client, BookFactory()), email="someone-else@example.com")
    reader = UserFactory(email="reader@example.com", is_email_verified=False)
    uid = urlsafe_base64_encode(force_bytes(reader.pk))
    token = email_verification_token_generator.make_token(reader)

    assert api_client.post("/api/v1/auth/email/verify", {"uid": uid, "token": token}).status_code == 204

    assert list(Order.objects.filter(user=reader).values_list("email", flat=True)) == ["reader@example.com"]
    assert Order.objects.filter(user__isnull=True).count() == 1


# Idempotency-Key for guests: scoped to the guest's cart


def test_a_guests_retry_with_the_same_key_returns_the_same_order_and_token(api_client, mailoutbox):
    book = BookFactory(stock=5)
    token = _guest_cart(api_client, book, 2)

    first = api_client.post(
        ORDERS,
        {"shipping_address": ADDRESS, "email": "g@example.com"},
        format="json",
        HTTP_CART_TOKEN=token,
        HTTP_IDEMPOTENCY_KEY="guest-1",
    )
    again = api_client.post(
        ORDERS,
        {"shipping_address": ADDRESS, "email": "g@example.com"},
        format="json",
        HTTP_CART_TOKEN=token,
        HTTP_IDEMPOTENCY_KEY="guest-1",
    )

    assert (first.status_code, again.status_code) == (201, 201), again.content
    assert again.json() == first.json()
    assert first.json()["order_token"]
    assert Order.objects.count() == 1
    assert Book.objects.get(pk=book.pk).stock == 3
    opened = api_client.get(f"{ORDERS}/{first.json()['id']}", HTTP_ORDER_TOKEN=again.json()["order_token"])
    assert opened.status_code == 200


@pytest.mark.parametrize("change", [{"email": "other@example.com"}, {"shipping_method": "express"}])
def test_a_guests_key_reused_with_another_body_is_a_409(api_client, change):
    from shipping.tests.factories import ShippingMethodFactory

    ShippingMethodFactory(code="express")
    token = _guest_cart(api_client, BookFactory(stock=5), 1)
    body = {"shipping_address": ADDRESS, "email": "g@example.com"}
    assert (
        api_client.post(ORDERS, body, format="json", HTTP_CART_TOKEN=token, HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    )

    response = api_client.post(
        ORDERS, {**body, **change}, format="json", HTTP_CART_TOKEN=token, HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 409
    assert [e["code"] for e in response.json()["errors"]] == ["idempotency_key_reused"]
    assert Order.objects.count() == 1


def test_two_guests_with_the_same_key_each_get_their_own_order(api_client):
    body = {"shipping_address": ADDRESS, "email": "g@example.com"}
    first_cart = _guest_cart(api_client, BookFactory(stock=5), 1)
    second_cart = _guest_cart(api_client, BookFactory(stock=5), 1)

    first = api_client.post(ORDERS, body, format="json", HTTP_CART_TOKEN=first_cart, HTTP_IDEMPOTENCY_KEY="1")
    second = api_client.post(ORDERS, body, format="json", HTTP_CART_TOKEN=second_cart, HTTP_IDEMPOTENCY_KEY="1")

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    assert first.json()["order_token"] != second.json()["order_token"]
