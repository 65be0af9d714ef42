"""Users' rows in the shared cache, for the access-token check of every authenticated request.

Measured (`bench/auth_user_cache.py`, PostgreSQL and Redis on localhost, load average 0.15-0.5):
the cache saves one query and about 0.45 ms per authenticated request (GET auth/me 1.20 against
1.64 ms, GET cart 2.84 against 3.43 ms, medians of 7 runs of 500); `AUTH_USER_CACHE=0` turns it off.

Each entry counts only while the user's *version* is current. Any save or delete of the user
bumps the version, inside the transaction and again once it commits, so a deactivated, deleted
or demoted user is refused or demoted on the very next request, as if the row were read each
time. A reader takes the version before it reads the row, and its entry counts only while that
version is current; while a change is in flight the user is marked *pending* and nothing is
cached for them, so a read that raced a change is never served, even if the commit's bump is
lost. A bulk change of users' rows sends no save signals: it goes through
`accounts.services.users_update`, which calls `users_changed`.

The entries' keys carry a per-deploy prefix (`deploy_prefix`): a digest of the User model's
concrete fields, Django's version and the `RELEASE_ID` setting. A deploy that changes any of
them reads none of the entries the previous one pickled (the versions, plain integers, stay
shared, so a change made by either deploy counts for both).

The cached row leaves the password hash out (a deferred field: reading it goes to the database,
and saving the user never writes it back blank). When the cache does not answer, the row is read
from the database. If the writer alone cannot reach the cache (both bumps lost), a change goes
unseen until the entry expires: `USER_TIMEOUT`, a minute; that is logged as an error.
"""

import functools
import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import django
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from rest_framework.exceptions import AuthenticationFailed

from accounts.models import User
from bookstore.cache import CACHE_ERRORS, Counter, count_and_get, version_bump
from bookstore.compiled import PLACEHOLDERS, compiled

logger = logging.getLogger(__name__)

USER_TIMEOUT = 60  # bounds how long a change could go unseen if the writer alone cannot reach the cache
VERSION_TIMEOUT = 24 * 60 * 60  # an expired version is replaced by a new one: older entries stop counting
PENDING_TIMEOUT = 60  # longer than any transaction that changes a user

_VERSION_KEY = "auth:user-version:{pk}"
_USER_KEY = "auth:user:{prefix}:{pk}"
_PENDING_KEY = "auth:user-pending:{pk}"

# What is cached with the row: computed from it when it is read from the database (the denied jtis).
Extra = Any
Loader = Callable[[User], Extra]


@functools.cache
def deploy_prefix() -> str:
    """Changes with the User model's concrete fields, Django's version or `RELEASE_ID`: a deploy's own entries."""
    fields = ",".join(f"{field.attname}:{field.get_internal_type()}" for field in User._meta.concrete_fields)
    source = f"{User.__module__}.{User.__qualname__}|{fields}|{django.__version__}|{settings.RELEASE_ID}"
    return hashlib.blake2b(source.encode(), digest_size=6).hexdigest()


def user_key(pk) -> str:
    return _USER_KEY.format(prefix=deploy_prefix(), pk=pk)


def user_for_token(
    pk,
    *,
    load_extra: Loader,
    also_read: Iterable[str] = (),
    also_count: Sequence[Counter] = (),
    check: Callable[[dict, list[tuple[int, int]]], None] = lambda found, counts: None,
) -> tuple[User, Extra]:
    """The active user `pk` and what `load_extra` computed from their row; 401 when the user is gone or inactive.

    One round trip to the cache reads the entry and its version (started if there is none), the
    keys `also_read`, and counts the throttles' hits `also_count` (`bookstore.cache.count_and_get`);
    `check` sees what was read of `also_read` and the counts (and may refuse, by raising) before
    anything else is done. When the cache does not answer, nothing was counted and `check` is
    not called: the row is read from the database.
    """
    also_read = list(also_read)
    version_key, entry_key, pending_key = _VERSION_KEY.format(pk=pk), user_key(pk), _PENDING_KEY.format(pk=pk)
    cached = settings.AUTH_USER_CACHE
    keys = [*also_read, version_key, entry_key, pending_key] if cached else also_read
    try:
        counts, found = count_and_get(cache, also_count, keys, start={version_key: VERSION_TIMEOUT} if cached else {})
    except CACHE_ERRORS:
        logger.warning("auth cache unavailable; user read from the database", exc_info=True)
        return _active_user(pk, load_extra)
    check({key: found[key] for key in also_read if key in found}, counts)
    if not cached or found.get(pending_key):
        return _active_user(pk, load_extra)  # (pending: the user is being changed, cache nothing until it is done)
    version, stored = found.get(version_key), found.get(entry_key)
    if version is not None and stored is not None and stored[0] == version:
        return stored[1], stored[2]
    user, extra = _active_user(pk, load_extra)
    if version is not None:  # (None: the version was evicted in between; cache nothing)
        store(pk, version, user, extra)
    return user, extra


_USER = PLACEHOLDERS[0]


def _user_queryset():
    return User.objects.defer("password").filter(pk=_USER)


def _active_user(pk, load_extra: Loader) -> tuple[User, Extra]:
    # Compiled and prepared once per connection (bookstore.compiled): a cache miss's one query.
    found = compiled("accounts.user", _user_queryset, prepare=True).instances({_USER: pk})
    user = found[0] if found else None
    # simplejwt's own errors and codes for the same two cases.
    if user is None:
        raise AuthenticationFailed("User not found", code="user_not_found")
    if not user.is_active:
        raise AuthenticationFailed("User is inactive", code="user_inactive")
    return user, load_extra(user)


def store(pk, version: int, user: User, extra: Extra) -> None:
    try:
        cache.set(user_key(pk), (version, user, extra), USER_TIMEOUT)
    except Exception:
        logger.warning("auth cache unavailable; user not cached", exc_info=True)


def current_version(pk) -> int | None:
    return cache.get(_VERSION_KEY.format(pk=pk))


def users_changed(pks: Iterable) -> None:
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


def user_saved_or_deleted(sender, instance, created=False, **kwargs) -> None:
    """Signal receiver (post_save, post_delete of User): a new user has nothing cached yet."""
    if not created:
        users_changed([instance.pk])
