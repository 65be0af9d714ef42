"""The shared cache of catalog reads: invalidated by the writes that change what it shows (not by
sales, whose stock is merged in at read time), ETags, and reads without Redis."""

from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache

from catalog import caching
from catalog.stock import stock_apply
from catalog.tests.factories import BookFactory, CategoryFactory, ReviewFactory

pytestmark = pytest.mark.django_db

BOOKS = "/api/v1/books"


@pytest.fixture(autouse=True)
def _cache_reachable():
    caching._cache_down_until = 0.0
    yield
    caching._cache_down_until = 0.0


def test_a_repeated_catalog_read_comes_from_the_cache(api_client, django_assert_num_queries):
    book = BookFactory()
    first = api_client.get(f"{BOOKS}/{book.pk}")
    listed = api_client.get(BOOKS)

    with django_assert_num_queries(2):  # each merges the current stock in: one query by primary key
        again = api_client.get(f"{BOOKS}/{book.pk}")
        listed_again = api_client.get(BOOKS)

    assert again.status_code == 200 and again.content == first.content
    assert listed_again.content == listed.content
    assert again["ETag"] == first["ETag"]


def test_a_staff_price_change_is_visible_on_the_next_request(api_client, staff_client):
    book = BookFactory(price=Decimal("12.50"))
    assert api_client.get(f"{BOOKS}/{book.pk}").json()["price"] == "12.50"
    assert api_client.get(BOOKS).json()["results"][0]["price"] == "12.50"

    assert staff_client.patch(f"{BOOKS}/{book.pk}", {"price": "9.99"}, format="json").status_code == 200

    assert api_client.get(f"{BOOKS}/{book.pk}").json()["price"] == "9.99"
    assert api_client.get(BOOKS).json()["results"][0]["price"] == "9.99"


def test_a_sale_keeps_cached_reads_and_they_show_the_stock_left(api_client, django_assert_num_queries):
    book = BookFactory(stock=10)
    detail, listed = api_client.get(f"{BOOKS}/{book.pk}"), api_client.get(BOOKS, {"in_stock": "true"})
    version = cache.get(caching.VERSION_KEY)

    stock_apply(changes={book.pk: -3}, reason="sale")

    assert cache.get(caching.VERSION_KEY) == version
    with django_assert_num_queries(1):  # the stock merge, not the book's read again
        detail_after = api_client.get(f"{BOOKS}/{book.pk}")
    with django_assert_num_queries(1):
        listed_after = api_client.get(BOOKS, {"in_stock": "true"})
    assert (detail_after.json()["stock"], detail_after.json()["in_stock"]) == (7, True)
    assert [(b["id"], b["stock"]) for b in listed_after.json()["results"]] == [(book.pk, 7)]
    assert detail_after["ETag"] != detail["ETag"] and listed_after["ETag"] != listed["ETag"]
    stale = api_client.get(f"{BOOKS}/{book.pk}", HTTP_IF_NONE_MATCH=detail["ETag"])
    assert stale.status_code == 200 and stale.json()["stock"] == 7


def test_selling_out_and_restocking_move_the_book_between_the_in_stock_lists(api_client):
    book = BookFactory(stock=2)
    assert [b["id"] for b in api_client.get(BOOKS, {"in_stock": "true"}).json()["results"]] == [book.pk]
    assert api_client.get(BOOKS, {"in_stock": "false"}).json()["count"] == 0

    stock_apply(changes={book.pk: -2}, reason="sale")
    assert api_client.get(BOOKS, {"in_stock": "true"}).json()["count"] == 0
    sold_out = api_client.get(BOOKS, {"in_stock": "false"}).json()["results"]
    assert [(b["id"], b["stock"], b["in_stock"]) for b in sold_out] == [(book.pk, 0, False)]
    assert api_client.get(f"{BOOKS}/{book.pk}").json()["in_stock"] is False

    stock_apply(changes={book.pk: 5}, reason="restock")
    assert [b["id"] for b in api_client.get(BOOKS, {"in_stock": "true"}).json()["results"]] == [book.pk]
    assert api_client.get(BOOKS, {"in_stock": "false"}).json()["count"] == 0


def test_reviews_and_withdrawals_invalidate_cached_reads(api_client, staff_client, user):
    book = BookFactory(stock=10)
    url = f"{BOOKS}/{book.pk}"
    assert api_client.get(url).json()["review_count"] == 0

    ReviewFactory(book=book, user=user, rating=4)
    assert api_client.get(url).json()["review_count"] == 1

    assert staff_client.delete(url).status_code == 204
    assert api_client.get(url).status_code == 404
    assert api_client.get(BOOKS).json()["count"] == 0


def test_conditional_catalog_reads_answer_304(api_client, staff_client):
    book = BookFactory(price=Decimal("12.50"))
    for url in (f"{BOOKS}/{book.pk}", BOOKS):
        first = api_client.get(url)
        etag = first["ETag"]

        not_modified = api_client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert not_modified.status_code == 304
        assert not_modified.content == b""
        assert not_modified["ETag"] == etag
        assert api_client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200

    assert staff_client.patch(f"{BOOKS}/{book.pk}", {"price": "9.99"}, format="json").status_code == 200
    changed = api_client.get(f"{BOOKS}/{book.pk}", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["price"] == "9.99"


def test_conditional_reads_answer_304_on_a_cache_miss_too(api_client):
    book = BookFactory()
    etag = api_client.get(f"{BOOKS}/{book.pk}")["ETag"]
    cache.clear()

    assert api_client.get(f"{BOOKS}/{book.pk}", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_staff_reads_are_not_shared_with_the_public(api_client, staff_client):
    book = BookFactory(is_active=False)

    assert staff_client.get(f"{BOOKS}/{book.pk}").status_code == 200
    assert staff_client.get(BOOKS, {"is_active": "false"}).json()["count"] == 1
    assert api_client.get(f"{BOOKS}/{book.pk}").status_code == 404
    assert api_client.get(BOOKS, {"is_active": "false"}).json()["count"] == 0


def test_catalog_reads_work_from_the_database_when_the_cache_is_down(api_client):
    book = BookFactory(category=CategoryFactory(slug="fiction"))
    broken = mock.patch.multiple(
        cache, get=mock.DEFAULT, set=mock.DEFAULT, add=mock.DEFAULT, incr=mock.DEFAULT,
    )  # fmt: skip
    with broken as mocks:
        for name in ("get", "set", "add", "incr"):
            mocks[name].side_effect = ConnectionError("redis is down")
        detail = api_client.get(f"{BOOKS}/{book.pk}")
        listed = api_client.get(BOOKS, {"category": "fiction"})

    assert detail.status_code == 200 and detail.json()["id"] == book.pk
    assert listed.status_code == 200 and listed.json()["count"] == 1


def _counts(queries) -> int:
    return sum("__count" in q["sql"] for q in queries.captured_queries)  # Django's COUNT(*) AS "__count"


def test_a_lists_count_is_taken_once_per_catalog_version_and_not_again_after_sales(api_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    books = BookFactory.create_batch(3, stock=5)
    with CaptureQueriesContext(connection) as first:
        assert api_client.get(BOOKS, {"page_size": 1, "page": 2}).json()["count"] == 3
    stock_apply(changes={books[0].pk: -1}, reason="sale")
    with CaptureQueriesContext(connection) as later:  # another page, another URL: not the cached answer
        body = api_client.get(BOOKS, {"page_size": 1, "page": 3, "ordering": "title"}).json()

    assert _counts(first) == 1 and _counts(later) == 0
    assert (body["count"], body["total_pages"]) == (3, 3)

    BookFactory()  # a write that changes which books the list holds: counted again
    assert api_client.get(BOOKS, {"page_size": 1, "page": 2}).json()["count"] == 4


def test_an_in_stock_lists_count_follows_a_sell_out(api_client):
    books = BookFactory.create_batch(3, stock=1)
    assert api_client.get(BOOKS, {"in_stock": "true", "page_size": 1, "page": 2}).json()["count"] == 3

    stock_apply(changes={books[0].pk: -1}, reason="sale")

    assert api_client.get(BOOKS, {"in_stock": "true", "page_size": 1, "page": 2}).json()["count"] == 2
    assert api_client.get(BOOKS, {"in_stock": "false", "page_size": 1}).json()["count"] == 1
