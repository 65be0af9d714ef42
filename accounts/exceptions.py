"""Errors of the accounts domain, each with a stable code for clients."""

from rest_framework import exceptions

from bookstore.exceptions import FieldError


class TokenInvalidError(exceptions.AuthenticationFailed):
    default_detail = "Token is invalid, expired or already used."
    default_code = "token_not_valid"


class LinkTokenInvalidError(FieldError):
    """400 on `token`: a reset or verification link that is wrong, expired or already used."""

    attr = "token"
    code = "invalid_token"
    default_detail = "This link is invalid, expired or already used."


class EmailTakenError(FieldError):
    """400 `unique` on `email`: another account has this mailbox (the check that lost a race says the same)."""

    attr = "email"
    code = "unique"
    default_detail = "An account with this email address already exists."
    message = default_detail
