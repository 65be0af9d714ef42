"""The JWT classes of the API: simplejwt's, with every claim checked for its type and range.

A token signed with the real key can still carry claims that simplejwt takes on trust: a
`user_id` of `1.5` or `true` (which the ORM reads as user 1), `""` or a list (a 500), an `exp`
of `1e20` (an `OverflowError`). Here each claim must have the one form the API issues, or the
token is invalid (`TokenError`, a 401 `token_not_valid`):

- `user_id`: a positive integer below 2**63, as ASCII digits without a leading zero (what
  simplejwt issues) or as a JSON integer (never a boolean or a float);
- `exp` (required), `iat` and `nbf` (when present): JSON integers within the years 1970-9999;
- `jti`: a string of 1 to 255 letters, digits, `-` or `_` (the outstanding-token column's size).

Use these classes everywhere (settings' `AUTH_TOKEN_CLASSES` names the access token).
"""

import re
from typing import TYPE_CHECKING, Any, TypeGuard

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import tokens
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings

_DIGITS = re.compile(r"[1-9][0-9]{0,18}\Z", re.ASCII)
_JTI = re.compile(r"[A-Za-z0-9_-]{1,255}\Z", re.ASCII)
_MAX_ID = 2**63 - 1
_MAX_TIME = 253402300799  # 9999-12-31T23:59:59Z, the last second a datetime holds
_TIME_CLAIMS = ("exp", "iat", "nbf")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def claim_user_id(payload: dict) -> int:
    """The `user_id` claim as an int; `TokenError` when it is missing or not a plain positive integer."""
    value = payload.get(api_settings.USER_ID_CLAIM)
    if isinstance(value, str) and _DIGITS.match(value):
        value = int(value)
    if not _is_int(value) or not 0 < value <= _MAX_ID:
        raise TokenError(_("Token contained no recognizable user identification"))
    return value


def check_claims(payload: dict) -> None:
    """Raises `TokenError` unless every claim has the form the API issues (see the module's docstring)."""
    claim_user_id(payload)
    if "exp" not in payload:
        raise TokenError(_("Token has no 'exp' claim"))
    for claim in _TIME_CLAIMS:
        if claim in payload and not (_is_int(payload[claim]) and 0 <= payload[claim] <= _MAX_TIME):
            raise TokenError(_("Token is invalid"))
    jti = payload.get(api_settings.JTI_CLAIM)
    if not isinstance(jti, str) or not _JTI.match(jti):
        raise TokenError(_("Token has no id"))


if TYPE_CHECKING:
    _Token = tokens.Token  # what the mixin is mixed into
else:
    _Token = object


class StrictClaimsMixin(_Token):
    payload: dict[str, Any]

    def __init__(self, token=None, verify: bool = True) -> None:
        try:
            super().__init__(token, verify)
        except (OverflowError, ValueError, TypeError):  # PyJWT's own int() of an odd `exp`, `iat` or `nbf`
            raise TokenError(_("Token is invalid")) from None

    def verify(self) -> None:
        check_claims(self.payload)  # before simplejwt's checks, which read the claims as they are
        super().verify()


class AccessToken(StrictClaimsMixin, tokens.AccessToken):
    pass


# simplejwt's own RefreshToken has the same two `for_user` signatures (its BlacklistMixin's and Token's).
class RefreshToken(StrictClaimsMixin, tokens.RefreshToken):  # type: ignore[misc]
    access_token_class = AccessToken


class RefreshTokenAnyStatus(RefreshToken):
    """A refresh token checked for everything but the blacklist, which its caller checks under the user's lock."""

    def check_blacklist(self) -> None:
        pass
