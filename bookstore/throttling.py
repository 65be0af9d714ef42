"""The store's throttles: sliding-window counters in the shared cache, safe under concurrency.

DRF's `SimpleRateThrottle` keeps a list of timestamps per client, read and written back on
every request: two round trips, a pickled list that grows with the rate (1,000 entries for
`1000/min`), and concurrent requests that overwrite each other's entries, so a burst of
parallel logins is undercounted. Here each client has one counter per window, incremented
atomically (one round trip on Redis), and the rate is checked against the sliding-window
estimate `previous × (share of the previous window still in view) + current`. A refused
request is taken back out of the count, so `Retry-After` is when a request succeeds again.
The estimate assumes the previous window's requests were spread evenly: a client that bunches
them at the end of one window and the end of the next gets up to about twice the rate into
one minute (19 logins against 10/min), where DRF's log let any number through at once when
they came in parallel.

A view may name the cache entries it is about to read (`cache_read_ahead(request)`, the
catalog's reads): the throttle that counts the request reads them in its round trip
(`bookstore.cache.read_ahead`), so that the view need not make its own.

Anonymous requests count against `anon` only; `user` counts authenticated requests.

When the cache does not answer, throttling degrades by scope: reads and ordinary writes stay
open (a brief loss of rate limiting beats an outage of the whole store), while the scopes
that guard against abuse (`auth`: login, register, password reset; `checkout`) close with a
503 and `Retry-After`, because nothing would stop a password-guessing run meanwhile.
"""

import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rest_framework import throttling

from bookstore.cache import CACHE_ERRORS, read_ahead
from bookstore.exceptions import ServiceUnavailableError

logger = logging.getLogger(__name__)

FAIL_CLOSED_SCOPES = frozenset({"auth", "checkout"})

if TYPE_CHECKING:  # what the mixins are mixed into
    _RateThrottle = throttling.SimpleRateThrottle
    _Throttle = throttling.BaseThrottle
else:
    _RateThrottle = _Throttle = object


class ThrottlingUnavailableError(ServiceUnavailableError):
    default_detail = "This action is briefly unavailable; try again shortly."
    wait = 30  # sent as Retry-After: a cache outage lasts longer than a dropped connection


def count_in_window(cache, key: str, other_key: str, timeout: int, also_get: Sequence[str] = ()):
    """One more hit on the counter `key`, the counter `other_key`, and the entries `also_get`:
    (key's count, other's count, `cache.get_many(also_get)`)."""
    if hasattr(cache, "count_in_window"):  # bookstore.cache.RedisCache: one round trip
        return cache.count_in_window(key, other_key, timeout, also_get)
    cache.add(key, 0, timeout)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout)
        count = 1
    return count, cache.get(other_key, 0), _get_many(cache, also_get)


def _get_many(cache, keys: Sequence[str]) -> dict:
    """`cache.get_many(keys)`; an entry that does not decode is read as missing (as the Redis cache's
    `count_in_window` does): the view computes the answer and stores a good one over it."""
    if not keys:
        return {}
    try:
        return cache.get_many(keys)
    except CACHE_ERRORS:
        raise  # the cache is out: the throttle's own fault tolerance decides
    except Exception:
        found = {}
        for key in keys:
            with contextlib.suppress(Exception):
                if (value := cache.get(key)) is not None:
                    found[key] = value
        return found


def _read_ahead_keys(request, view) -> list[str]:
    """The cache entries the view will read (its `cache_read_ahead`), unless another throttle read them."""
    wanted = getattr(view, "cache_read_ahead", None)
    if wanted is None or getattr(request, "_cache_read_ahead", None) is not None:
        return []
    return wanted(request)


class SlidingWindowThrottleMixin(_RateThrottle):
    """Replaces `SimpleRateThrottle`'s timestamp log with per-window counters (see the module's docstring)."""

    # Set from the rate by DRF's `__init__` (or `ScopedRateThrottle.allow_request`); the stubs leave them out.
    num_requests: int
    duration: int

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.elapsed = now - window * self.duration  # seconds into the current window
        current_key = f"{self.key}:{window}"
        # Kept for two windows: the next window reads this one as its previous. The view's cache
        # entries come in the same round trip (a catalog read's answer and version, `read_ahead`).
        ahead = _read_ahead_keys(request, view)
        self.current, self.previous, found = count_in_window(
            self.cache, current_key, f"{self.key}:{window - 1}", 2 * self.duration, ahead
        )
        if ahead:
            read_ahead(request, ahead, found)
        if self.previous * (1 - self.elapsed / self.duration) + self.current <= self.num_requests:
            return True
        self.current -= 1
        with contextlib.suppress(ValueError):  # ValueError: the counter expired meanwhile, nothing to take back
            self.cache.decr(current_key)  # a refused request does not count
        return False

    def wait(self):
        """Seconds until one more request fits the sliding window (None: never, at a rate of 0)."""
        if self.num_requests <= 0:
            return None
        room = self.num_requests - 1  # the estimate must fall to this before the next request is counted
        if self.current <= room:
            # This window has room: wait for the previous window's share to fade enough.
            needed = self.duration * (1 - (room - self.current) / self.previous) if self.previous else 0
            return max(needed - self.elapsed, 0)
        # This window is full: wait for the next one, where this window's count fades in turn.
        to_next = self.duration - self.elapsed
        return to_next + max(self.duration * (1 - room / self.current), 0)


class FaultTolerantThrottleMixin(_Throttle):
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as error:
            scope = getattr(view, "throttle_scope", None)
            logger.warning("throttle cache unavailable (%s); scope %s", type(error).__name__, scope or "-")
            if scope in FAIL_CLOSED_SCOPES:
                raise ThrottlingUnavailableError() from None
            return True


class AnonRateThrottle(FaultTolerantThrottleMixin, SlidingWindowThrottleMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(FaultTolerantThrottleMixin, SlidingWindowThrottleMixin, throttling.UserRateThrottle):
    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None  # anonymous requests are counted once, by AnonRateThrottle
        return super().get_cache_key(request, view)


class ScopedRateThrottle(FaultTolerantThrottleMixin, SlidingWindowThrottleMixin, throttling.ScopedRateThrottle):
    def allow_request(self, request, view):
        # As DRF's: the view's scope picks the rate, then the counting above decides.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)  # type: ignore[assignment]  # not None: a rate is set
        return super().allow_request(request, view)
