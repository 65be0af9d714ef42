"""A second read of the catalog's hot paths (catalog.reads, the throttle's read-ahead): what a client sees."""

import pytest
from django.core.cache import cache, caches
from rest_framework.test import APIClient

from bookstore.cache import RedisCache
from catalog import caching
from catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db

BOOKS = "/api/v1/books"


def store_undecodable(key: str) -> None:
    """Puts bytes that do not unpickle under the cache entry `key` (a foreign writer, a torn deploy)."""
    raw_key = cache.make_and_validate_key(key)
    if isinstance(caches["default"], RedisCache):
        cache._cache.get_client(write=True).set(raw_key, b"\x80\x05garbage")
    else:  # LocMemCache: its own pickled store
        cache._cache[raw_key] = b"\x80\x05garbage"
        cache._expire_info[raw_key] = None


@pytest.mark.parametrize("path", ["/{pk}", "", "?page_size=1&page=2"])
def test_a_cached_answer_that_does_not_decode_is_a_miss_not_a_500(path):
    """The throttle reads the cached answer ahead for the view: an entry it cannot decode must not
    fail the request (before the read-ahead, the catalog's lookup read through to the database)."""
    book = BookFactory()
    BookFactory()
    url = BOOKS + path.format(pk=book.pk)
    expected = APIClient().get(url).content
    cache.clear()
    client = APIClient(raise_request_exception=False)
    store_undecodable(caching.response_key(client.get(url).wsgi_request))

    response = client.get(url)

    assert response.status_code == 200
    assert response.content == expected


@pytest.mark.parametrize("pk", ["%C2%B2", "%E2%91%A0"])  # "²", "①": str.isdigit() says digits, int() refuses
@pytest.mark.parametrize("staff", [False, True])
def test_a_book_id_of_unicode_digits_that_are_no_number_is_404(pk, staff, staff_client):
    BookFactory()
    client = staff_client if staff else APIClient(raise_request_exception=False)

    response = client.get(f"{BOOKS}/{pk}")

    assert response.status_code == 404
