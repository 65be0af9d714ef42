"""The user row behind access tokens is cached, yet every change to the user counts at once."""

import pickle

import pytest
from django.core.cache import cache
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient

from accounts import access
from accounts.models import User
from catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db

ME_URL = "/api/v1/auth/me"
TOKEN_URL = "/api/v1/auth/token"


def test_a_signed_in_request_reads_the_user_row_once(user_client, user, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert user_client.get(ME_URL).status_code == 200
    with django_assert_num_queries(0):
        response = user_client.get(ME_URL)

    assert response.json()["email"] == user.email


def test_deactivating_a_user_refuses_their_token_on_the_next_request(user_client, user):
    assert user_client.get(ME_URL).status_code == 200  # cached now

    user.is_active = False
    user.save()

    assert user_client.get(ME_URL).status_code == 401


def test_a_bulk_update_counts_at_once_too(user_client, user):
    assert user_client.get(ME_URL).status_code == 200

    User.objects.filter(pk=user.pk).update(is_active=False)

    assert user_client.get(ME_URL).status_code == 401


def test_deleting_a_user_refuses_their_token_on_the_next_request(user_client, user):
    assert user_client.get(ME_URL).status_code == 200

    user.delete()

    response = user_client.get(ME_URL)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "user_not_found"


def test_a_demoted_member_of_staff_loses_staff_rights_on_the_next_request(staff_client, staff_user):
    book = BookFactory(price="10.00")
    assert staff_client.patch(f"/api/v1/books/{book.pk}", {"price": "11.00"}).status_code == 200

    staff_user.is_staff = False
    staff_user.save(update_fields=["is_staff"])

    assert staff_client.patch(f"/api/v1/books/{book.pk}", {"price": "12.00"}).status_code == 403


def test_profile_changes_show_on_the_next_request(user_client, user):
    assert user_client.patch(ME_URL, {"first_name": "Ada"}).status_code == 200

    assert user_client.get(ME_URL).json()["first_name"] == "Ada"


def test_the_cached_row_holds_no_password_and_saving_it_keeps_the_password(user_client, user, password):
    user_client.get(ME_URL)
    _version, cached, _denied = cache.get(f"auth:user:{user.pk}")

    assert "password" in cached.get_deferred_fields()
    assert user_client.patch(ME_URL, {"last_name": "Lovelace"}).status_code == 200  # saves the cached user
    assert APIClient().post(TOKEN_URL, {"email": user.email, "password": password}).status_code == 200


def test_a_row_read_before_a_change_committed_is_never_served(user_client, user, django_capture_on_commit_callbacks):
    """A reader takes the version, reads the (old) row, and stores it after the writer's first bump."""
    user_client.get(ME_URL)
    version_before_the_change = cache.get(f"auth:user-version:{user.pk}")
    stale = User.objects.defer("password").get(pk=user.pk)

    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()
        access._store(f"auth:user:{user.pk}", cache.get(f"auth:user-version:{user.pk}"), stale)  # the race

    assert cache.get(f"auth:user-version:{user.pk}") > version_before_the_change
    assert user_client.get(ME_URL).status_code == 401


def test_an_evicted_version_never_revives_an_old_entry(user_client, user):
    user_client.get(ME_URL)
    user.is_active = False
    user.save()
    cache.delete(f"auth:user-version:{user.pk}")  # evicted, or expired

    assert user_client.get(ME_URL).status_code == 401


class DeadCache:
    def get_many(self, *args, **kwargs):
        raise RedisConnectionError("Connection refused")

    get = set = add = incr = delete = get_many


def test_without_the_cache_the_row_is_read_from_the_database(user_client, user, monkeypatch):
    monkeypatch.setattr(access, "cache", DeadCache())

    assert user_client.get(ME_URL).status_code == 200
    user.is_active = False
    user.save()  # the version bump fails, and is logged

    assert user_client.get(ME_URL).status_code == 401


@pytest.mark.parametrize("claim", ["user_id", "jti"])
def test_a_signed_token_without_its_user_or_id_claim_is_401(api_client, user, claim):
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(user)
    del token.payload[claim]

    response = api_client.get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"


def test_while_a_change_is_in_flight_nothing_is_cached_for_that_user(user_client, user, django_assert_num_queries):
    user_client.get(ME_URL)
    access.users_changed([user.pk])  # inside the (test's) transaction: the commit step has not run

    for _ in range(2):
        with django_assert_num_queries(1):  # the row, every time
            assert user_client.get(ME_URL).status_code == 200


def test_caching_resumes_once_the_change_commits(user_client, user, django_assert_num_queries, committed):
    committed(lambda: access.users_changed([user.pk]) or user)
    with django_assert_num_queries(1):
        user_client.get(ME_URL)
    with django_assert_num_queries(0):
        assert user_client.get(ME_URL).status_code == 200


@pytest.fixture
def unreadable_once(monkeypatch):
    """The next cache read fails to unpickle an entry (as after a deploy that moved a class); later ones work."""
    real_get_many = cache.get_many
    calls = []

    def get_many_failing_once(keys):
        calls.append(keys)
        if len(calls) == 1:
            raise pickle.UnpicklingError("the class moved")
        return real_get_many(keys)

    def arm():
        monkeypatch.setattr(cache, "get_many", get_many_failing_once)

    return arm


def test_a_cached_entry_that_no_longer_unpickles_is_dropped(user_client, user, unreadable_once):
    user_client.get(ME_URL)
    unreadable_once()

    assert user_client.get(ME_URL).status_code == 200
    assert cache.get(f"auth:user:{user.pk}") is not None  # dropped, then stored afresh


def test_a_revoked_token_stays_revoked_when_the_user_entry_is_unreadable(api_client, user, password, unreadable_once):
    tokens = APIClient().post(TOKEN_URL, {"email": user.email, "password": password}).json()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access']}"}
    api_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, **auth)
    unreadable_once()

    assert api_client.get(ME_URL, **auth).status_code == 401


# Logout is durable: the denied access tokens are in the database too


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

    monkeypatch.setattr(access, "cache", DeadCache())

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


def test_an_entry_cached_before_denials_were_cached_with_the_row_is_not_served(
    api_client, user, password, django_capture_on_commit_callbacks
):
    gone, _other = _logged_out(django_capture_on_commit_callbacks, password, user)
    cache.clear()
    version = access._start_version(f"auth:user-version:{user.pk}")
    cache.set(f"auth:user:{user.pk}", (version, User.objects.get(pk=user.pk)))  # the old (version, user) shape

    assert api_client.get(ME_URL, **gone).status_code == 401
