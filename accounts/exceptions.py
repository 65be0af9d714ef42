"""Errors of the accounts domain, each with a stable code for clients."""

from rest_framework import exceptions, status


class TokenInvalidError(exceptions.AuthenticationFailed):
    default_detail = "Token is invalid, expired or already used."
    default_code = "token_not_valid"


class LinkTokenInvalidError(exceptions.ValidationError):
    """A reset or verification link that is wrong, expired or already used."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_token"

    def __init__(self):
        super().__init__({"token": ["This link is invalid, expired or already used."]}, code="invalid_token")


class EmailTakenError(exceptions.ValidationError):
    """400 `unique` on `email`: another account has this mailbox (the check that lost a race says the same)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "unique"
    message = "An account with this email address already exists."

    def __init__(self):
        super().__init__({"email": [self.message]}, code="unique")
