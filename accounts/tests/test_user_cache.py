"""The user row behind access tokens is cached, yet every change to the user counts at once."""

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from accounts import services, user_cache
from accounts.models import User
from accounts.tests.dead_cache import DeadCache
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


def test_a_bulk_update_through_the_service_counts_at_once_too(user_client, user, other_user, other_client):
    assert user_client.get(ME_URL).status_code == other_client.get(ME_URL).status_code == 200

    updated = services.users_update(users=User.objects.filter(pk__in=[user.pk, other_user.pk]), is_active=False)

    assert updated == 2
    assert user_client.get(ME_URL).status_code == other_client.get(ME_URL).status_code == 401


def test_a_bulk_demotion_through_the_service_counts_at_once(staff_client, staff_user):
    book = BookFactory(price="10.00")
    assert staff_client.patch(f"/api/v1/books/{book.pk}", {"price": "11.00"}).status_code == 200

    services.users_update(users=User.objects.filter(is_staff=True), is_staff=False)

    assert staff_client.patch(f"/api/v1/books/{book.pk}", {"price": "12.00"}).status_code == 403


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
    _version, cached, _denied = cache.get(user_cache.user_key(user.pk))

    assert "password" in cached.get_deferred_fields()
    assert user_client.patch(ME_URL, {"last_name": "Lovelace"}).status_code == 200  # saves the cached user
    assert APIClient().post(TOKEN_URL, {"email": user.email, "password": password}).status_code == 200


def test_a_row_read_before_a_change_committed_is_never_served(user_client, user, django_capture_on_commit_callbacks):
    """A reader takes the version, reads the (old) row, and stores it after the writer's first bump."""
    user_client.get(ME_URL)
    version_before_the_change = user_cache.current_version(user.pk)
    stale = User.objects.defer("password").get(pk=user.pk)

    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()
        user_cache.store(user.pk, user_cache.current_version(user.pk), stale, frozenset())  # the race

    assert user_cache.current_version(user.pk) > version_before_the_change
    assert user_client.get(ME_URL).status_code == 401


def test_an_evicted_version_never_revives_an_old_entry(user_client, user):
    user_client.get(ME_URL)
    user.is_active = False
    user.save()
    cache.delete(f"auth:user-version:{user.pk}")  # evicted, or expired

    assert user_client.get(ME_URL).status_code == 401


def test_without_the_cache_the_row_is_read_from_the_database(user_client, user, monkeypatch):
    monkeypatch.setattr(user_cache, "cache", DeadCache())

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
    user_cache.users_changed([user.pk])  # inside the (test's) transaction: the commit step has not run

    for _ in range(2):
        with django_assert_num_queries(1):  # the row, every time
            assert user_client.get(ME_URL).status_code == 200


def test_caching_resumes_once_the_change_commits(
    user_client, user, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user_cache.users_changed([user.pk])
    with django_assert_num_queries(1):
        user_client.get(ME_URL)
    with django_assert_num_queries(0):
        assert user_client.get(ME_URL).status_code == 200


# The entries' keys carry the deploy's prefix: no deploy reads the pickles of another


def test_a_new_field_or_release_changes_the_deploy_prefix(settings):
    before = user_cache.deploy_prefix()
    user_cache.deploy_prefix.cache_clear()
    try:
        settings.RELEASE_ID = "next-release"
        assert user_cache.deploy_prefix() != before
        user_cache.deploy_prefix.cache_clear()
        settings.RELEASE_ID = ""
        assert user_cache.deploy_prefix() == before  # a pure function of the model, Django and the release
    finally:
        user_cache.deploy_prefix.cache_clear()


def test_an_entry_of_another_deploy_is_never_read(user_client, user, django_assert_num_queries):
    user_client.get(ME_URL)  # cached by this deploy
    old_key = user_cache.user_key(user.pk)
    user_cache.deploy_prefix.cache_clear()
    try:
        with override_settings(RELEASE_ID="next-release"):
            assert user_cache.user_key(user.pk) != old_key
            with django_assert_num_queries(1):  # the previous deploy's entry is not read: the row is
                assert user_client.get(ME_URL).status_code == 200
            with django_assert_num_queries(0):
                assert user_client.get(ME_URL).status_code == 200
    finally:
        user_cache.deploy_prefix.cache_clear()


def test_the_cache_can_be_turned_off(user_client, user, settings, django_assert_num_queries):
    settings.AUTH_USER_CACHE = False
    for _ in range(2):
        with django_assert_num_queries(1):
            assert user_client.get(ME_URL).status_code == 200
    user.is_active = False
    user.save()
    assert user_client.get(ME_URL).status_code == 401
