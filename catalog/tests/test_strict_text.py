"""Text inputs take JSON strings only: a number where text belongs is a 400 `invalid`, never "12"."""

import pytest

from catalog.models import Author, Category, Review
from catalog.tests.factories import AuthorFactory, BookFactory, CategoryFactory, ReviewFactory

pytestmark = pytest.mark.django_db

NOT_TEXT = [12, 1.5, True, {"a": "b"}, ["x"]]


def _errors(response):
    return [(error["code"], error["attr"]) for error in response.json()["errors"]]


@pytest.mark.parametrize("value", NOT_TEXT)
@pytest.mark.parametrize("field", ["title", "body"])
def test_review_text_must_be_a_string(user_client, user, field, value):
    book = BookFactory()
    created = user_client.post(f"/api/v1/books/{book.pk}/reviews", {"rating": 4, field: value})
    review = ReviewFactory(user=user)
    changed = user_client.patch(f"/api/v1/reviews/{review.pk}", {field: value})

    assert (created.status_code, _errors(created)) == (400, [("invalid", field)])
    assert (changed.status_code, _errors(changed)) == (400, [("invalid", field)])
    assert Review.objects.count() == 1


@pytest.mark.parametrize("value", NOT_TEXT)
@pytest.mark.parametrize("field", ["name", "bio"])
def test_author_text_must_be_a_string(staff_client, field, value):
    created = staff_client.post("/api/v1/authors", {"name": "N", field: value})
    changed = staff_client.patch(f"/api/v1/authors/{AuthorFactory().pk}", {field: value})

    assert (created.status_code, _errors(created)) == (400, [("invalid", field)])
    assert (changed.status_code, _errors(changed)) == (400, [("invalid", field)])
    assert Author.objects.count() == 1


@pytest.mark.parametrize("value", NOT_TEXT)
@pytest.mark.parametrize("field", ["name", "slug", "description"])
def test_category_text_must_be_a_string(staff_client, field, value):
    created = staff_client.post("/api/v1/categories", {"name": "N", field: value})
    changed = staff_client.patch(f"/api/v1/categories/{CategoryFactory().pk}", {field: value})

    assert (created.status_code, _errors(created)) == (400, [("invalid", field)])
    assert (changed.status_code, _errors(changed)) == (400, [("invalid", field)])
    assert Category.objects.count() == 1


@pytest.mark.parametrize("field", ["title", "subtitle", "slug", "publisher", "description"])
def test_book_text_must_be_a_string(staff_client, field):
    book = BookFactory()

    changed = staff_client.patch(f"/api/v1/books/{book.pk}", {field: 12})

    assert (changed.status_code, _errors(changed)) == (400, [("invalid", field)])


def test_checkout_address_and_order_note_must_be_strings(user_client, staff_client, user):
    from orders.tests.factories import ADDRESS, order_placed

    checkout = user_client.post("/api/v1/orders", {"shipping_address": {**ADDRESS, "postal_code": 12345}})
    order = order_placed(user=user)
    note = staff_client.patch(f"/api/v1/orders/{order.pk}", {"status": "paid", "note": 12})

    assert (checkout.status_code, _errors(checkout)) == (400, [("invalid", "shipping_address.postal_code")])
    assert (note.status_code, _errors(note)) == (400, [("invalid", "note")])
