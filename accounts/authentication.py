"""JWT authentication from the `Authorization: Bearer` header or the `access_token` cookie."""

import logging

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import CSRFCheck
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from accounts import access
from accounts.exceptions import TokenInvalidError

logger = logging.getLogger(__name__)


def enforce_csrf(request) -> None:
    """Django's CSRF check for requests whose credentials a browser sends by itself (cookies)."""

    def get_response(request):  # pragma: no cover - never called by the check
        return None

    check = CSRFCheck(get_response)
    check.process_request(request)
    reason = check.process_view(request, None, (), {})  # type: ignore[arg-type]  # as DRF's: no view is needed
    if reason:
        raise exceptions.PermissionDenied(f"CSRF check failed ({reason}): send the csrftoken cookie in X-CSRFToken.")


class JWTCookieAuthentication(JWTAuthentication):
    """simplejwt's access-token check, plus the cookie flow, the logout denylist and a cached user row.

    A token from the cookie makes unsafe requests pass Django's CSRF check; a token whose
    `jti` was revoked at logout is refused until it would have expired anyway; the user is
    checked as simplejwt does (exists, active), from the shared cache (`accounts.access`).
    """

    def authenticate(self, request):
        header = self.get_header(request)
        from_cookie = header is None
        if from_cookie:
            raw_token = request.COOKIES.get(settings.JWT_AUTH_COOKIE_ACCESS) or None
        else:
            raw_token = self.get_raw_token(header)
        if raw_token is None:
            return None

        try:
            validated_token = self.get_validated_token(raw_token)
        except InvalidToken:  # simplejwt's nested detail, flattened to one error
            raise TokenInvalidError("Token is invalid or expired.") from None
        user = access.token_user(validated_token)  # the logout denylist and the user's row, one cache round trip
        if from_cookie:
            enforce_csrf(request)
        return user, validated_token
