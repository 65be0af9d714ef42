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


class Clock:
    """A settable `timer` for the throttles, starting at the beginning of a minute."""

    def __init__(self):
        self.now = 1_800_000_000.0  # a multiple of 60: windows start here

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(SimpleRateThrottle, "timer", clock)
    return clock


@pytest.fixture
def rates(monkeypatch, settings):
    def set_rates(**rates):
        monkeypatch.setattr(
            SimpleRateThrottle, "THROTTLE_RATES", {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates}
        )

    return set_rates


def test_refused_requests_do_not_count_and_retry_after_is_when_the_next_one_succeeds(api_client, clock, rates):
    rates(anon="3/min")
    assert [api_client.get("/api/v1/books").status_code for _ in range(3)] == [200, 200, 200]

    refused = api_client.get("/api/v1/books")
    # Three in this window: in the next one they still weigh 3 × (1 - t/60), so one more fits at t = 20.
    assert refused.status_code == 429
    assert refused["Retry-After"] == "80"
    assert refused.json()["errors"][0]["code"] == "throttled"

    clock.now += 30
    hammering = {api_client.get("/api/v1/books").status_code for _ in range(20)}
    assert hammering == {429}
    assert api_client.get("/api/v1/books")["Retry-After"] == "50"  # the refusals above changed nothing

    clock.now += 49
    assert api_client.get("/api/v1/books").status_code == 429
    clock.now += 1
    assert api_client.get("/api/v1/books").status_code == 200
    assert api_client.get("/api/v1/books").status_code == 429


def test_the_previous_window_fades_out(api_client, clock, rates):
    rates(anon="4/min")
    for _ in range(4):
        api_client.get("/api/v1/books")
    clock.now += 60 + 15  # 15 s into the next window: the last one weighs 4 × 0.75 = 3

    assert api_client.get("/api/v1/books").status_code == 200
    refused = api_client.get("/api/v1/books")
    assert refused.status_code == 429
    # 4 × (1 - t/60) + 1 ≤ 3 at t = 30: 15 s from now.
    assert refused["Retry-After"] == "15"


def test_anonymous_requests_count_against_anon_only(api_client, clock, rates):
    rates(anon="3/min", user="1/min")

    assert [api_client.get("/api/v1/books").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_authenticated_requests_count_against_user(user_client, clock, rates):
    rates(anon="1/min", user="2/min")

    assert [user_client.get("/api/v1/auth/me").status_code for _ in range(3)] == [200, 200, 429]


def test_parallel_requests_never_pass_the_rate(rates):
    """The counter is incremented atomically: 40 simultaneous logins, 10 pass (DRF's log let more through)."""
    import threading

    from django.test import RequestFactory
    from rest_framework.request import Request

    from accounts.views import TokenObtainView
    from bookstore.throttling import ScopedRateThrottle

    rates(auth="10/min")
    view = TokenObtainView()
    start = threading.Barrier(40)
    allowed = []

    def attempt():
        request = Request(RequestFactory().post("/api/v1/auth/token", REMOTE_ADDR="203.0.113.9"))
        start.wait()
        allowed.append(ScopedRateThrottle().allow_request(request, view))

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert allowed.count(True) == 10


def test_a_rate_of_zero_refuses_every_request_without_a_retry_after(api_client, clock, rates):
    rates(anon="0/min")

    response = api_client.get("/api/v1/books")

    assert response.status_code == 429
    assert "Retry-After" not in response
