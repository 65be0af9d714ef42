"""The store's domain errors, and the API errors of its own that the exception handler answers.

Services raise `DomainError` subclasses: plain Python exceptions with a stable `code`, an HTTP
`status`, a `detail` for people, and optional `attr` (the field it is about) and `meta`
(machine-readable details, so that a client never parses `detail`). They do not depend on DRF:
the admin, commands and tasks catch them as well. `bookstore.exception_handler` turns them into
`{"type", "errors": [{"code", "detail", "attr", "meta"?}]}`.
"""

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException


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


class FieldError(DomainError):
    """400 `validation_error` about one request field: a subclass names the field in `attr`, or the raise does."""

    type = "validation_error"
    attr: str | None = None

    def __init__(self, detail: str | None = None, *, attr: str | None = None, meta: dict | None = None):
        super().__init__(detail, attr=attr or self.attr, meta=meta)


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
