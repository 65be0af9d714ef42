"""The catalog's `verified_purchase` on reviews comes from shipped or delivered orders."""

import pytest

from accounts.tests.factories import UserFactory
from catalog.tests.factories import BookFactory, ReviewFactory
from orders.tests.factories import order_placed

pytestmark = pytest.mark.django_db


def test_reviews_show_verified_purchase_only_for_buyers_with_a_shipped_or_delivered_order(api_client):
    book = BookFactory(stock=20)
    shipped_buyer, delivered_buyer, pending_buyer, cancelled_buyer, stranger, other_book_buyer = (
        UserFactory.create_batch(6)
    )
    order_placed(user=shipped_buyer, lines=[(book, 1)], status="shipped")
    order_placed(user=delivered_buyer, lines=[(book, 1)], status="delivered")
    order_placed(user=pending_buyer, lines=[(book, 1)])
    order_placed(user=cancelled_buyer, lines=[(book, 1)], status="cancelled")
    order_placed(user=other_book_buyer, lines=[(BookFactory(), 1)], status="delivered")
    for reviewer in [shipped_buyer, delivered_buyer, pending_buyer, cancelled_buyer, stranger, other_book_buyer]:
        ReviewFactory(book=book, user=reviewer)

    response = api_client.get(f"/api/v1/books/{book.pk}/reviews")

    assert response.status_code == 200
    verified = {review["user"]["id"]: review["verified_purchase"] for review in response.json()["results"]}
    assert verified == {
        shipped_buyer.pk: True,
        delivered_buyer.pk: True,
        pending_buyer.pk: False,
        cancelled_buyer.pk: False,
        stranger.pk: False,
        other_book_buyer.pk: False,
    }
