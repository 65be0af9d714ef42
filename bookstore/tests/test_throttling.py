"""Throttling when the shared cache is down: open for ordinary requests, closed for login."""

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

pytestmark = pytest.mark.django_db


class DeadCache:
    def get(self, *args, **kwargs):
        raise RedisConnectionError("Connection refused")

    set = add = delete = get


@pytest.fixture
def redis_down(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "cache", DeadCache())


def test_authenticated_reads_keep_working_when_the_throttle_cache_is_down(redis_down, user_client, user):
    response = user_client.get("/api/v1/auth/me")

    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_login_closes_with_503_and_retry_after_when_the_throttle_cache_is_down(redis_down, user, password):
    api_client = APIClient(raise_request_exception=False)  # a 5xx is reported like a server error

    response = api_client.post("/api/v1/auth/token", {"email": user.email, "password": password})

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "type": "server_error",
        "errors": [
            {
                "code": "service_unavailable",
                "detail": "This action is briefly unavailable; try again shortly.",
                "attr": None,
            }
        ],
    }


def test_anonymous_rate_is_enforced_when_the_cache_works(api_client, settings):
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"].split("/")[0])
    statuses = {api_client.get("/api/v1/books").status_code for _ in range(rate)}

    response = api_client.get("/api/v1/books")

    assert statuses == {200}
    assert response.status_code == 429
