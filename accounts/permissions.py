"""Who may call the cookie flow: only pages from the store's own origins."""

from urllib.parse import urlsplit

from django.conf import settings
from django.utils.http import is_same_domain
from rest_framework.permissions import BasePermission


def origin_allowed(request) -> bool:
    """True without an `Origin` header, or when it is this host, a CORS-allowed or a CSRF-trusted origin."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        return True
    if origin == f"{request.scheme}://{request.get_host()}":
        return True
    exact = {o for o in [*settings.CORS_ALLOWED_ORIGINS, *settings.CSRF_TRUSTED_ORIGINS] if "*" not in o}
    if origin in exact:
        return True
    parsed = urlsplit(origin)
    return any(  # CSRF_TRUSTED_ORIGINS may name subdomains, as in `https://*.example.com`
        parsed.scheme == urlsplit(trusted).scheme and is_same_domain(parsed.netloc, urlsplit(trusted).netloc[1:])
        for trusted in settings.CSRF_TRUSTED_ORIGINS
        if "://*." in trusted
    )


class IsFromAllowedOrigin(BasePermission):
    """Refuses (403) a request whose `Origin` is another site's: a cross-site form must not log anyone in or out."""

    message = "This request comes from an origin that is not allowed."

    def has_permission(self, request, view) -> bool:
        return origin_allowed(request)
