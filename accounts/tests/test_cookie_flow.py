"""The browser flow: tokens only in HttpOnly cookies, CSRF on unsafe cookie-authenticated requests."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LOGIN_URL = "/api/v1/auth/cookie/login"
REFRESH_URL = "/api/v1/auth/cookie/refresh"
LOGOUT_URL = "/api/v1/auth/cookie/logout"
ME_URL = "/api/v1/auth/me"
TOKEN_REFRESH_URL = "/api/v1/auth/token/refresh"


@pytest.fixture
def browser():
    """A client that runs Django's CSRF checks, as a browser's requests meet them."""
    return APIClient(enforce_csrf_checks=True)


def cookie_login(browser, user, password):
    return browser.post(LOGIN_URL, {"email": user.email, "password": password})


def test_cookie_login_sets_httponly_cookies_and_no_tokens_in_the_body(browser, user, password):
    response = cookie_login(browser, user, password)

    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert "access" not in response.json() and "refresh" not in response.json()
    for name in ("access_token", "refresh_token"):
        cookie = response.cookies[name]
        assert cookie.value
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert bool(cookie["secure"]) is settings.JWT_AUTH_COOKIE_SECURE
    assert response.cookies["refresh_token"]["path"] == "/api/v1/auth/cookie/"
    assert response.cookies["csrftoken"].value
    assert not response.cookies["csrftoken"]["httponly"]


def test_cookies_are_secure_outside_debug():
    assert settings.DEBUG is False
    assert settings.JWT_AUTH_COOKIE_SECURE is True


def test_cookie_login_refuses_wrong_credentials(browser, user):
    response = browser.post(LOGIN_URL, {"email": user.email, "password": "wrong"})

    assert response.status_code == 401
    assert "access_token" not in response.cookies


def test_the_access_cookie_authenticates_safe_requests(browser, user, password):
    cookie_login(browser, user, password)

    response = browser.get(ME_URL)

    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_unsafe_cookie_request_without_csrf_token_is_403(browser, user, password):
    cookie_login(browser, user, password)

    response = browser.patch(ME_URL, {"first_name": "Mallory"})

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"
    user.refresh_from_db()
    assert user.first_name != "Mallory"


def test_unsafe_cookie_request_with_csrf_token_passes(browser, user, password):
    login = cookie_login(browser, user, password)

    response = browser.patch(ME_URL, {"first_name": "Alice"}, HTTP_X_CSRFTOKEN=login.cookies["csrftoken"].value)

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.first_name == "Alice"


def test_bearer_requests_need_no_csrf_token(user_client):
    user_client.handler.enforce_csrf_checks = True

    assert user_client.patch(ME_URL, {"first_name": "Bob"}).status_code == 200


def test_cookie_refresh_rotates_the_refresh_cookie(browser, user, password):
    login = cookie_login(browser, user, password)
    old_refresh = login.cookies["refresh_token"].value
    csrf = login.cookies["csrftoken"].value

    response = browser.post(REFRESH_URL, HTTP_X_CSRFTOKEN=csrf)

    assert response.status_code == 200
    assert "access" not in response.json()
    assert response.cookies["refresh_token"].value != old_refresh
    assert APIClient().post(TOKEN_REFRESH_URL, {"refresh": old_refresh}).status_code == 401
    assert browser.get(ME_URL).status_code == 200


def test_cookie_refresh_needs_csrf_and_a_cookie(browser, user, password):
    login = cookie_login(browser, user, password)

    assert browser.post(REFRESH_URL).status_code == 403
    anonymous = APIClient(enforce_csrf_checks=True)
    anonymous.cookies["csrftoken"] = login.cookies["csrftoken"].value
    assert anonymous.post(REFRESH_URL, HTTP_X_CSRFTOKEN=login.cookies["csrftoken"].value).status_code == 401


def test_cookie_logout_clears_cookies_and_revokes_both_tokens(browser, user, password):
    login = cookie_login(browser, user, password)
    access = login.cookies["access_token"].value
    refresh = login.cookies["refresh_token"].value

    response = browser.post(LOGOUT_URL, HTTP_X_CSRFTOKEN=login.cookies["csrftoken"].value)

    assert response.status_code == 204
    assert response.cookies["access_token"].value == ""
    assert response.cookies["refresh_token"].value == ""
    assert APIClient().get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 401
    assert APIClient().post(TOKEN_REFRESH_URL, {"refresh": refresh}).status_code == 401


def test_cookie_logout_without_csrf_is_refused_and_revokes_nothing(browser, user, password):
    login = cookie_login(browser, user, password)

    assert browser.post(LOGOUT_URL).status_code == 403
    assert APIClient().post(TOKEN_REFRESH_URL, {"refresh": login.cookies["refresh_token"].value}).status_code == 200


# Login CSRF: a cross-site form can send a multipart or urlencoded body without a preflight


@pytest.mark.parametrize("fmt", ["multipart", "form"])
def test_a_cross_site_form_cannot_log_in_with_cookies(user, password, fmt):
    body = {"email": user.email, "password": password}
    kwargs = {"format": "multipart"} if fmt == "multipart" else {"content_type": "application/x-www-form-urlencoded"}
    if fmt == "form":
        body = f"email={user.email}&password={password}"

    cross_site = APIClient().post(LOGIN_URL, body, HTTP_ORIGIN="https://evil.example", **kwargs)
    no_origin = APIClient().post(LOGIN_URL, body, **kwargs)

    assert cross_site.status_code == 403
    assert cross_site.json()["errors"][0]["code"] == "permission_denied"
    assert no_origin.status_code == 415
    assert no_origin.json()["errors"][0]["code"] == "unsupported_media_type"
    for response in (cross_site, no_origin):
        assert "access_token" not in response.cookies and "refresh_token" not in response.cookies


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/auth/register",
        "/api/v1/auth/token",
        "/api/v1/auth/token/refresh",
        "/api/v1/auth/password/reset",
        "/api/v1/auth/password/reset/confirm",
        "/api/v1/auth/email/verify",
        LOGIN_URL,
    ],
)
def test_json_endpoints_refuse_multipart_bodies(api_client, user, password, path):
    response = api_client.post(path, {"email": user.email, "password": password}, format="multipart")

    assert response.status_code == 415
    assert response.json()["errors"][0]["code"] == "unsupported_media_type"


def test_authenticated_json_endpoints_refuse_multipart_bodies(user_client, user):
    patch = user_client.patch(ME_URL, {"first_name": "Mallory"}, format="multipart")
    logout = user_client.post("/api/v1/auth/logout", {"refresh": "x"}, format="multipart")

    assert patch.status_code == logout.status_code == 415
    user.refresh_from_db()
    assert user.first_name != "Mallory"


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://localhost:3000.evil.example"])
def test_cookie_endpoints_refuse_a_foreign_origin(browser, user, password, origin):
    login = cookie_login(browser, user, password)
    csrf = {"HTTP_X_CSRFTOKEN": login.cookies["csrftoken"].value, "HTTP_ORIGIN": origin}

    responses = [
        APIClient().post(LOGIN_URL, {"email": user.email, "password": password}, HTTP_ORIGIN=origin),
        browser.post(REFRESH_URL, **csrf),
        browser.post(LOGOUT_URL, **csrf),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert "access_token" not in responses[0].cookies
    assert APIClient().post(TOKEN_REFRESH_URL, {"refresh": login.cookies["refresh_token"].value}).status_code == 200


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://testserver"])
def test_cookie_login_takes_an_allowed_or_same_host_origin(user, password, origin):
    response = APIClient().post(LOGIN_URL, {"email": user.email, "password": password}, HTTP_ORIGIN=origin)

    assert response.status_code == 200
    assert response.cookies["access_token"].value
