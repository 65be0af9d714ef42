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

Every request makes one round trip to the cache before its view runs. An authenticated
request's is the authentication's: it counts the view's throttles for the token's user
(`counters_ahead`) with the user's cached row, and the throttles then decide on those counts
without a trip of their own. So a request that its view's permissions refuse (DRF checks them
before the throttles) has been counted too. An anonymous request's trip is the throttle's: a
view may name the cache entries it is about to read (`cache_read_ahead(request)`, the
catalog's reads), which the throttle reads in the same trip (`bookstore.cache.read_ahead`), so
that the view need not make its own.

Anonymous requests count against `anon` only; `user` counts authenticated requests.

When the cache does not answer, throttling degrades by scope: reads and ordinary writes stay
open (a brief loss of rate limiting beats an outage of the whole store), while the scopes
that guard against abuse (`auth`: login, register, password reset; `checkout`) close with a
503 and `Retry-After`, because nothing would stop a password-guessing run meanwhile.
"""

import contextlib
import logging
from typing import TYPE_CHECKING

from rest_framework import throttling

from bookstore.cache import CACHE_ERRORS, Counter, ReadAhead, count_and_get, read_ahead
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


def counters_ahead(request, user_pk: int) -> list[tuple[str, Counter, float]]:
    """What the view's throttles will count for `request` once it is authenticated as `user_pk`:
    (throttle key, counter, seconds into the window) for each. The authentication counts them in
    its own round trip (`accounts.authentication`) and hands the counts back (`counted_ahead`)."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    if view is None:  # not a DRF view's request: its throttles count for themselves
        return []
    ahead = []
    for throttle in view.get_throttles():
        key = throttle.key_for_user(view, user_pk) if isinstance(throttle, SlidingWindowThrottleMixin) else None
        if key is not None:
            ahead.append((key, *throttle.counter(key)))
    return ahead


def counted_ahead(request, ahead: list[tuple[str, Counter, float]], counts: list[tuple[int, int]]) -> None:
    """Keeps on `request` what `counters_ahead`'s counters counted, for the throttles to decide on."""
    request._throttles_counted = {
        key: (counter, elapsed, *count) for (key, counter, elapsed), count in zip(ahead, counts, strict=True)
    }


def _read_ahead(request, view) -> ReadAhead | None:
    """What the view will read from the cache (its `cache_read_ahead`), unless another throttle read it."""
    wanted = getattr(view, "cache_read_ahead", None)
    if wanted is None or getattr(request, "_cache_read_ahead", None) is not None:
        return None
    return wanted(request)


class SlidingWindowThrottleMixin(_RateThrottle):
    """Replaces `SimpleRateThrottle`'s timestamp log with per-window counters (see the module's docstring)."""

    # Set from the rate by DRF's `__init__` (or `ScopedRateThrottle.allow_request`); the stubs leave them out.
    num_requests: int
    duration: int

    def counter(self, key: str) -> tuple[Counter, float]:
        """The counter of the current window for the throttle key `key`, and the seconds into the window."""
        now = self.timer()
        window = int(now // self.duration)
        # Kept for two windows: the next window reads this one as its previous.
        return Counter(f"{key}:{window}", f"{key}:{window - 1}", 2 * self.duration), now - window * self.duration

    def key_for_user(self, view, user_pk: int) -> str | None:
        """`get_cache_key` of a request authenticated as `user_pk` (None: such requests are not
        counted here), known before the request is (`counters_ahead`)."""
        if self.rate is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user_pk}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        counted = getattr(request, "_throttles_counted", {}).pop(self.key, None)
        if counted is not None:  # counted in the authentication's round trip
            counter, self.elapsed, self.current, self.previous = counted
        else:
            counter, self.elapsed = self.counter(self.key)
            # The view's cache entries come in the same round trip (a catalog read's answer and version, `read_ahead`).
            ahead = _read_ahead(request, view) or ReadAhead((), {})
            [(self.current, self.previous)], found = count_and_get(self.cache, [counter], ahead.get, ahead.start)
            if ahead.get:
                read_ahead(request, ahead.get, found)
        if self.previous * (1 - self.elapsed / self.duration) + self.current <= self.num_requests:
            return True
        self.current -= 1
        with contextlib.suppress(ValueError):  # ValueError: the counter expired meanwhile, nothing to take back
            self.cache.decr(counter.key)  # a refused request does not count
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
    def key_for_user(self, view, user_pk):
        return None  # authenticated requests count against `user`


class UserRateThrottle(FaultTolerantThrottleMixin, SlidingWindowThrottleMixin, throttling.UserRateThrottle):
    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None  # anonymous requests are counted once, by AnonRateThrottle
        return super().get_cache_key(request, view)


class ScopedRateThrottle(FaultTolerantThrottleMixin, SlidingWindowThrottleMixin, throttling.ScopedRateThrottle):
    def allow_request(self, request, view):
        return super().allow_request(request, view) if self._take_scope(view) else True

    def key_for_user(self, view, user_pk):
        return super().key_for_user(view, user_pk) if self._take_scope(view) else None

    def _take_scope(self, view) -> bool:
        """As DRF's `allow_request`: the view's scope, if it has one, picks the rate."""
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return False
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)  # type: ignore[assignment]  # not None: a rate is set
        return True
