"""Project-wide middleware: request ids, slash-tolerant API paths, and the request line's edges."""

import re
import uuid

from django.http import HttpResponse, JsonResponse
from rest_framework.views import APIView

from bookstore.logging import request_id_var

# The longest path plus query string the app serves. gunicorn refuses a request line above its
# `limit_request_line` (4094 bytes by default) with an HTML 400/414 before the app sees it; below
# that the app answers itself, in the error shape. Keep it under the WSGI server's own limit.
MAX_URL_LENGTH = 4000

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


def _error(status: int, code: str, detail: str, *, attr: str | None = None, error_type: str = "client_error"):
    body = {"type": error_type, "errors": [{"code": code, "detail": detail, "attr": attr}]}
    return JsonResponse(body, status=status)


def _allowed_methods(view_func) -> list[str]:
    """The HTTP methods a DRF view function serves, as its dispatch would find them."""
    cls = view_func.cls
    names = view_func.initkwargs.get("http_method_names", cls.http_method_names)
    actions = getattr(view_func, "actions", None)  # a ViewSet route: only the methods it maps
    served = set(actions) if actions is not None else {name for name in names if hasattr(cls, name)}
    if "get" in served:
        served.add("head")
    if hasattr(cls, "options"):
        served.add("options")
    return [name.upper() for name in names if name in served]


class RequestLineMiddleware:
    """The edges of a request's first line, answered before any view, authentication or throttle.

    - A path and query string above `MAX_URL_LENGTH` is 414 `uri_too_long`.
    - A method the route does not serve is 405 `method_not_allowed` for everyone (with `Allow`):
      a client learns the route's methods without a token.
    - A query parameter given twice is 400 `multiple_values`: every query parameter of the API
      takes one value (lists are one comma-separated value), and a repeated one would otherwise
      be read as its last value in silence.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if len(request.get_full_path()) > MAX_URL_LENGTH:
            if request.path.startswith(ApiTrailingSlashMiddleware.prefixes):
                return _error(414, "uri_too_long", f"The URL is longer than {MAX_URL_LENGTH} characters.")
            return HttpResponse("URI too long.", status=414, content_type="text/plain")
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not isinstance(getattr(view_func, "cls", None), type) or not issubclass(view_func.cls, APIView):
            return None
        allowed = _allowed_methods(view_func)
        if request.method not in allowed:
            response = _error(405, "method_not_allowed", f'Method "{request.method}" not allowed.')
            response["Allow"] = ", ".join(allowed)
            return response
        for name, values in request.GET.lists():
            if len(values) > 1:
                return _error(
                    400,
                    "multiple_values",
                    "Give this query parameter once (a list is one comma-separated value).",
                    attr=name,
                    error_type="validation_error",
                )
        return None
