"""`page` from 1 and `page_size` (default 20, at most 100) as the contract states them."""

import pytest

from catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db

BOOKS = "/api/v1/books"


@pytest.mark.parametrize("page", ["2", "9999999999999999999", "1" + "0" * 40, "9" * 3000])  # longer: a 414 (URL limit)
def test_a_page_past_the_end_is_a_404_however_large(api_client, page):
    BookFactory()

    response = api_client.get(BOOKS, {"page": page})

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize("page_size", ["101", "99999999999999999999", "9" * 3000])  # longer: a 414 (URL limit)
def test_a_page_size_above_100_is_clamped_however_large(api_client, page_size):
    BookFactory()

    response = api_client.get(BOOKS, {"page_size": page_size})

    assert response.status_code == 200
    assert response.json()["page_size"] == 100


@pytest.mark.parametrize("name", ["page", "page_size"])
@pytest.mark.parametrize("value", ["0", "000", "-1", "abc", "1.5", "", " 1", "1\n", "1e3", "１"])
def test_a_page_or_page_size_that_is_not_a_positive_integer_is_a_400(api_client, name, value):
    response = api_client.get(BOOKS, {name: value})

    assert response.status_code == 400
    assert [(e["code"], e["attr"]) for e in response.json()["errors"]] == [("invalid", name)]


def test_leading_zeros_are_the_same_number(api_client):
    BookFactory.create_batch(3)

    body = api_client.get(BOOKS, {"page": "002", "page_size": "02"}).json()

    assert (body["page"], body["page_size"], len(body["results"])) == (2, 2, 1)
