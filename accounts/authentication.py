"""JWT authentication from the `Authorization: Bearer` header or the `access_token` cookie."""

import logging

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import CSRFCheck
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token

from accounts import denylist, user_cache
from accounts.exceptions import TokenInvalidError
from accounts.models import User
from accounts.tokens import claim_user_id
from bookstore import throttling

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


def token_user(token: Token, request=None) -> User:
    """The active user a validated access token speaks for; 401 when revoked, deleted or deactivated.

    One round trip to the shared cache reads the denylist's key for the token and the user's
    cached row (with their denied `jti`s, read from the database with the row), and counts the
    hits of `request`'s throttles for that user (`bookstore.throttling.counters_ahead`).
    """
    try:
        pk, jti = claim_user_id(token.payload), token[jwt_settings.JTI_CLAIM]
    except (KeyError, TokenError):
        raise TokenInvalidError("Token contained no recognizable user identification.") from None
    revoked = denylist.revoked_key(jti)
    ahead = throttling.counters_ahead(request, pk) if request is not None else []

    def check(found: dict, counts: list) -> None:
        if ahead:
            throttling.counted_ahead(request, ahead, counts)
        if found.get(revoked):
            raise TokenInvalidError("Token has been revoked.")

    user, denied = user_cache.user_for_token(
        pk,
        load_extra=denylist.denied_jtis,
        also_read=[revoked],
        also_count=[counter for _, counter, _ in ahead],
        check=check,
    )
    denylist.refuse_denied(jti, denied)
    return user


class JWTCookieAuthentication(JWTAuthentication):
    """simplejwt's access-token check, plus the cookie flow, the logout denylist and a cached user row.

    A token from the cookie makes unsafe requests pass Django's CSRF check; a token whose
    `jti` was revoked at logout is refused until it would have expired anyway; the user is
    checked as simplejwt does (exists, active), from the shared cache (`accounts.user_cache`).
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
        user = token_user(validated_token, request)
        if from_cookie:
            enforce_csrf(request)
        return user, validated_token
