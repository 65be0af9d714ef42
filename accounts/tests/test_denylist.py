"""Logout is durable: the denied access tokens are in the database as well as in the shared cache."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts import user_cache
from accounts.tests.dead_cache import DeadCache

pytestmark = pytest.mark.django_db

ME_URL = "/api/v1/auth/me"
TOKEN_URL = "/api/v1/auth/token"


def _logged_out(capture, password, user):
    """Two sessions of `user`; the first logged out (its commit steps run). Returns (gone, other) auth headers."""
    gone = APIClient().post(TOKEN_URL, {"email": user.email, "password": password}).json()
    other = APIClient().post(TOKEN_URL, {"email": user.email, "password": password}).json()
    gone_auth = {"HTTP_AUTHORIZATION": f"Bearer {gone['access']}"}
    with capture(execute=True):
        response = APIClient().post("/api/v1/auth/logout", {"refresh": gone["refresh"]}, **gone_auth)
    assert response.status_code == 204
    return gone_auth, {"HTTP_AUTHORIZATION": f"Bearer {other['access']}"}


def test_a_logged_out_access_token_stays_refused_after_the_cache_is_emptied(
    api_client, user, password, django_capture_on_commit_callbacks
):
    gone, other = _logged_out(django_capture_on_commit_callbacks, password, user)

    cache.clear()  # what a Redis restart does

    response = api_client.get(ME_URL, **gone)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"
    assert api_client.get(ME_URL, **other).status_code == 200
    assert api_client.get(ME_URL, **gone).status_code == 401  # and still once the row is cached again


def test_a_logged_out_access_token_stays_refused_without_the_cache(
    api_client, user, password, django_capture_on_commit_callbacks, monkeypatch
):
    gone, other = _logged_out(django_capture_on_commit_callbacks, password, user)

    monkeypatch.setattr(user_cache, "cache", DeadCache())

    assert api_client.get(ME_URL, **gone).status_code == 401
    assert api_client.get(ME_URL, **other).status_code == 200


def test_a_cookie_logout_is_durable_too(user, password, django_capture_on_commit_callbacks):
    browser = APIClient(enforce_csrf_checks=True)
    browser.post("/api/v1/auth/cookie/login", {"email": user.email, "password": password})
    access_cookie = browser.cookies["access_token"].value
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/api/v1/auth/cookie/logout", HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    assert response.status_code == 204

    cache.clear()

    assert APIClient().get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {access_cookie}").status_code == 401


def test_denied_tokens_cost_no_query_per_request(
    api_client, user, password, django_capture_on_commit_callbacks, django_assert_num_queries
):
    gone, other = _logged_out(django_capture_on_commit_callbacks, password, user)
    cache.clear()

    with django_assert_num_queries(2):  # the row, and (as the row says there are some) the user's denied tokens
        assert api_client.get(ME_URL, **other).status_code == 200
    with django_assert_num_queries(0):  # both cached together
        assert api_client.get(ME_URL, **other).status_code == 200
        assert api_client.get(ME_URL, **gone).status_code == 401


def test_a_user_without_denied_tokens_costs_one_query_on_a_cache_miss(user_client, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert user_client.get(ME_URL).status_code == 200
    cache.clear()
    with django_assert_num_queries(1):
        assert user_client.get(ME_URL).status_code == 200


def test_flushexpireddenials_deletes_only_expired_denials(user, password, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import AccessTokenDenial

    _logged_out(django_capture_on_commit_callbacks, password, user)
    AccessTokenDenial.objects.create(user=user, jti="old", expires_at=timezone.now() - timedelta(seconds=1))

    call_command("flushexpireddenials")

    assert list(AccessTokenDenial.objects.values_list("jti", flat=True)) != []
    assert not AccessTokenDenial.objects.filter(jti="old").exists()
