"""Account workflows: registration, tokens, passwords and email verification."""

import contextlib
import logging
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.db import IntegrityError, transaction
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import Token

from accounts.access import access_token_revoke
from accounts.exceptions import EmailTakenError, LinkTokenInvalidError, TokenInvalidError
from accounts.models import User
from accounts.tokens import AccessToken, RefreshToken, claim_user_id
from bookstore.mail import email_enqueue

logger = logging.getLogger(__name__)


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Single-use: the hash changes once the address is verified (or changed)."""

    key_salt = "accounts.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
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


# Passwords


@transaction.atomic
def user_change_password(*, user: User, new_password: str) -> None:
    """Sets the password and revokes every refresh token, under the user's lock (none can rotate meanwhile)."""
    locked = _user_locked(user.pk)
    if locked is None:
        raise TokenInvalidError("No active account for this token.")
    locked.set_password(new_password)
    locked.save(update_fields=["password"])
    refresh_tokens_revoke_all(user=locked)


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
    user = _user_from_uid(uid, lock=True)
    if user is None or not user.is_active or not default_token_generator.check_token(user, token):
        raise LinkTokenInvalidError()
    user_change_password(user=user, new_password=new_password)


# JWT


def token_pair_for_user(*, user: User) -> RefreshToken:
    """A new refresh token (recorded as outstanding) and its access token."""
    return RefreshToken.for_user(user)


@transaction.atomic
def token_refresh(*, raw_refresh: str) -> tuple[RefreshToken, User]:
    """Rotates a refresh token: exactly one caller wins, however many send it at once.

    The outstanding-token row is locked FOR UPDATE, so concurrent refreshes of one token
    queue on it and every one after the first sees it blacklisted.
    """
    try:
        old = RefreshToken(raw_refresh)  # signature, expiry, type, and the blacklist
    except TokenError as error:
        raise TokenInvalidError(str(error)) from None
    record = (
        OutstandingToken.objects.select_for_update(of=("self",))
        .order_by()
        .filter(jti=old[jwt_settings.JTI_CLAIM])
        .first()
    )
    if record is None or BlacklistedToken.objects.filter(token=record).exists():
        raise TokenInvalidError("Token is blacklisted.")
    user = User.objects.filter(pk=claim_user_id(old.payload), is_active=True).first()
    if user is None:
        raise TokenInvalidError("No active account for this token.")
    BlacklistedToken.objects.create(token=record)
    return token_pair_for_user(user=user), user


def refresh_token_revoke(*, raw_refresh: str, user: User) -> None:
    """Blacklists one of the user's refresh tokens; another user's token is refused."""
    try:
        token = RefreshToken(raw_refresh)
    except TokenError as error:
        raise TokenInvalidError(str(error)) from None
    if claim_user_id(token.payload) != user.pk:
        raise TokenInvalidError("This refresh token belongs to another account.")
    token.blacklist()


def refresh_tokens_revoke_all(*, user: User) -> int:
    """Blacklists every live refresh token of the user (password change and reset)."""
    now = datetime.now(tz=UTC)
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=now, blacklistedtoken__isnull=True)
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    return len(revoked)


def user_logout(*, user: User, raw_refresh: str, access_token: Token | None) -> None:
    refresh_token_revoke(raw_refresh=raw_refresh, user=user)
    if access_token is not None:
        access_token_revoke(token=access_token)


def cookie_logout(*, raw_refresh: str | None, raw_access: str | None) -> None:
    """Revokes whatever the browser's cookies still hold; expired or unknown ones need nothing."""
    if raw_refresh:
        with contextlib.suppress(TokenError):
            RefreshToken(raw_refresh).blacklist()
    if raw_access:
        with contextlib.suppress(TokenError):
            access_token_revoke(token=AccessToken(raw_access))
