"""Project-wide middleware: request ids and slash-tolerant API paths."""

import re
import uuid

from bookstore.logging import request_id_var

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Gives every request an id (the caller's `X-Request-ID` when sane), for logs and the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Not reset on the way out: Django logs 4xx/5xx responses after the middleware returns.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class ApiTrailingSlashMiddleware:
    """Serves `/api/v1/books/` as `/api/v1/books`: trailing slashes are optional, never a redirect."""

    prefixes = ("/api/", "/health/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if len(path) > 1 and path.endswith("/") and path.startswith(self.prefixes):
            stripped = path.rstrip("/")
            if stripped.count("/") > 1:  # keep "/api/" itself alone
                request.path_info = stripped
        return self.get_response(request)
