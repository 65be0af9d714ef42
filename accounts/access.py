"""Who an access token speaks for: checked on every authenticated request.

Two checks, made together in one round trip to the shared cache:

- the logout denylist: a logged-out access token's `jti`, kept until the token would expire;
- the user's row, cached with the user's *version*. Any save or delete of the user bumps the
  version, inside the transaction and again once it commits, so a deactivated, deleted or
  demoted user is refused or demoted on the very next request, as if the row were read each
  time. A reader takes the version before it reads the row, and its entry counts only while
  that version is current: a read that raced a change is never served.

The cached row leaves the password hash out (a deferred field: reading it goes to the
database, and saving the user never writes it back blank). When the cache does not answer,
the row is read from the database and the denylist is skipped (an access token lives 15
minutes at most). Entries expire after `USER_TIMEOUT`, which bounds how long a user change
could go unseen should both bumps be lost (the cache unreachable from the writer alone).
"""

import logging
import time
from datetime import UTC, datetime

from django.core.cache import cache
from django.db import transaction
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token

from accounts.exceptions import TokenInvalidError
from accounts.models import User

logger = logging.getLogger(__name__)

USER_TIMEOUT = 5 * 60
VERSION_TIMEOUT = 24 * 60 * 60  # an expired version is replaced by a new one: older entries stop counting

_REVOKED_KEY = "auth:revoked-access:{jti}"
_VERSION_KEY = "auth:user-version:{pk}"
_USER_KEY = "auth:user:{pk}"


def access_token_revoke(*, token: Token) -> None:
    """Denies an access token's `jti` in the shared cache until the token would expire."""
    remaining = int(token["exp"] - datetime.now(tz=UTC).timestamp())
    if remaining > 0:
        cache.set(_REVOKED_KEY.format(jti=token[jwt_settings.JTI_CLAIM]), True, timeout=remaining + 1)


def token_user(token: Token) -> User:
    """The active user a validated access token speaks for; 401 when revoked, deleted or deactivated."""
    try:
        pk, jti = token[jwt_settings.USER_ID_CLAIM], token[jwt_settings.JTI_CLAIM]
    except KeyError:
        raise TokenInvalidError("Token contained no recognizable user identification.") from None
    revoked_key, version_key, user_key = (
        _REVOKED_KEY.format(jti=jti),
        _VERSION_KEY.format(pk=pk),
        _USER_KEY.format(pk=pk),
    )
    try:
        found = cache.get_many([revoked_key, version_key, user_key])
    except Exception:
        logger.warning("auth cache unavailable; token denylist skipped, user read from the database", exc_info=True)
        return _active_user(pk)
    if found.get(revoked_key):
        raise TokenInvalidError("Token has been revoked.")
    version, stored = found.get(version_key), found.get(user_key)
    if version is not None and stored is not None and stored[0] == version:
        return stored[1]
    if version is None:  # first read since the version expired: start one before reading the row
        version = _start_version(version_key)
    user = _active_user(pk)
    if version is not None:
        _store(user_key, version, user)
    return user


def _start_version(key: str) -> int | None:
    try:
        cache.add(key, time.time_ns(), VERSION_TIMEOUT)
        return cache.get(key)  # ours, or the one a writer or another reader set first
    except Exception:
        logger.warning("auth cache unavailable; user read from the database", exc_info=True)
        return None


def _store(key: str, version: int, user: User) -> None:
    try:
        cache.set(key, (version, user), USER_TIMEOUT)
    except Exception:
        logger.warning("auth cache unavailable; user not cached", exc_info=True)


def _active_user(pk) -> User:
    # simplejwt's own errors and codes for the same two cases.
    user = User.objects.defer("password").filter(pk=pk).first()
    if user is None:
        raise AuthenticationFailed("User not found", code="user_not_found")
    if not user.is_active:
        raise AuthenticationFailed("User is inactive", code="user_inactive")
    return user


def users_changed(pks) -> None:
    """Call with any write to users' rows: their cached rows stop counting now and at commit."""
    pks = list(pks)
    _bump(pks)
    transaction.on_commit(lambda: _bump(pks))


def _bump(pks) -> None:
    for pk in pks:
        key = _VERSION_KEY.format(pk=pk)
        try:
            try:
                cache.incr(key)
            except ValueError:  # no version (never read, or expired): no entry can match a new one
                cache.set(key, time.time_ns(), VERSION_TIMEOUT)
        except Exception:
            logger.warning("auth cache unavailable; user %s changed without a version bump", pk, exc_info=True)


def user_saved_or_deleted(sender, instance, **kwargs) -> None:
    """Signal receiver (post_save, post_delete of User)."""
    users_changed([instance.pk])
