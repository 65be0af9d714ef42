"""DRF throttles that survive an outage of the shared cache (Redis).

When the cache does not answer, throttling degrades by scope: reads and ordinary writes stay
open (a brief loss of rate limiting beats an outage of the whole store), while the scopes
that guard against abuse (`auth`: login, register, password reset; `checkout`) close with a
503 and `Retry-After`, because nothing would stop a password-guessing run meanwhile.
"""

import logging

from redis.exceptions import RedisError
from rest_framework import throttling

from bookstore.exceptions import ServiceUnavailableError

logger = logging.getLogger(__name__)

CACHE_ERRORS = (RedisError, ConnectionError, TimeoutError, OSError)
FAIL_CLOSED_SCOPES = frozenset({"auth", "checkout"})


class ThrottlingUnavailableError(ServiceUnavailableError):
    default_detail = "This action is briefly unavailable; try again shortly."
    wait = 30  # sent as Retry-After: a cache outage lasts longer than a dropped connection


class FaultTolerantThrottleMixin:
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as error:
            scope = getattr(view, "throttle_scope", None)
            logger.warning("throttle cache unavailable (%s); scope %s", type(error).__name__, scope or "-")
            if scope in FAIL_CLOSED_SCOPES:
                raise ThrottlingUnavailableError() from None
            return True


class AnonRateThrottle(FaultTolerantThrottleMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(FaultTolerantThrottleMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(FaultTolerantThrottleMixin, throttling.ScopedRateThrottle):
    pass
