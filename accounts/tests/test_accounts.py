"""Registration, profile, password change and reset, email verification."""

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import UserFactory
from bookstore import settings as project_settings

pytestmark = pytest.mark.django_db

REGISTER_URL = "/api/v1/auth/register"
ME_URL = "/api/v1/auth/me"
TOKEN_URL = "/api/v1/auth/token"
REFRESH_URL = "/api/v1/auth/token/refresh"
CHANGE_URL = "/api/v1/auth/password/change"
RESET_URL = "/api/v1/auth/password/reset"
RESET_CONFIRM_URL = "/api/v1/auth/password/reset/confirm"
VERIFY_URL = "/api/v1/auth/email/verify"

NEW_PASSWORD = "a-much-better-passphrase-42"
PRODUCTION_HASHERS = project_settings.PASSWORD_HASHERS  # the tests swap in a fast hasher; this one checks Argon2


def link_params(email_body: str, path: str) -> dict:
    link = re.search(r"(https?://\S+)", email_body).group(1)
    parsed = urlparse(link)
    assert f"{parsed.scheme}://{parsed.netloc}" == settings.FRONTEND_URL
    assert parsed.path == f"/{path}"
    return {key: values[0] for key, values in parse_qs(parsed.query).items()}


def error_attrs(response):
    return {error["attr"] for error in response.json()["errors"]}


# Registration


def test_register_creates_the_account_and_emails_a_verification_link(
    api_client, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            REGISTER_URL,
            {"email": "New.Reader@Example.com", "password": NEW_PASSWORD, "first_name": "Ada", "last_name": "L"},
        )

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new.reader@example.com"
    assert body["first_name"] == "Ada"
    assert body["is_email_verified"] is False and body["is_staff"] is False
    assert set(body) == {
        "id", "email", "first_name", "last_name", "is_email_verified", "is_staff", "date_joined", "cart_merge",
    }  # fmt: skip
    assert body["cart_merge"] is None  # no cart_token sent
    user = User.objects.get(pk=body["id"])
    assert user.check_password(NEW_PASSWORD)
    assert user.password.startswith("argon2")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new.reader@example.com"]
    params = link_params(mailoutbox[0].body, "verify-email")
    assert set(params) == {"uid", "token"}


def test_register_refuses_an_email_taken_in_another_case(api_client, user):
    response = api_client.post(REGISTER_URL, {"email": user.email.upper(), "password": NEW_PASSWORD})

    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "code": "unique",
        "detail": "An account with this email address already exists.",
        "attr": "email",
    }
    assert User.objects.filter(email__iexact=user.email).count() == 1


@pytest.mark.parametrize("password", ["short", "12345678901", "password123"])
def test_register_checks_the_password_with_djangos_validators(api_client, password):
    response = api_client.post(REGISTER_URL, {"email": "x@example.com", "password": password})

    assert response.status_code == 400
    assert "password" in error_attrs(response)
    assert not User.objects.filter(email="x@example.com").exists()


def test_register_validates_every_field(api_client):
    response = api_client.post(REGISTER_URL, {"email": "nope", "first_name": "x" * 151})

    assert response.status_code == 400
    assert error_attrs(response) == {"email", "password", "first_name"}


def test_register_ignores_privileged_fields(api_client):
    response = api_client.post(
        REGISTER_URL,
        {"email": "sneaky@example.com", "password": NEW_PASSWORD, "is_staff": True, "is_superuser": True},
    )

    assert response.status_code == 201
    user = User.objects.get(email="sneaky@example.com")
    assert not user.is_staff and not user.is_superuser and not user.is_email_verified


def test_register_refuses_non_json_bodies(api_client):
    response = api_client.post(REGISTER_URL, "email=x", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["errors"][0]["code"] == "unsupported_media_type"


def test_register_refuses_malformed_json(api_client):
    response = api_client.post(REGISTER_URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"


# Profile


def test_me_returns_the_profile(user_client, user):
    response = user_client.get(ME_URL)

    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert response.json()["id"] == user.pk


def test_me_updates_names_but_never_email_or_staff(user_client, user):
    response = user_client.patch(
        ME_URL, {"first_name": "Grace", "email": "other@example.com", "is_staff": True, "is_email_verified": True}
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.first_name == "Grace"
    assert user.email != "other@example.com"
    assert not user.is_staff and not user.is_email_verified
    assert response.json()["is_staff"] is False


def test_me_refuses_put_and_anonymous_callers(user_client, api_client):
    assert user_client.put(ME_URL, {"first_name": "x"}).status_code == 405
    assert api_client.get(ME_URL).status_code == 401


# Password change


def test_password_change_revokes_every_refresh_token(user_client, user, api_client, password):
    refresh_tokens = [str(RefreshToken.for_user(user)) for _ in range(2)]

    response = user_client.post(CHANGE_URL, {"old_password": password, "new_password": NEW_PASSWORD})

    assert response.status_code == 204
    for token in refresh_tokens:
        assert api_client.post(REFRESH_URL, {"refresh": token}).status_code == 401
    assert api_client.post(TOKEN_URL, {"email": user.email, "password": password}).status_code == 401
    assert api_client.post(TOKEN_URL, {"email": user.email, "password": NEW_PASSWORD}).status_code == 200


def test_password_change_needs_the_current_password(user_client, user, password):
    response = user_client.post(CHANGE_URL, {"old_password": "wrong", "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "old_password"
    user.refresh_from_db()
    assert user.check_password(password)


def test_password_change_validates_the_new_password(user_client, password):
    response = user_client.post(CHANGE_URL, {"old_password": password, "new_password": "123"})

    assert response.status_code == 400
    assert error_attrs(response) == {"new_password"}


def test_password_change_needs_authentication(api_client):
    assert api_client.post(CHANGE_URL, {"old_password": "a", "new_password": NEW_PASSWORD}).status_code == 401


# Password reset


def request_reset(api_client, email, capture):
    with capture(execute=True):
        return api_client.post(RESET_URL, {"email": email})


def test_password_reset_emails_a_single_use_link(
    api_client, user, password, mailoutbox, django_capture_on_commit_callbacks
):
    old_refresh = str(RefreshToken.for_user(user))

    response = request_reset(api_client, user.email.upper(), django_capture_on_commit_callbacks)

    assert response.status_code == 202
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [user.email]
    params = link_params(mailoutbox[0].body, "reset-password")
    confirm = api_client.post(RESET_CONFIRM_URL, {**params, "new_password": NEW_PASSWORD})
    assert confirm.status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert api_client.post(REFRESH_URL, {"refresh": old_refresh}).status_code == 401

    reused = api_client.post(RESET_CONFIRM_URL, {**params, "new_password": "yet-another-passphrase-7"})
    assert reused.status_code == 400
    assert reused.json()["errors"][0]["code"] == "invalid_token"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_password_reset_for_an_unknown_email_answers_exactly_the_same(
    api_client, user, mailoutbox, django_capture_on_commit_callbacks
):
    known = request_reset(api_client, user.email, django_capture_on_commit_callbacks)
    unknown = request_reset(api_client, "nobody@example.com", django_capture_on_commit_callbacks)

    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert [m.to for m in mailoutbox] == [[user.email]]


def test_password_reset_sends_nothing_to_an_inactive_account(
    api_client, password, mailoutbox, django_capture_on_commit_callbacks
):
    inactive = UserFactory(password=password, is_active=False)

    assert request_reset(api_client, inactive.email, django_capture_on_commit_callbacks).status_code == 202
    assert mailoutbox == []


@pytest.mark.parametrize(
    "uid, token",
    [("bm9wZQ", "set-x"), ("!!!", "abc"), ("", ""), ("MQ", "wrong-token")],
)
def test_password_reset_confirm_refuses_bad_links(api_client, user, password, uid, token):
    response = api_client.post(RESET_CONFIRM_URL, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password(password)


def test_password_reset_confirm_validates_the_new_password(
    api_client, user, password, mailoutbox, django_capture_on_commit_callbacks
):
    request_reset(api_client, user.email, django_capture_on_commit_callbacks)
    params = link_params(mailoutbox[0].body, "reset-password")

    response = api_client.post(RESET_CONFIRM_URL, {**params, "new_password": "123"})

    assert response.status_code == 400
    assert error_attrs(response) == {"new_password"}
    user.refresh_from_db()
    assert user.check_password(password)


# Email verification


def registration_link(api_client, mailoutbox, capture, email="verify.me@example.com"):
    with capture(execute=True):
        api_client.post(REGISTER_URL, {"email": email, "password": NEW_PASSWORD})
    return link_params(mailoutbox[-1].body, "verify-email")


def test_email_verification_marks_the_address_verified_once(api_client, mailoutbox, django_capture_on_commit_callbacks):
    params = registration_link(api_client, mailoutbox, django_capture_on_commit_callbacks)

    first = api_client.post(VERIFY_URL, params)
    second = api_client.post(VERIFY_URL, params)

    assert first.status_code == 204
    assert User.objects.get(email="verify.me@example.com").is_email_verified
    assert second.status_code == 400
    assert second.json()["errors"][0]["code"] == "invalid_token"


def test_email_verification_refuses_a_wrong_token_or_another_users_uid(
    api_client, user, mailoutbox, django_capture_on_commit_callbacks
):
    params = registration_link(api_client, mailoutbox, django_capture_on_commit_callbacks)

    wrong_token = api_client.post(VERIFY_URL, {"uid": params["uid"], "token": params["token"][:-1] + "x"})
    swapped = api_client.post(
        VERIFY_URL, {"uid": urlsafe_base64_encode(force_bytes(user.pk)), "token": params["token"]}
    )
    missing = api_client.post(VERIFY_URL, {})

    assert wrong_token.status_code == swapped.status_code == missing.status_code == 400
    assert not User.objects.filter(is_email_verified=True).exists()


def test_a_reset_link_is_not_a_verification_link(api_client, user, mailoutbox, django_capture_on_commit_callbacks):
    request_reset(api_client, user.email, django_capture_on_commit_callbacks)
    params = link_params(mailoutbox[0].body, "reset-password")

    assert api_client.post(VERIFY_URL, params).status_code == 400
