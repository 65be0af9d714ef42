"""The shared cache of public catalog reads (book list and detail) and their ETags.

What a cached answer depends on, and the one way it is invalidated
-------------------------------------------------------------------
A cached answer is stored with the *version* it was read under and counts only while that is
still the current version; one round trip fetches both.

- A book's **detail** is stored under that book's own version (`catalog:book:<id>`). It shows the
  book's fields, its authors' names, its category's name and slug, its ratings, whether it is
  withdrawn (then 404) and its `updated_at`.
- **Lists** (and the values kept with them: list counts per filter, the category tree) are stored
  under the lists' version (`catalog:version`): any book they show or filter on, any author name
  (search), any category (the `category` filter takes the subtree), any rating, popularity.

Invalidation is explicit, in the services that write (`catalog.services`, `catalog.stock`,
`catalog.search_index`, the import and the demo seed); no model signal is involved, so every
write path (API, admin, commands) invalidates exactly as the service it calls does. Each calls
`catalog_changed(book_ids=...)` with the books whose detail changes; the lists' version goes
with every call. Who calls it, and for which books:

| write | details | lists |
|---|---|---|
| book created, imported, seeded | (none cached yet) | yes |
| book fields or authors changed, cover, withdrawn, restored, deleted | that book | yes |
| stock crossing zero (0 <-> >0: `in_stock` and `updated_at` change) | those books | yes |
| sale, restock or adjustment that leaves the stock on the same side of zero | no | no |
| author renamed | their books | yes |
| author's bio, author created or deleted (no books) | no | no |
| category renamed or its slug changed | its books | yes |
| category moved, created, deleted | no | yes |
| review published, re-rated, hidden, restored, deleted | its book | yes |
| review title or body edited, a report that does not hide it | no | no |
| popularity refresh, search rebuild | no | yes |

Stock figures are not part of what is cached: a sale changes a `catalog.Stock` row and bumps no
version (unless the stock reaches or leaves zero). A cached answer is stored as its data, and
each hit merges the current `stock` and `in_stock` of its books from one indexed query
(`catalog_stock` by primary key) before it is rendered; its ETag is that of the merged body, so
it changes with the stock.

Each change sets the versions now and again when the transaction commits: a read that ran in
between (and saw the old rows) is stored under a version the second one makes obsolete.

The version (started there if there is none) and the stored answer (and a list's count) are read
in the throttle's round trip (`reads_ahead`, `bookstore.throttling`): a read that misses makes one
more, to store its answer.

Staff reads (they see withdrawn books) are never cached. When the cache does not answer, reads
go to the database and the cache is left alone for a few seconds rather than slowing every request.
"""

import hashlib
import logging
import time
from collections.abc import Iterable

from django.core.cache import cache
from django.db import connections, transaction
from django.http import HttpResponse, HttpResponseNotModified

from bookstore.cache import ReadAhead, read_ahead_found, version_bump, version_start
from bookstore.compiled import execute_prepared, int_array
from bookstore.renderers import JSONRenderer
from catalog.models import Stock

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


def book_version_key(book_id: int | str) -> str:
    return f"catalog:book:{book_id}"


BOOK_VERSION_TIMEOUT = 24 * 60 * 60  # an expired one is started afresh: what it covered misses, never goes stale


def _bump(book_ids: list[int]) -> None:
    try:
        version_bump(cache, VERSION_KEY, None)
        if book_ids:
            version = time.time_ns()
            cache.set_many({book_version_key(pk): version for pk in book_ids}, BOOK_VERSION_TIMEOUT)
    except Exception as error:
        _cache_failed(error)


def catalog_changed(*, book_ids: Iterable[int] = ()) -> None:
    """Call with any write that changes a catalog read: the lists change, and so do the details
    of `book_ids` (the books whose own detail shows the change; see the table above).

    Sets the versions now and again when the transaction commits: a read that ran in between
    (and saw the old rows) is stored under a version that the second change makes obsolete.
    """
    books = sorted(set(book_ids))
    _bump(books)
    transaction.on_commit(lambda: _bump(books))


def _lookup(key: str, version_key: str = VERSION_KEY, timeout: int | None = None, request=None):
    """(current version, what is stored under `key`) in one round trip, or none when the throttle
    read both for `request` (`reads_ahead`); (None, None) when the cache is out."""
    if not _cache_usable():
        return None, None
    try:
        found = read_ahead_found(request, [version_key, key]) if request is not None else None
        if found is None:
            found = cache.get_many([version_key, key])
        version = found.get(version_key)
        if version is None:
            version = version_start(cache, version_key, timeout)
        return version, found.get(key)
    except Exception as error:
        _cache_failed(error)
        return None, None


def _store(key: str, version: int, *value) -> None:
    try:
        cache.set(key, (version, *value), TIMEOUT)
    except Exception as error:
        _cache_failed(error)


def lists_version(request=None) -> int | None:
    """The lists' current version (read with the throttle's round trip for a list), or None when the cache is out."""
    return _lookup(VERSION_KEY, request=request)[0]


def value_key(name: str) -> str:
    return f"catalog:value:{name}"


def cached_value(name: str, compute, request=None):
    """`compute()`, stored in the shared cache until the catalog changes (e.g. the category tree)."""
    key = value_key(name)
    version, stored = _lookup(key, request=request)
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


def reads_ahead(request, *, book_id: int | None = None, values: Iterable[str] = ()) -> ReadAhead | None:
    """What `cached_response` (and `cached_value` of `values`) will read for `request`, and the
    version it would start: the throttle does both in its own round trip (`bookstore.throttling`),
    so a read costs one trip fewer (two when its version had to be started)."""
    if not _cache_usable():
        return None
    if book_id is None:
        return ReadAhead([VERSION_KEY, response_key(request), *map(value_key, values)], {VERSION_KEY: None})
    version_key = book_version_key(book_id)
    return ReadAhead([version_key, response_key(request)], {version_key: BOOK_VERSION_TIMEOUT})


def cached_response(request, *, book_id: int | None = None):
    """The stored answer to this read (or a 304), or None; remembers on `request` where `finish` stores it.

    Each stored answer carries the version it was read under (the book's for the detail of
    `book_id`, the lists' otherwise), and counts only while that is still the current version.
    """
    key = response_key(request)
    if book_id is None:
        version, stored = _lookup(key, request=request)
    else:
        version, stored = _lookup(key, book_version_key(book_id), BOOK_VERSION_TIMEOUT, request)
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
    books = [book for book in _books_in(data) if "stock" in book]
    if books:
        levels = _stock_levels([book["id"] for book in books])
        for book in books:
            book["stock"] = levels.get(book["id"], 0)
            book["in_stock"] = book["stock"] > 0
    return data


def _stock_levels(book_ids: list[int]) -> dict[int, int]:
    """The books' stock by id. On PostgreSQL one statement of one shape whatever the number of
    books (an array, sent as its text: `int_array`), prepared once per connection
    (bookstore.compiled): every hit runs it."""
    connection = connections[Stock.objects.db]
    if connection.vendor != "postgresql":
        return dict(Stock.objects.filter(book_id__in=book_ids).values_list("book_id", "quantity"))
    with connection.cursor() as cursor:
        execute_prepared(
            cursor,
            f"SELECT book_id, quantity FROM {Stock._meta.db_table} WHERE book_id = ANY(%s::bigint[])",  # noqa: S608
            [int_array(book_ids)],
        )
        return dict(cursor.fetchall())


_renderer = JSONRenderer()  # the API's (settings.REST_FRAMEWORK)


def _render(data) -> bytes:
    return _renderer.render(data)
