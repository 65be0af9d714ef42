"""Django's Redis cache backend, with fewer round trips and no per-call client setup.

Django's `RedisCacheClient` builds a new `redis.Redis` object for every call (each copies
about 200 response callbacks), which a profile of a cached catalog read showed as a quarter
of its CPU. This client keeps one `redis.Redis` per connection pool; redis-py clients are
thread-safe and the pools are Django's own.

`count_and_get` is a request's one round trip: it counts the throttles' hits (one more on a
counter, read with the previous window's), starts the version counters that are missing, and
reads the entries the request needs (the user's cached row and the denylist's key for an
authenticated request, `accounts.authentication`; the catalog's cached answer and its version
for an anonymous read, `read_ahead`). `version_start` and `version_bump` keep the version
counters of the versioned caches (the catalog's responses, users' rows): an entry counts only
while the version it was stored under is current.
"""

import contextlib
import time
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from django.core.cache.backends import redis as django_redis
from redis.exceptions import RedisError

# What a cache that does not answer raises (the callers then do without it).
CACHE_ERRORS = (RedisError, ConnectionError, TimeoutError, OSError)


class Counter(NamedTuple):
    """A throttle's hit: one more on the counter `key` (created to live `timeout` seconds), read
    with the count of `other_key` (the previous window's)."""

    key: str
    other_key: str
    timeout: int


class ReadAhead(NamedTuple):
    """What a view will read from the cache (`get`), with the version counters among them that it
    would start where missing (`start`: key, timeout in seconds or None): read in the throttle's trip."""

    get: Sequence[str]
    start: Mapping[str, int | None]


# What `count_and_get` answers: each counter's (count, other key's count), and the entries found.
Counted = tuple[list[tuple[int, int]], dict[str, Any]]


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        # Django's own private members, which the stubs leave out.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def count_and_get(
        self, counters: Sequence[Counter] = (), get: Sequence[str] = (), start: Mapping[str, int | None] = {}
    ) -> Counted:
        """`count_and_get` (below) in one pipelined round trip. The increments are atomic, so
        concurrent hits are never lost; a version is started only where none is (`SET NX`)."""
        pipeline = self._cache.get_client(None, write=True).pipeline(transaction=False)
        for counter in counters:
            key = self.make_and_validate_key(counter.key)
            pipeline.set(key, 0, ex=counter.timeout, nx=True)
            pipeline.incr(key)
            pipeline.get(self.make_and_validate_key(counter.other_key))
        version = time.time_ns()  # stored as Django stores an int: its digits, read back as one
        for key, timeout in start.items():
            pipeline.set(self.make_and_validate_key(key), version, ex=timeout, nx=True)
        if get:
            pipeline.mget([self.make_and_validate_key(name) for name in get])
        replies = pipeline.execute() if len(pipeline) else []
        counts = [(replies[3 * i + 1], int(replies[3 * i + 2] or 0)) for i in range(len(counters))]
        found = {}
        if get:
            loads = self._cache._serializer.loads  # type: ignore[attr-defined]  # Django's own member
            for name, value in zip(get, replies[-1], strict=True):
                if value is not None:
                    # An entry that does not decode is a miss, not the request's failure: the
                    # reader computes the answer and stores a good one over it.
                    with contextlib.suppress(Exception):
                        found[name] = loads(value)
        return counts, found


def count_and_get(
    cache, counters: Sequence[Counter] = (), get: Sequence[str] = (), start: Mapping[str, int | None] = {}
) -> Counted:
    """One more hit on each of `counters` with its other key's count, the versions `start` (key:
    timeout) started where missing (`version_start`), then the entries `get`: ([(count, other
    count) for each counter], `cache.get_many(get)`). One round trip on Redis (`RedisCache`);
    on another cache (tests, development), one call each.

    An entry that does not decode is read as missing; a cache that does not answer raises one of
    `CACHE_ERRORS`, for the caller to decide.
    """
    if hasattr(cache, "count_and_get"):  # RedisCache (through Django's proxy, which isinstance does not see)
        return cache.count_and_get(counters, get, start)
    version = time.time_ns()
    for key, timeout in start.items():
        cache.add(key, version, timeout)
    return [_count(cache, counter) for counter in counters], _get_many(cache, get)


def _count(cache, counter: Counter) -> tuple[int, int]:
    """`count_and_get`'s count of `counter`, in three calls (the increment alone is atomic)."""
    cache.add(counter.key, 0, counter.timeout)
    try:
        count = cache.incr(counter.key)
    except ValueError:  # expired between the two calls
        cache.set(counter.key, 1, counter.timeout)
        count = 1
    return count, cache.get(counter.other_key, 0)


def _get_many(cache, keys: Sequence[str]) -> dict:
    """`cache.get_many(keys)`, an entry that does not decode read as missing (as `RedisCache.count_and_get` does)."""
    if not keys:
        return {}
    try:
        return cache.get_many(keys)
    except CACHE_ERRORS:
        raise  # the cache is out: the caller decides
    except Exception:  # an entry that does not decode: read the others one by one
        found = {}
        for key in keys:
            with contextlib.suppress(Exception):
                if (value := cache.get(key)) is not None:
                    found[key] = value
        return found


def read_ahead(request, keys: Sequence[str], found: dict[str, Any]) -> None:
    """Keeps on `request` what was read for it ahead of time (the throttle's round trip) under `keys`."""
    request._cache_read_ahead = (frozenset(keys), found)


def read_ahead_found(request, keys: Sequence[str]) -> dict[str, Any] | None:
    """What `read_ahead` kept for `request`, if every one of `keys` was read (else None: read them)."""
    kept = getattr(request, "_cache_read_ahead", None)
    if kept is None or not kept[0].issuperset(keys):
        return None
    return {key: kept[1][key] for key in keys if key in kept[1]}


def version_start(cache, key: str, timeout: int | None) -> int | None:
    """A new version under `key` unless there is one: ours, or the one another process set first."""
    version = time.time_ns()
    return version if cache.add(key, version, timeout) else cache.get(key)


def version_bump(cache, key: str, timeout: int | None) -> None:
    """Makes every entry stored under the current version of `key` obsolete."""
    try:
        cache.incr(key)
    except ValueError:  # no version (never read, or evicted): no stored entry can match a new one
        cache.set(key, time.time_ns(), timeout)
