"""Checkout under real concurrency: threads, each with its own connection, released together.

These need PostgreSQL (SQLite has no row locks) and commit for real (`transaction=True`).
"""

import threading
from collections import Counter

import pytest

from accounts.tests.factories import UserFactory
from bookstore.tests.clients import client_for
from bookstore.tests.concurrency import run_together
from catalog.models import Book, StockMovement
from catalog.tests.factories import BookFactory
from orders.models import Order
from orders.tests.factories import ADDRESS, cart_with

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ORDERS = "/api/v1/orders"


def checkout(client, **headers):
    return lambda: client.post(ORDERS, {"shipping_address": ADDRESS}, **headers)


def test_twenty_buyers_racing_for_five_copies_make_exactly_five_orders():
    book = BookFactory(stock=5)
    buyers = UserFactory.create_batch(20)
    for buyer in buyers:
        cart_with(buyer, (book, 1))

    responses = run_together([checkout(client_for(buyer)) for buyer in buyers])

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 5, 409: 15}
    assert all(
        response.json()["errors"][0]["code"] == "insufficient_stock"
        for response in responses
        if response.status_code == 409
    )
    assert Order.objects.count() == 5
    assert Book.objects.get(pk=book.pk).stock == 0
    sales = StockMovement.objects.filter(book=book, reason="sale")
    assert sales.count() == 5
    assert sorted(sales.values_list("stock_after", flat=True)) == [0, 1, 2, 3, 4]


def test_crossed_carts_do_not_deadlock():
    book_a, book_b = BookFactory(stock=50), BookFactory(stock=50)
    pairs = []
    for i in range(6):  # three buyers with A then B, three with B then A
        buyer = UserFactory()
        cart_with(buyer, *([(book_a, 1), (book_b, 1)] if i % 2 == 0 else [(book_b, 1), (book_a, 1)]))
        pairs.append(client_for(buyer))

    responses = run_together([checkout(client) for client in pairs])

    assert [response.status_code for response in responses] == [201] * 6
    assert dict(Book.objects.filter(pk__in=[book_a.pk, book_b.pk]).values_list("pk", "stock_record__quantity")) == {
        book_a.pk: 44,
        book_b.pk: 44,
    }


def test_six_simultaneous_checkouts_with_one_idempotency_key_make_one_order():
    book = BookFactory(stock=10)
    buyer = UserFactory()
    cart_with(buyer, (book, 2))
    clients = [client_for(buyer) for _ in range(6)]

    responses = run_together([checkout(client, HTTP_IDEMPOTENCY_KEY="once-only") for client in clients])

    assert [response.status_code for response in responses] == [201] * 6
    assert len({response.json()["id"] for response in responses}) == 1
    assert Order.objects.filter(user=buyer).count() == 1
    assert Book.objects.get(pk=book.pk).stock == 8
    assert StockMovement.objects.filter(book=book).count() == 1


def test_simultaneous_cancellations_restore_the_stock_once():
    book = BookFactory(stock=5)
    buyer = UserFactory()
    cart_with(buyer, (book, 3))
    client = client_for(buyer)
    order_id = client.post(ORDERS, {"shipping_address": ADDRESS}).json()["id"]

    responses = run_together([lambda: client_for(buyer).post(f"{ORDERS}/{order_id}/cancel") for _ in range(5)])

    assert Counter(response.status_code for response in responses) == {200: 1, 409: 4}
    assert Book.objects.get(pk=book.pk).stock == 5
    assert StockMovement.objects.filter(book=book, reason="cancellation").count() == 1


def test_two_checkouts_drawing_one_order_number_both_succeed(monkeypatch):
    """The unique order number is not the buyer's choice: a clash draws again, never a 500 or a 400."""
    draws = iter(["BK-0000000000", "BK-0000000000", "BK-1111111111", "BK-2222222222"])
    lock = threading.Lock()

    def drawn() -> str:
        with lock:
            return next(draws)

    monkeypatch.setattr("orders.services.order_number_new", drawn)
    book = BookFactory(stock=5)
    buyers = UserFactory.create_batch(2)
    for buyer in buyers:
        cart_with(buyer, (book, 1))

    responses = run_together([checkout(client_for(buyer)) for buyer in buyers])

    assert [response.status_code for response in responses] == [201, 201]
    numbers = sorted(response.json()["number"] for response in responses)
    assert numbers[0] == "BK-0000000000" and numbers[1] in {"BK-1111111111", "BK-2222222222"}
    assert sorted(StockMovement.objects.filter(book=book).values_list("order_reference", flat=True)) == numbers
    assert Book.objects.get(pk=book.pk).stock == 3


def test_six_simultaneous_guest_checkouts_with_one_key_make_one_order_with_one_token():
    from rest_framework.test import APIClient

    book = BookFactory(stock=10)
    cart_token = APIClient().post("/api/v1/cart/items", {"book_id": book.pk, "quantity": 2}).json()["cart_token"]
    body = {"shipping_address": ADDRESS, "email": "guest@example.com"}

    responses = run_together(
        [
            lambda: APIClient().post(
                ORDERS, body, format="json", HTTP_CART_TOKEN=cart_token, HTTP_IDEMPOTENCY_KEY="guest-once"
            )
            for _ in range(6)
        ]
    )

    assert [response.status_code for response in responses] == [201] * 6, [r.content for r in responses]
    assert len({(response.json()["id"], response.json()["order_token"]) for response in responses}) == 1
    assert Order.objects.count() == 1
    assert Book.objects.get(pk=book.pk).stock == 8
    assert StockMovement.objects.filter(book=book).count() == 1
