"""The shared cache of public catalog reads (book list and detail) and their ETags.

A cached response is stored with the catalog's *version* (a counter in the shared cache) at
the time it was read, and counts only while that is still the current version; one round
trip fetches both. Every write that can change what a catalog read shows or selects (books,
authors, categories, reviews, search columns, and a book's stock crossing zero, which moves it
in and out of the `in_stock` lists) calls `catalog_changed()`, which bumps the version once the
transaction commits: the next read misses and goes to the database.

Stock figures are not part of what is cached: a sale changes a `catalog.Stock` row and bumps no
version (unless the stock reaches or leaves zero), so cached pages survive sales. A cached
answer is stored as its data, and each hit merges the current `stock` and `in_stock` of its
books from one indexed query (`catalog_stock` by primary key) before it is rendered; its ETag is
that of the merged body, so it changes with the stock.

Staff reads (they see withdrawn books) are never cached. When the cache does not answer, reads
go to the database and the cache is left alone for a few seconds rather than slowing every request.
"""

import hashlib
import logging
import time

from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotModified
from rest_framework.renderers import JSONRenderer

from bookstore.cache import version_bump, version_start

logger = logging.getLogger(__name__)

VERSION_KEY = "catalog:version"
TIMEOUT = 5 * 60  # bounds staleness should a version bump be lost (cache briefly unreachable)
RETRY_AFTER_FAILURE = 5.0  # seconds without trying the cache after it failed
_cache_down_until = 0.0


def _cache_usable() -> bool:
    return time.monotonic() >= _cache_down_until


def _cache_failed(error: Exception) -> None:
    global _cache_down_until
    _cache_down_until = time.monotonic() + RETRY_AFTER_FAILURE
    logger.warning("catalog cache unavailable (%s); reading from the database", type(error).__name__)


def _bump() -> None:
    try:
        version_bump(cache, VERSION_KEY, None)
    except Exception as error:
        _cache_failed(error)


def catalog_changed() -> None:
    """Call with any write that changes a catalog read.

    Bumps the version now and again when the transaction commits: a read that ran in between
    (and saw the old rows) is stored under a version that the second bump makes obsolete.
    """
    _bump()
    transaction.on_commit(_bump)


def _lookup(key: str):
    """(current version, what is stored under `key`) in one round trip; (None, None) when the cache is out."""
    if not _cache_usable():
        return None, None
    try:
        found = cache.get_many([VERSION_KEY, key])
        version = found.get(VERSION_KEY)
        if version is None:
            version = version_start(cache, VERSION_KEY, None)
        return version, found.get(key)
    except Exception as error:
        _cache_failed(error)
        return None, None


def _store(key: str, version: int, *value) -> None:
    try:
        cache.set(key, (version, *value), TIMEOUT)
    except Exception as error:
        _cache_failed(error)


def cached_value(name: str, compute):
    """`compute()`, stored in the shared cache until the catalog changes (e.g. the category tree)."""
    key = f"catalog:value:{name}"
    version, stored = _lookup(key)
    if stored is not None and stored[0] == version:
        return stored[1]
    value = compute()
    if version is not None:
        _store(key, version, value)
    return value


def etag_for(content: bytes) -> str:
    return '"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"'


def _not_modified(request, etag: str) -> bool:
    sent = request.headers.get("If-None-Match", "")
    return bool(sent) and (sent.strip() == "*" or etag in [tag.strip().removeprefix("W/") for tag in sent.split(",")])


def response_key(request) -> str:
    # The body holds absolute links (next/previous, covers): the scheme and host are part of the key.
    url = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    return "catalog:response:" + hashlib.blake2b(url.encode(), digest_size=20).hexdigest()


def cached_response(request):
    """The stored answer to this read (or a 304), or None; remembers on `request` where `finish` stores it.

    Each stored answer carries the catalog version it was read under, and counts only while
    that is still the current version.
    """
    key = response_key(request)
    version, stored = _lookup(key)
    if version is None:
        return None
    request._catalog_cache_slot = (key, version)
    if stored is None or stored[0] != version:
        return None
    content = _render(_with_current_stock(stored[1]))
    etag = etag_for(content)
    response: HttpResponse
    if _not_modified(request, etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(content, content_type="application/json")
    response["ETag"] = etag
    response._catalog_cached = True  # type: ignore[attr-defined]  # the mark `finish` reads
    return response


def finish(request, response):
    """Adds the ETag to a rendered 200 read, answers 304 when it matches, and stores it for the next reader."""
    if response.status_code != 200 or getattr(response, "_catalog_cached", False):
        return response
    response.render()
    etag = etag_for(response.content)
    slot = getattr(request, "_catalog_cache_slot", None)
    if slot is not None:
        key, version = slot
        _store(key, version, response.data)
    if _not_modified(request, etag):
        response = HttpResponseNotModified()
    response["ETag"] = etag
    return response


def _books_in(data) -> list[dict]:
    """The books of a stored answer: the list's results, or the detail itself."""
    return data.get("results", [data])


def _with_current_stock(data):
    """`data` with each book's `stock` and `in_stock` as they are now: one query by primary key."""
    from catalog.models import Stock

    books = [book for book in _books_in(data) if "stock" in book]
    if books:
        levels = dict(
            Stock.objects.filter(book_id__in=[book["id"] for book in books]).values_list("book_id", "quantity")
        )
        for book in books:
            book["stock"] = levels.get(book["id"], 0)
            book["in_stock"] = book["stock"] > 0
    return data


_renderer = JSONRenderer()


def _render(data) -> bytes:
    return _renderer.render(data)


def model_changed(sender, **kwargs) -> None:
    """Signal receiver: a save or delete of a catalog row through the ORM (admin, DRF, services)."""
    catalog_changed()
