"""Cart writes under real concurrency (PostgreSQL, threads with their own connections)."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from cart.models import Cart, CartItem
from catalog.tests.factories import BookFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_simultaneous_adds_of_one_book_sum_into_one_line():
    book = BookFactory(stock=50)
    buyer = UserFactory()
    token = str(RefreshToken.for_user(buyer).access_token)
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def add():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait(timeout=30)
            statuses.append(client.post("/api/v1/cart/items", {"book_id": book.pk, "quantity": 2}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=add) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [201] * 8
    assert list(CartItem.objects.filter(cart__user=buyer).values_list("quantity", flat=True)) == [16]


def test_a_cart_token_merges_once_when_sign_ins_race_with_it():
    from bookstore.tests.concurrency import run_together

    password = "correct-horse-battery-staple"
    users = [UserFactory(password=password) for _ in range(2)]
    book = BookFactory(stock=50)
    token = APIClient().post("/api/v1/cart/items", {"book_id": book.pk, "quantity": 3}).json()["cart_token"]
    logins = [
        lambda u=u: APIClient().post(
            "/api/v1/auth/token", {"email": u.email, "password": password, "cart_token": token}
        )
        for u in users * 3
    ]

    responses = run_together(logins)

    assert [r.status_code for r in responses] == [200] * 6
    reports = [r.json()["cart_merge"] for r in responses]
    assert sum(report is not None for report in reports) == 1
    assert list(CartItem.objects.filter(book=book).values_list("quantity", flat=True)) == [3]
    assert not Cart.objects.filter(user__isnull=True).exists()


def test_simultaneous_first_reads_of_a_cart_make_one_cart():
    buyer = UserFactory()
    token = str(RefreshToken.for_user(buyer).access_token)
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def read():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait(timeout=30)
            statuses.append(client.get("/api/v1/cart").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [200] * 6
    assert Cart.objects.filter(user=buyer).count() == 1
