"""JSON error pages in the contract's shape for requests that never reach a DRF view."""

from django.http import JsonResponse
from django.views import defaults


def _error(code: str, detail: str, status: int, error_type: str = "client_error") -> JsonResponse:
    return JsonResponse({"type": error_type, "errors": [{"code": code, "detail": detail, "attr": None}]}, status=status)


def _is_api(request) -> bool:
    return request.path.startswith(("/api/", "/health/"))


def bad_request(request, exception=None):
    if _is_api(request):
        return _error("bad_request", "Bad request.", 400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _is_api(request):
        return _error("permission_denied", "You do not have permission to perform this action.", 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if _is_api(request):
        return _error("not_found", "Not found.", 404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return _error("error", "Server Error (500)", 500, error_type="server_error")
    return defaults.server_error(request)
