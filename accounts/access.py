"""Who an access token speaks for: checked on every authenticated request.

Two checks, made together in one round trip to the shared cache:

- the logout denylist: a logged-out access token's `jti`, kept until the token would expire
  (the fast path; the durable copy is below);
- the user's row, cached with the user's *version*. Any save or delete of the user bumps the
  version, inside the transaction and again once it commits, so a deactivated, deleted or
  demoted user is refused or demoted on the very next request, as if the row were read each
  time. A reader takes the version before it reads the row, and its entry counts only while
  that version is current; while a change is in flight the user is marked *pending* and
  nothing is cached for them, so a read that raced a change is never served, even if the
  commit's bump is lost.

Logout is durable: each denied token is also a row (`AccessTokenDenial`), and the user's row
says until when the user has any (`access_denials_until`, set by the logout, which saves the
row and so bumps the version). Whenever the row is read from the database and that moment
lies ahead, the user's denied `jti`s are read with it and cached in the same entry; so a
cache restart or eviction loses no denial, and a request costs no extra query: one more, on
a row read only, for a user who logged a session out in the last 15 minutes.

The cached row leaves the password hash out (a deferred field: reading it goes to the
database, and saving the user never writes it back blank). When the cache does not answer,
the row and the denials are read from the database. If the writer alone cannot reach the
cache (both bumps lost), a change goes unseen until the entry expires: `USER_TIMEOUT`, a
minute; that is logged as an error.
"""

import logging
from datetime import UTC, datetime

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token

from accounts.exceptions import TokenInvalidError
from accounts.models import AccessTokenDenial, User
from accounts.tokens import claim_user_id
from bookstore.cache import CACHE_ERRORS, version_bump, version_start

logger = logging.getLogger(__name__)

USER_TIMEOUT = 60  # bounds how long a change could go unseen if the writer alone cannot reach the cache
VERSION_TIMEOUT = 24 * 60 * 60  # an expired version is replaced by a new one: older entries stop counting
PENDING_TIMEOUT = 60  # longer than any transaction that changes a user

_REVOKED_KEY = "auth:revoked-access:{jti}"
_VERSION_KEY = "auth:user-version:{pk}"
_USER_KEY = "auth:user:{pk}"
_PENDING_KEY = "auth:user-pending:{pk}"


def access_token_revoke(*, token: Token) -> None:
    """Denies an access token's `jti` in the shared cache until the token would expire."""
    remaining = int(token["exp"] - datetime.now(tz=UTC).timestamp())
    if remaining > 0:
        cache.set(_REVOKED_KEY.format(jti=token[jwt_settings.JTI_CLAIM]), True, timeout=remaining + 1)


def token_user(token: Token) -> User:
    """The active user a validated access token speaks for; 401 when revoked, deleted or deactivated."""
    try:
        pk, jti = claim_user_id(token.payload), token[jwt_settings.JTI_CLAIM]
    except (KeyError, TokenError):
        raise TokenInvalidError("Token contained no recognizable user identification.") from None
    revoked_key, version_key, user_key, pending_key = (
        _REVOKED_KEY.format(jti=jti),
        _VERSION_KEY.format(pk=pk),
        _USER_KEY.format(pk=pk),
        _PENDING_KEY.format(pk=pk),
    )
    keys = [revoked_key, version_key, user_key, pending_key]
    try:
        try:
            found = cache.get_many(keys)
        except CACHE_ERRORS:
            raise
        except Exception:  # an entry that no longer unpickles (a deploy moved a class): drop it, read again
            logger.warning("unreadable cached user %s dropped", pk, exc_info=True)
            cache.delete(user_key)
            found = cache.get_many(keys)
    except CACHE_ERRORS:
        logger.warning("auth cache unavailable; user and denied tokens read from the database", exc_info=True)
        return _allowed(jti, *_active_user(pk))
    if found.get(revoked_key):
        raise TokenInvalidError("Token has been revoked.")
    version, stored = found.get(version_key), found.get(user_key)
    if found.get(pending_key):  # the user is being changed: read the row, cache nothing until the change is done
        return _allowed(jti, *_active_user(pk))
    if version is not None and isinstance(stored, tuple) and len(stored) == 3 and stored[0] == version:
        return _allowed(jti, stored[1], stored[2])  # (an entry of another shape, from before a deploy, is a miss)
    if version is None:  # first read since the version expired: start one before reading the row
        version = _start_version(version_key)
    user, denied = _active_user(pk)
    if version is not None:
        _store(user_key, version, user, denied)
    return _allowed(jti, user, denied)


def _allowed(jti: str, user: User, denied: frozenset[str]) -> User:
    if jti in denied:
        raise TokenInvalidError("Token has been revoked.")
    return user


def _start_version(key: str) -> int | None:
    try:
        return version_start(cache, key, VERSION_TIMEOUT)
    except Exception:
        logger.warning("auth cache unavailable; user read from the database", exc_info=True)
        return None


def _store(key: str, version: int, user: User, denied: frozenset[str] = frozenset()) -> None:
    try:
        cache.set(key, (version, user, denied), USER_TIMEOUT)
    except Exception:
        logger.warning("auth cache unavailable; user not cached", exc_info=True)


def _active_user(pk) -> tuple[User, frozenset[str]]:
    """The user's row and the `jti`s of their denied access tokens (read only when the row says there are some)."""
    # simplejwt's own errors and codes for the same two cases.
    user = User.objects.defer("password").filter(pk=pk).first()
    if user is None:
        raise AuthenticationFailed("User not found", code="user_not_found")
    if not user.is_active:
        raise AuthenticationFailed("User is inactive", code="user_inactive")
    now = timezone.now()
    if user.access_denials_until is None or user.access_denials_until <= now:
        return user, frozenset()
    denied = AccessTokenDenial.objects.filter(user_id=pk, expires_at__gt=now).values_list("jti", flat=True)
    return user, frozenset(denied)


def users_changed(pks) -> None:
    """Call with any write to users' rows: their cached rows stop counting now and at commit.

    Inside the transaction each user is marked *pending* (readers then cache nothing for
    them) and their version is bumped; at commit the version is bumped again and the mark
    removed. Should the commit step be lost, the mark expires and caching resumes from a row
    read after the commit.
    """
    pks = list(pks)
    _bump(pks, pending=True)
    transaction.on_commit(lambda: _bump(pks, pending=False))


def _bump(pks, *, pending: bool) -> None:
    for pk in pks:
        key = _VERSION_KEY.format(pk=pk)
        try:
            if pending:  # marked before the bump: a reader that sees the new version sees the mark too
                cache.set(_PENDING_KEY.format(pk=pk), True, PENDING_TIMEOUT)
            version_bump(cache, key, VERSION_TIMEOUT)
            if not pending:
                cache.delete(_PENDING_KEY.format(pk=pk))
        except Exception:
            logger.error("auth cache unavailable; user %s changed without a version bump", pk, exc_info=True)


def user_saved_or_deleted(sender, instance, **kwargs) -> None:
    """Signal receiver (post_save, post_delete of User)."""
    users_changed([instance.pk])
