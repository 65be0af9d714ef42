"""The logout denylist: access tokens ended before they expire.

A logout denies its access token twice: a row (`AccessTokenDenial`, kept until the token would
have expired, `flushexpireddenials`) and a key in the shared cache (the fast path, read in the
same round trip as the user's cached row, `accounts.authentication`). The row is what a cache
restart cannot lose: the user's row says until when the user has denials
(`access_denials_until`), and whenever the user's row is read from the database while that
moment lies ahead, the user's denied `jti`s are read with it (`denied_jtis`) and cached with
the row (`accounts.user_cache`). So a user who logged no session out in the last 15 minutes
costs no query here.
"""

from datetime import UTC, datetime

from django.core.cache import cache
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token

from accounts.exceptions import TokenInvalidError
from accounts.models import AccessTokenDenial, User

_REVOKED_KEY = "auth:revoked-access:{jti}"


def revoked_key(jti: str) -> str:
    """The shared cache's key that says the access token `jti` is denied."""
    return _REVOKED_KEY.format(jti=jti)


def access_token_revoke(*, token: Token) -> None:
    """Denies an access token's `jti` in the shared cache until the token would expire (the fast path)."""
    remaining = int(token["exp"] - datetime.now(tz=UTC).timestamp())
    if remaining > 0:
        cache.set(revoked_key(token[jwt_settings.JTI_CLAIM]), True, timeout=remaining + 1)


def denied_jtis(user: User) -> frozenset[str]:
    """The `jti`s of the user's denied access tokens; no query unless the user's row says there are some."""
    now = timezone.now()
    if user.access_denials_until is None or user.access_denials_until <= now:
        return frozenset()
    return frozenset(
        AccessTokenDenial.objects.filter(user_id=user.pk, expires_at__gt=now).values_list("jti", flat=True)
    )


def refuse_denied(jti: str, denied: frozenset[str]) -> None:
    if jti in denied:
        raise TokenInvalidError("Token has been revoked.")
