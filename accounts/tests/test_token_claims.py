"""Tokens signed with the real key but carrying odd claims: every one is a 401 `token_not_valid`, never a 500."""

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

pytestmark = pytest.mark.django_db

ME_URL = "/api/v1/auth/me"
REFRESH_URL = "/api/v1/auth/token/refresh"
LOGOUT_URL = "/api/v1/auth/logout"
COOKIE_REFRESH_URL = "/api/v1/auth/cookie/refresh"
COOKIE_LOGOUT_URL = "/api/v1/auth/cookie/logout"

ODD_CLAIMS = [
    ("user_id", ""),
    ("user_id", "NaN"),
    ("user_id", "1.5"),
    ("user_id", "-1"),
    ("user_id", "0"),
    ("user_id", " 1"),
    ("user_id", "１"),  # fullwidth digit: int() takes it
    ("user_id", "٣"),  # Arabic-Indic digit
    ("user_id", "99999999999999999999"),
    ("user_id", 2**64),
    ("user_id", []),
    ("user_id", ["1"]),
    ("user_id", {"id": 1}),
    ("user_id", None),
    ("user_id", True),
    ("user_id", 1.0),
    ("exp", 1e20),
    ("exp", float("inf")),
    ("exp", float("nan")),
    ("exp", 2**70),
    ("exp", "tomorrow"),
    ("exp", True),
    ("exp", None),
    ("iat", float("inf")),
    ("iat", 1e20),
    ("iat", "now"),
    ("nbf", float("inf")),
    ("nbf", -1e20),
    ("jti", []),
    ("jti", 12345),
    ("jti", ""),
    ("jti", None),
    ("jti", "x" * 300),
    ("jti", {"a": "b"}),
]


def signed(token, claim, value) -> str:
    """The token with one claim replaced, signed with the project's own key."""
    payload = {**token.payload, claim: value}
    return jwt.encode(payload, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")


def assert_token_not_valid(response):
    assert response.status_code == 401, response.content
    assert [e["code"] for e in response.json()["errors"]] == ["token_not_valid"]


@pytest.mark.parametrize(("claim", "value"), ODD_CLAIMS)
def test_an_access_token_with_an_odd_claim_is_refused_in_the_header(api_client, user, claim, value):
    raw = signed(AccessToken.for_user(user), claim, value)

    assert_token_not_valid(api_client.get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {raw}"))


@pytest.mark.parametrize(("claim", "value"), ODD_CLAIMS)
def test_an_access_token_with_an_odd_claim_is_refused_in_the_cookie(user, claim, value):
    browser = APIClient()
    browser.cookies[settings.JWT_AUTH_COOKIE_ACCESS] = signed(AccessToken.for_user(user), claim, value)

    assert_token_not_valid(browser.get(ME_URL))


@pytest.mark.parametrize(("claim", "value"), ODD_CLAIMS)
def test_a_refresh_token_with_an_odd_claim_is_refused_by_refresh(api_client, user, claim, value):
    raw = signed(RefreshToken.for_user(user), claim, value)

    assert_token_not_valid(api_client.post(REFRESH_URL, {"refresh": raw}))


@pytest.mark.parametrize(("claim", "value"), ODD_CLAIMS)
def test_a_refresh_token_with_an_odd_claim_is_refused_by_logout(api_client, user, claim, value):
    refresh = RefreshToken.for_user(user)
    raw = signed(refresh, claim, value)

    response = api_client.post(LOGOUT_URL, {"refresh": raw}, HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")

    assert_token_not_valid(response)
    assert api_client.post(REFRESH_URL, {"refresh": str(refresh)}).status_code == 200  # nothing was revoked


@pytest.mark.parametrize(("claim", "value"), ODD_CLAIMS)
def test_a_refresh_cookie_with_an_odd_claim_is_refused_by_the_cookie_refresh(user, claim, value):
    browser = APIClient()
    browser.cookies[settings.JWT_AUTH_COOKIE_REFRESH] = signed(RefreshToken.for_user(user), claim, value)

    assert_token_not_valid(browser.post(COOKIE_REFRESH_URL))


@pytest.mark.parametrize(("claim", "value"), ODD_CLAIMS)
def test_cookies_with_odd_claims_are_simply_cleared_by_the_cookie_logout(user, claim, value):
    browser = APIClient()
    browser.cookies[settings.JWT_AUTH_COOKIE_REFRESH] = signed(RefreshToken.for_user(user), claim, value)
    browser.cookies[settings.JWT_AUTH_COOKIE_ACCESS] = signed(AccessToken.for_user(user), claim, value)

    response = browser.post(COOKIE_LOGOUT_URL)

    assert response.status_code == 204
    assert response.cookies[settings.JWT_AUTH_COOKIE_ACCESS].value == ""


def test_a_well_formed_integer_user_id_still_works(api_client, user):
    """Tokens carry the id as a string; an integer id (older tokens) is the same user."""
    raw = signed(AccessToken.for_user(user), "user_id", user.pk)

    response = api_client.get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 200
    assert response.json()["id"] == user.pk
