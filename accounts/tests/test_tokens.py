"""Token pair, refresh rotation, logout, and every way a token can be bad."""

import threading
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token"
REFRESH_URL = "/api/v1/auth/token/refresh"
LOGOUT_URL = "/api/v1/auth/logout"
ME_URL = "/api/v1/auth/me"


def login(client, email, password):
    return client.post(TOKEN_URL, {"email": email, "password": password})


def me(client, access):
    return client.get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {access}")


def error_codes(response):
    return [error["code"] for error in response.json()["errors"]]


def test_token_pair_lifetimes_are_15_minutes_and_7_days(api_client, user, password):
    response = login(api_client, user.email, password)

    assert response.status_code == 200
    access = jwt.decode(response.json()["access"], options={"verify_signature": False})
    refresh = jwt.decode(response.json()["refresh"], options={"verify_signature": False})
    assert access["exp"] - access["iat"] == 15 * 60
    assert refresh["exp"] - refresh["iat"] == 7 * 24 * 3600
    assert access["token_type"] == "access" and refresh["token_type"] == "refresh"
    assert me(api_client, response.json()["access"]).json()["email"] == user.email


def test_login_email_is_case_insensitive(api_client, user, password):
    response = login(api_client, f"  {user.email.upper()}", password)

    assert response.status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_401(api_client, user, password):
    wrong = login(api_client, user.email, password + "x")
    unknown = login(api_client, "nobody@example.com", password)

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["type"] == "client_error"
    assert error_codes(wrong) == ["no_active_account"]


def test_inactive_user_cannot_log_in(api_client, password):
    inactive = UserFactory(password=password, is_active=False)

    response = login(api_client, inactive.email, password)

    assert response.status_code == 401


def test_login_requires_email_and_password(api_client):
    response = api_client.post(TOKEN_URL, {"email": "not-an-email"})

    assert response.status_code == 400
    assert {e["attr"] for e in response.json()["errors"]} == {"email", "password"}


def test_missing_and_malformed_tokens_are_refused(api_client):
    assert api_client.get(ME_URL).status_code == 401
    assert me(api_client, "not.a.token").status_code == 401
    response = me(api_client, "garbage")
    assert response.status_code == 401
    assert error_codes(response) == ["token_not_valid"]


def test_expired_access_token_is_refused(api_client, user):
    token = AccessToken.for_user(user)
    issued = timezone.now() - timedelta(minutes=16)  # the clock moved 16 minutes on
    token.set_iat(at_time=issued)
    token.set_exp(from_time=issued)

    assert me(api_client, str(token)).status_code == 401


def test_expired_refresh_token_is_refused(api_client, user):
    token = RefreshToken.for_user(user)
    issued = timezone.now() - timedelta(days=8)
    token.set_iat(at_time=issued)
    token.set_exp(from_time=issued)

    assert api_client.post(REFRESH_URL, {"refresh": str(token)}).status_code == 401


def test_token_signed_with_another_key_is_refused(api_client, user):
    claims = AccessToken.for_user(user).payload
    forged = jwt.encode(claims, "another-key-entirely-" * 3, algorithm="HS256")

    assert me(api_client, forged).status_code == 401


def test_unsigned_alg_none_token_is_refused(api_client, user):
    claims = AccessToken.for_user(user).payload
    forged = jwt.encode(claims, None, algorithm="none")

    assert me(api_client, forged).status_code == 401


def test_refresh_token_is_not_an_access_token(api_client, user):
    assert me(api_client, str(RefreshToken.for_user(user))).status_code == 401


def test_access_token_is_not_a_refresh_token(api_client, user):
    access = str(RefreshToken.for_user(user).access_token)

    assert api_client.post(REFRESH_URL, {"refresh": access}).status_code == 401


def test_refresh_rotates_and_a_used_refresh_token_is_dead(api_client, user, password):
    first = login(api_client, user.email, password).json()

    rotated = api_client.post(REFRESH_URL, {"refresh": first["refresh"]})
    reused = api_client.post(REFRESH_URL, {"refresh": first["refresh"]})

    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != first["refresh"]
    assert me(api_client, rotated.json()["access"]).status_code == 200
    assert reused.status_code == 401
    assert api_client.post(REFRESH_URL, {"refresh": rotated.json()["refresh"]}).status_code == 200


def test_refresh_requires_a_token(api_client):
    response = api_client.post(REFRESH_URL, {})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "refresh"


def test_deleted_users_tokens_are_401_not_500(api_client, user, password):
    tokens = login(api_client, user.email, password).json()
    user.delete()

    assert me(api_client, tokens["access"]).status_code == 401
    assert api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}).status_code == 401


def test_deactivated_user_is_refused_at_once(api_client, user, password):
    tokens = login(api_client, user.email, password).json()
    user.is_active = False
    user.save()

    assert me(api_client, tokens["access"]).status_code == 401
    assert api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}).status_code == 401


def test_logout_kills_the_refresh_and_the_access_token(api_client, user, password):
    tokens = login(api_client, user.email, password).json()

    response = api_client.post(
        LOGOUT_URL, {"refresh": tokens["refresh"]}, HTTP_AUTHORIZATION=f"Bearer {tokens['access']}"
    )

    assert response.status_code == 204
    assert me(api_client, tokens["access"]).status_code == 401
    assert api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}).status_code == 401


def test_logout_ends_every_token_rotated_from_the_one_it_names(api_client, user, password):
    login_pair = login(api_client, user.email, password).json()
    child = api_client.post(REFRESH_URL, {"refresh": login_pair["refresh"]}).json()
    grandchild = api_client.post(REFRESH_URL, {"refresh": child["refresh"]}).json()

    response = api_client.post(
        LOGOUT_URL, {"refresh": login_pair["refresh"]}, HTTP_AUTHORIZATION=f"Bearer {grandchild['access']}"
    )

    assert response.status_code == 204
    assert api_client.post(REFRESH_URL, {"refresh": grandchild["refresh"]}).status_code == 401


def test_logout_with_the_latest_token_ends_its_family_only(api_client, user, password):
    phone = login(api_client, user.email, password).json()
    laptop = login(api_client, user.email, password).json()
    rotated = api_client.post(REFRESH_URL, {"refresh": phone["refresh"]}).json()

    response = api_client.post(
        LOGOUT_URL, {"refresh": rotated["refresh"]}, HTTP_AUTHORIZATION=f"Bearer {rotated['access']}"
    )

    assert response.status_code == 204
    assert api_client.post(REFRESH_URL, {"refresh": rotated["refresh"]}).status_code == 401
    assert api_client.post(REFRESH_URL, {"refresh": laptop["refresh"]}).status_code == 200


def test_logout_leaves_other_sessions_alone(api_client, user, password):
    phone = login(api_client, user.email, password).json()
    laptop = login(api_client, user.email, password).json()

    api_client.post(LOGOUT_URL, {"refresh": phone["refresh"]}, HTTP_AUTHORIZATION=f"Bearer {phone['access']}")

    assert me(api_client, laptop["access"]).status_code == 200
    assert api_client.post(REFRESH_URL, {"refresh": laptop["refresh"]}).status_code == 200


def test_logout_needs_authentication(api_client, user, password):
    tokens = login(api_client, user.email, password).json()

    assert api_client.post(LOGOUT_URL, {"refresh": tokens["refresh"]}).status_code == 401
    assert api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}).status_code == 200


def test_logout_cannot_revoke_another_users_refresh_token(api_client, user, other_user, password):
    mine = login(api_client, user.email, password).json()
    theirs = login(api_client, other_user.email, password).json()

    response = api_client.post(
        LOGOUT_URL, {"refresh": theirs["refresh"]}, HTTP_AUTHORIZATION=f"Bearer {mine['access']}"
    )

    assert response.status_code == 401
    assert api_client.post(REFRESH_URL, {"refresh": theirs["refresh"]}).status_code == 200


def test_login_is_throttled_with_retry_after(api_client, user):
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"].split("/")[0])
    statuses = [login(api_client, user.email, "wrong-password").status_code for _ in range(rate)]

    throttled = login(api_client, user.email, "wrong-password")

    assert set(statuses) == {401}
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert error_codes(throttled) == ["throttled"]


def test_throttle_cannot_be_dodged_with_a_forged_forwarded_for(api_client, user):
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"].split("/")[0])
    for n in range(rate):
        api_client.post(TOKEN_URL, {"email": user.email, "password": "x"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")

    response = api_client.post(TOKEN_URL, {"email": user.email, "password": "x"}, HTTP_X_FORWARDED_FOR="10.9.9.9")

    assert response.status_code == 429


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_refreshes_of_one_token_give_exactly_one_success(user):
    refresh = str(RefreshToken.for_user(user))
    barrier = threading.Barrier(10)
    statuses = []

    def attempt():
        try:
            barrier.wait()
            statuses.append(APIClient().post(REFRESH_URL, {"refresh": refresh}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] + [401] * 9
    # the original is blacklisted, and exactly one new refresh token was issued from it
    assert OutstandingToken.objects.filter(user=user).count() == 2
    assert BlacklistedToken.objects.filter(token__user=user).count() == 1
