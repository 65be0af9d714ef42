"""The store's domain errors, and the API's one exception handler that maps every error to the error shape.

Services raise `DomainError` subclasses: plain Python exceptions with a stable `code`, an HTTP
`status`, a `detail` for people, and optional `attr` (the field it is about) and `meta`
(machine-readable details, so that a client never parses `detail`). They do not depend on DRF:
the admin, commands and tasks catch them as well. The handler below turns them into
`{"type", "errors": [{"code", "detail", "attr", "meta"?}]}`; everything else goes through
drf-standardized-errors, plus the faults it would call a 500.

A lost database connection is a passing fault, not a bug: the client gets a 503 with
`Retry-After` and the broken connection is closed, so the next request opens a fresh one.
A body above `DATA_UPLOAD_MAX_MEMORY_SIZE` is a 413, other refused requests (too many form
fields or files) a 400. Bodies never carry the exception's text, a trace or a setting.
"""

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError, connections
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the store said no. Subclasses set `code`, `status` and `default_detail`.

    `attr` names the request field the error is about (dotted path), or None. `meta` carries the
    machine-readable details of the error; it is omitted from the body when there is none.
    An error that reports several problems at once (one per short book) overrides `errors()`.
    """

    status: int = 400
    code: str = "invalid"
    default_detail: str = "The request cannot be carried out."
    type: str = "client_error"  # or "validation_error" for an error about a request field

    def __init__(self, detail: str | None = None, *, attr: str | None = None, meta: dict | None = None):
        self.detail = detail or self.default_detail
        self.attr = attr
        self.meta = meta
        super().__init__(self.detail)

    def errors(self) -> list[dict]:
        """The items of the response's `errors` list."""
        return [error_item(code=self.code, detail=self.detail, attr=self.attr, meta=self.meta)]


def error_item(*, code: str, detail: str, attr: str | None = None, meta: dict | None = None) -> dict:
    """One entry of the error shape's `errors` list."""
    item: dict[str, Any] = {"code": code, "detail": detail, "attr": attr}
    if meta is not None:
        item["meta"] = meta
    return item


class NotFoundError(DomainError):
    """404 `not_found`: no such object, or another user's (never revealed to exist)."""

    status = 404
    code = "not_found"
    default_detail = "Not found."


class ConflictError(DomainError):
    """409: the request conflicts with the current state of the object."""

    status = 409
    code = "conflict"
    default_detail = "The request conflicts with the current state."


class ServiceUnavailableError(APIException):
    """503 `service_unavailable`: the database did not answer; safe to retry after `Retry-After` seconds."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is briefly unavailable; try again shortly."
    default_code = "service_unavailable"
    wait = 5  # sent as Retry-After


class RequestTooLargeError(APIException):
    """413 `request_too_large`: the request body is above the size limit."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def _close_broken_connections() -> None:
    # Inside an atomic block the block's own exit rolls back, or closes a connection that cannot.
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def exception_handler(exc, context):
    # Imported here: DRF's views load the authentication classes and throttles, which use the errors above.
    from drf_standardized_errors.handler import exception_handler as standardized_exception_handler
    from rest_framework.response import Response
    from rest_framework.views import set_rollback

    if isinstance(exc, DomainError):
        set_rollback()
        return Response({"type": exc.type, "errors": exc.errors()}, status=exc.status)
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("database unavailable: %s", type(exc).__name__)
        _close_broken_connections()
        exc = ServiceUnavailableError()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLargeError()
    elif isinstance(exc, SuspiciousOperation):
        exc = ParseError("The request could not be read.", code="bad_request")
    return standardized_exception_handler(exc, context)
