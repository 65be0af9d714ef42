"""JSON bodies: a lone surrogate (a `\\ud800` escape with no pair) is a 400 `invalid` naming its field.

Python's JSON decoder accepts such escapes, but no valid text holds one: PostgreSQL cannot
store it and the JSON renderer cannot encode an error message that echoes it (a 500).
"""

import pytest

from catalog.tests.factories import BookFactory
from orders.tests.factories import order_placed

pytestmark = pytest.mark.django_db

LONE = "\\ud800"  # as the client sends it: a JSON escape


def _post(client, method, url, body: str):
    return getattr(client, method)(url, body, content_type="application/json")


def _errors(response):
    return [(error["code"], error["attr"]) for error in response.json()["errors"]]


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("format", f'{{"isbn": "9780306406157", "title": "T", "price": "1.00", "format": "{LONE}"}}'),
        ("language", f'{{"isbn": "9780306406157", "title": "T", "price": "1.00", "language": "{LONE}"}}'),
        ("title", f'{{"isbn": "9780306406157", "title": "a{LONE}b", "price": "1.00"}}'),
        ("isbn", f'{{"isbn": "978030640615{LONE}", "title": "T", "price": "1.00"}}'),
        ("slug", f'{{"isbn": "9780306406157", "title": "T", "price": "1.00", "slug": "{LONE}"}}'),
    ],
)
def test_a_lone_surrogate_in_a_book_is_a_400_invalid_on_its_field(staff_client, field, body):
    created = _post(staff_client, "post", "/api/v1/books", body)
    changed = _post(staff_client, "patch", f"/api/v1/books/{BookFactory().pk}", body)

    for response in (created, changed):
        assert response.status_code == 400
        assert _errors(response) == [("invalid", field)]


def test_a_lone_surrogate_in_an_order_status_is_a_400(staff_client, user):
    order = order_placed(user=user)

    response = _post(staff_client, "patch", f"/api/v1/orders/{order.pk}", f'{{"status": "{LONE}"}}')

    assert (response.status_code, _errors(response)) == (400, [("invalid", "status")])


def test_a_lone_surrogate_deep_in_a_body_names_the_path(user_client):
    body = f'{{"shipping_address": {{"full_name": "A", "city": "x{LONE}"}}}}'

    response = _post(user_client, "post", "/api/v1/orders", body)

    assert (response.status_code, _errors(response)) == (400, [("invalid", "shipping_address.city")])


def test_a_lone_surrogate_in_a_list_or_a_key_is_a_400(staff_client):
    in_list = _post(staff_client, "post", "/api/v1/books", f'{{"author_ids": [1, "{LONE}"]}}')
    in_key = _post(staff_client, "post", "/api/v1/categories", f'{{"name": "N", "{LONE}": 1}}')

    assert (in_list.status_code, _errors(in_list)) == (400, [("invalid", "author_ids.1")])
    assert (in_key.status_code, _errors(in_key)) == (400, [("invalid", "non_field_errors")])


def test_a_surrogate_pair_is_an_ordinary_character(staff_client):
    response = _post(staff_client, "post", "/api/v1/categories", '{"name": "Books \\ud83d\\udcda"}')

    assert response.status_code == 201
    assert response.json()["name"] == "Books \U0001f4da"
