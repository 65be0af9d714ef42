"""Liveness and readiness probes for load balancers and orchestrators."""

import functools
import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=5)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not return the value it was given")
    cache.delete(key)


def _probe(view):
    """GET and HEAD only; any other method is a JSON 405 in the API's error shape.

    CSRF-exempt (a probe changes nothing), so that a POST gets the 405 rather than Django's HTML
    CSRF page.
    """

    @functools.wraps(view)
    def probe(request):
        if request.method not in {"GET", "HEAD"}:
            detail = f'Method "{request.method}" not allowed.'
            body = {"type": "client_error", "errors": [{"code": "method_not_allowed", "detail": detail, "attr": None}]}
            response = JsonResponse(body, status=405)
            response["Allow"] = "GET, HEAD"
            return response
        return view(request)

    return never_cache(csrf_exempt(probe))


def _readiness_checks():
    checks = {"database": _check_database}
    if settings.REDIS_URL:
        checks["cache"] = _check_cache
    return checks


@_probe
def live(request):
    return JsonResponse({"status": "ok"})


@_probe
def ready(request):
    results = {}
    for name, check in _readiness_checks().items():
        try:
            check()
        except Exception as error:  # probes run every few seconds: one line, no traceback
            logger.warning("readiness check %s failed: %s: %s", name, type(error).__name__, error)
            results[name] = "unavailable"
            if name == "database":
                # A dead connection would otherwise be reused by the next probe.
                connections["default"].close_if_unusable_or_obsolete()
        else:
            results[name] = "ok"
    failed = [name for name, result in results.items() if result != "ok"]
    body: dict[str, Any] = {"status": "unavailable" if failed else "ok", "checks": results}
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=503 if failed else 200)
