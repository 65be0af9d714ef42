"""The API's exception handler: drf-standardized-errors, plus the faults it would call a 500.

A lost database connection is a passing fault, not a bug: the client gets a 503 with
`Retry-After` and the broken connection is closed, so the next request opens a fresh one.
A body above `DATA_UPLOAD_MAX_MEMORY_SIZE` is a 413, other refused requests (too many form
fields or files) a 400. Bodies never carry the exception's text, a trace or a setting.
"""

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError, connections
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError

logger = logging.getLogger(__name__)


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
    # Imported here: the handler imports DRF's views, which load the throttles, which use the errors above.
    from drf_standardized_errors.handler import exception_handler as standardized_exception_handler

    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("database unavailable: %s", type(exc).__name__)
        _close_broken_connections()
        exc = ServiceUnavailableError()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLargeError()
    elif isinstance(exc, SuspiciousOperation):
        exc = ParseError("The request could not be read.", code="bad_request")
    return standardized_exception_handler(exc, context)
