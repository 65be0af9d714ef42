"""The API's one exception handler: every error in the error shape `{"type", "errors": [...]}`.

drf-standardized-errors' handler, through its `EXCEPTION_HANDLER_CLASS` setting; DRF's
`EXCEPTION_HANDLER` stays the package's own function, so its schema generation documents every
view's error responses. `DomainError`s (bookstore.exceptions) are answered with their own code,
status, attr and meta; everything else goes through the package, plus the faults it would call a 500.

A lost database connection is a passing fault, not a bug: the client gets a 503 with
`Retry-After` and the broken connection is closed, so the next request opens a fresh one.
A body above `DATA_UPLOAD_MAX_MEMORY_SIZE` is a 413, other refused requests (too many form
fields or files) a 400. Bodies never carry the exception's text, a trace or a setting.
"""

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError, connections
from drf_standardized_errors.handler import ExceptionHandler as StandardizedExceptionHandler
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import set_rollback

from bookstore.exceptions import DomainError, RequestTooLargeError, ServiceUnavailableError

logger = logging.getLogger(__name__)


class ExceptionHandler(StandardizedExceptionHandler):
    def run(self) -> Response | None:
        if isinstance(self.exc, DomainError):
            set_rollback()
            return Response({"type": self.exc.type, "errors": self.exc.errors()}, status=self.exc.status)
        # Converted before the package sees it: the 5xx it logs is the 503, never the driver's message.
        self.exc = _api_error_for_fault(self.exc)
        return super().run()


def _api_error_for_fault(exc: Exception) -> Exception:
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("database unavailable: %s", type(exc).__name__)
        _close_broken_connections()
        return ServiceUnavailableError()
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLargeError()
    if isinstance(exc, SuspiciousOperation):
        return ParseError("The request could not be read.", code="bad_request")
    return exc


def _close_broken_connections() -> None:
    # Inside an atomic block the block's own exit rolls back, or closes a connection that cannot.
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
