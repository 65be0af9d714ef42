"""Account workflows: registration, tokens, passwords and email verification."""

import contextlib
import logging
from datetime import UTC, datetime
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import Token

from accounts import user_cache
from accounts.denylist import access_token_revoke
from accounts.exceptions import EmailTakenError, LinkTokenInvalidError, TokenInvalidError
from accounts.models import AccessTokenDenial, RefreshTokenLineage, User
from accounts.signals import account_closing
from accounts.tokens import AccessToken, RefreshToken, RefreshTokenAnyStatus, claim_user_id
from bookstore.mail import email_enqueue

logger = logging.getLogger(__name__)


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Single-use: the hash changes once the address is verified (or changed)."""

    key_salt = "accounts.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        return f"{user.pk}{user.email}{user.is_email_verified}{timestamp}"


email_verification_token_generator = EmailVerificationTokenGenerator()


# Links sent by email


def _link(*, path: str, user: User, token: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{settings.FRONTEND_URL}/{path}?uid={uid}&token={token}"


def _user_from_uid(uid: str, *, lock: bool = False) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError):
        return None
    return (_user_locked(pk) if lock else User.objects.filter(pk=pk).first()) if 0 < pk < 2**63 else None


def _user_locked(pk: int) -> User | None:
    """The user's row, locked: the first lock taken by every write to a user's tokens, links or password.

    FOR NO KEY UPDATE: the inserts of the user's token rows (which only take KEY SHARE on the
    user) do not wait on it, while two writers to one user's tokens queue in arrival order.
    Lock order: the user's row, then their token rows; nothing takes them the other way round.
    """
    return User.objects.select_for_update(no_key=True).filter(pk=pk).first()


def user_send_verification_email(*, user: User) -> None:
    link = _link(path="verify-email", user=user, token=email_verification_token_generator.make_token(user))
    email_enqueue(
        to=user.email,
        subject="Confirm your email address",
        body=f"Welcome to the Bookstore!\n\nPlease confirm your email address by opening this link:\n{link}\n",
    )


# Registration and verification


@transaction.atomic
def user_register(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User:
    """A new account; `EmailTakenError` when the mailbox has one, also when another registration of it wins a race."""
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, first_name=first_name, last_name=last_name)
    except IntegrityError:
        # The unique constraints on the address are the only ones an insert of a user can break.
        if User.objects.filter(email__iexact=User.objects.normalize_email(email)).exists():
            raise EmailTakenError() from None
        raise
    user_send_verification_email(user=user)
    return user


@transaction.atomic
def user_verify_email(*, uid: str, token: str) -> User:
    """Single-use under concurrency: the link is checked against the locked row, then consumed."""
    user = _user_from_uid(uid, lock=True)
    if user is None or not user.is_active or not email_verification_token_generator.check_token(user, token):
        raise LinkTokenInvalidError()
    user.is_email_verified = True
    user.save(update_fields=["is_email_verified"])
    return user


# Bulk changes


@transaction.atomic
def users_update(*, users: QuerySet[User], **fields: Any) -> int:
    """`users.update(**fields)` whose every changed user counts on their next request (`accounts.user_cache`).

    A bulk update sends no save signals: the rows are locked and updated by id, so every row
    updated is one whose cached row stops counting. Returns how many rows were updated.
    """
    pks = list(users.select_for_update().values_list("pk", flat=True))
    rows = User._base_manager.filter(pk__in=pks).update(**fields)
    user_cache.users_changed(pks)
    return rows


@transaction.atomic
def user_close(*, user: User) -> None:
    """Closes the account at once; every app erases what it holds of the user (`account_closing`), then the row.

    The row stays (orders and reviews point at it), closed and emptied: no name, an address at
    the reserved `.invalid` domain, no usable password, every refresh token revoked; inactive,
    so every access token it still holds is refused on its next request (`accounts.user_cache`).
    """
    user = User._base_manager.select_for_update().get(pk=user.pk)
    account_closing.send(sender=User, user=user)
    refresh_tokens_revoke_all(user=user)
    user.email = f"erased-{user.pk}@erased.invalid"
    user.first_name = user.last_name = ""
    user.is_active = False
    user.is_email_verified = False
    user.set_unusable_password()
    user.save()


# Passwords


def _password_store(*, user: User, hashed: str, raw: str) -> None:
    """Under the user's lock: the new hash, the password validators' hooks, every refresh token revoked."""
    user.password = hashed
    user.save(update_fields=["password"])
    password_validation.password_changed(raw, user)
    refresh_tokens_revoke_all(user=user)


@transaction.atomic
def user_change_password(*, user: User, new_password: str) -> None:
    """Sets the password and revokes every refresh token, under the user's lock (none can rotate meanwhile)."""
    hashed = make_password(new_password)  # slow by design: before the lock is taken
    locked = _user_locked(user.pk)
    if locked is None:
        raise TokenInvalidError("No active account for this token.")
    _password_store(user=locked, hashed=hashed, raw=new_password)


def password_reset_request(*, email: str) -> None:
    """Emails a reset link when an active account has this address; silent otherwise (no enumeration)."""
    user = User.objects.filter(email__iexact=User.objects.normalize_email(email), is_active=True).first()
    if user is None or not user.has_usable_password():
        logger.info("password reset requested for an address with no active account")
        return
    link = _link(path="reset-password", user=user, token=default_token_generator.make_token(user))
    email_enqueue(
        to=user.email,
        subject="Reset your password",
        body=(
            "Someone asked to reset the password of your Bookstore account.\n\n"
            f"To choose a new password, open this link:\n{link}\n\n"
            "If it was not you, ignore this email: your password stays as it is.\n"
        ),
    )


def password_reset_check(*, uid: str, token: str) -> User:
    user = _user_from_uid(uid)
    if user is None or not user.is_active or not default_token_generator.check_token(user, token):
        raise LinkTokenInvalidError()
    return user


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> None:
    """Sets the new password; the link dies with the old password hash it was made from.

    Single-use under concurrency: the link is checked again against the locked row, so of
    many requests carrying one link, the first sets the password and the rest find it used.
    """
    hashed = make_password(new_password)  # slow by design: before the lock is taken
    user = _user_from_uid(uid, lock=True)
    if user is None or not user.is_active or not default_token_generator.check_token(user, token):
        raise LinkTokenInvalidError()
    _password_store(user=user, hashed=hashed, raw=new_password)


# JWT
#
# Lock order: every write to a user's refresh tokens (rotation, logout, password change and
# reset) first locks the user's row (`_user_locked`), and only then reads and writes token
# rows. So they queue per user, each sees every token the ones before it issued, and none
# waits for a lock that a transaction waiting for its own holds (no deadlock).


def token_pair_for_user(*, user: User) -> RefreshToken:
    """A new refresh token (recorded as outstanding) and its access token."""
    return cast(RefreshToken, RefreshToken.for_user(user))  # simplejwt's types say its own class


def _refresh_token(raw_refresh: str) -> RefreshTokenAnyStatus:
    """Signature, claims, expiry and type; the blacklist is for the caller to check under the lock."""
    try:
        return RefreshTokenAnyStatus(raw_refresh)
    except TokenError as error:
        raise TokenInvalidError(str(error)) from None


def _family(record: OutstandingToken) -> str:
    return RefreshTokenLineage.objects.filter(token=record).values_list("family", flat=True).first() or record.jti


@transaction.atomic
def token_refresh(*, raw_refresh: str) -> tuple[RefreshToken, User]:
    """Rotates a refresh token: exactly one caller wins, however many send it at once.

    Under the user's lock the token must still be live; it is blacklisted and its successor
    joins its family, so a logout of any token of the family ends the successor too.
    """
    old = _refresh_token(raw_refresh)
    user = _user_locked(claim_user_id(old.payload))
    if user is None or not user.is_active:
        raise TokenInvalidError("No active account for this token.")
    record = OutstandingToken.objects.filter(jti=old[jwt_settings.JTI_CLAIM], user=user).order_by().first()
    if record is None or BlacklistedToken.objects.filter(token=record).exists():
        raise TokenInvalidError("Token is blacklisted.")
    BlacklistedToken.objects.create(token=record)
    new = token_pair_for_user(user=user)
    RefreshTokenLineage.objects.create(
        token=OutstandingToken.objects.get(jti=new[jwt_settings.JTI_CLAIM]), family=_family(record)
    )
    return new, user


@transaction.atomic
def refresh_token_family_revoke(*, raw_refresh: str, user: User | None = None) -> None:
    """Blacklists a refresh token and every token of its family: all those rotated from it are dead too.

    A token already rotated still names its family, so logging out with it ends its
    successors. With `user`, another user's token is refused.
    """
    token = _refresh_token(raw_refresh)
    owner = claim_user_id(token.payload)
    if user is not None and owner != user.pk:
        raise TokenInvalidError("This refresh token belongs to another account.")
    _user_locked(owner)
    record = OutstandingToken.objects.filter(jti=token[jwt_settings.JTI_CLAIM]).order_by().first()
    if record is None:  # signed by us but never recorded: blacklisting it is all there is to do
        token.blacklist()
        return
    family = _family(record)
    live = OutstandingToken.objects.filter(
        Q(jti=family) | Q(lineage__family=family), blacklistedtoken__isnull=True
    ).order_by()
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=t) for t in live], ignore_conflicts=True)


@transaction.atomic
def refresh_tokens_revoke_all(*, user: User) -> int:
    """Blacklists every live refresh token of the user (password change and reset), under the user's lock."""
    _user_locked(user.pk)
    now = datetime.now(tz=UTC)
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=now, blacklistedtoken__isnull=True).order_by()
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    return len(revoked)


@transaction.atomic
def access_token_deny(*, token: Token) -> None:
    """Ends an access token before it expires, durably: a row in the database, and the shared cache's fast path.

    Under the user's lock, the row joins the user's denials and the user's row records until
    when they have some; saving it drops the user's cached row, and the next request reads
    the denials with the row and caches them together (`accounts.denylist`, `accounts.user_cache`).
    """
    expires_at = datetime.fromtimestamp(token["exp"], tz=UTC)
    user = _user_locked(claim_user_id(token.payload))
    if user is None or expires_at <= datetime.now(tz=UTC):
        return
    AccessTokenDenial.objects.bulk_create(
        [AccessTokenDenial(jti=token[jwt_settings.JTI_CLAIM], user=user, expires_at=expires_at)],
        ignore_conflicts=True,
    )
    if user.access_denials_until is None or user.access_denials_until < expires_at:
        user.access_denials_until = expires_at
        user.save(update_fields=["access_denials_until"])
    access_token_revoke(token=token)


def access_denials_flush_expired() -> int:
    """Deletes the denials of access tokens that have expired anyway (`manage.py flushexpireddenials`)."""
    deleted, _ = AccessTokenDenial.objects.filter(expires_at__lte=datetime.now(tz=UTC)).delete()
    return deleted


@transaction.atomic
def user_logout(*, user: User, raw_refresh: str, access_token: Token | None) -> None:
    refresh_token_family_revoke(raw_refresh=raw_refresh, user=user)
    if access_token is not None:
        access_token_deny(token=access_token)


def cookie_logout(*, raw_refresh: str | None, raw_access: str | None) -> None:
    """Revokes whatever the browser's cookies still hold; expired or unknown ones need nothing."""
    if raw_refresh:
        with contextlib.suppress(TokenInvalidError):
            refresh_token_family_revoke(raw_refresh=raw_refresh)
    if raw_access:
        try:
            token = AccessToken(raw_access)
        except TokenError:
            return
        access_token_deny(token=token)
