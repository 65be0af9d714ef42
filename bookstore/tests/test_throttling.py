"""The throttles: their counting, their round trips, and the shared cache down (open for
ordinary requests, closed for login and checkout)."""

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.tests.dead_cache import DeadCache as AccountsDeadCache
from bookstore.tests.clients import client_for

pytestmark = pytest.mark.django_db


class DeadCache:
    def get(self, *args, **kwargs):
        raise RedisConnectionError("Connection refused")

    set = add = delete = get


@pytest.fixture
def redis_down(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "cache", DeadCache())


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


@pytest.fixture
def cache_down(monkeypatch):
    """The whole shared cache down: the throttles' and the authentication's."""
    from accounts import user_cache

    monkeypatch.setattr(SimpleRateThrottle, "cache", DeadCache())
    monkeypatch.setattr(user_cache, "cache", AccountsDeadCache())


def test_an_authenticated_request_is_counted_in_the_authentications_round_trip(user_client, redis_round_trips):
    """The token's user row, its denylist key, its version and the user throttle's counters: one
    trip before the view (two for a user not yet cached: the row is stored after it is read)."""
    assert user_client.get("/api/v1/auth/me").status_code == 200
    assert len(redis_round_trips) == 2

    redis_round_trips.clear()
    assert user_client.get("/api/v1/auth/me").status_code == 200
    assert len(redis_round_trips) == 1


def test_the_counts_taken_by_the_authentication_are_the_throttles(user_client, clock, rates):
    """Counted with the user's row, decided by the throttle: refusals still do not count."""
    rates(user="2/min")
    assert [user_client.get("/api/v1/auth/me").status_code for _ in range(4)] == [200, 200, 429, 429]

    clock.now += 60 + 30  # the last window's 2 weigh 1: one more fits
    assert [user_client.get("/api/v1/auth/me").status_code for _ in range(2)] == [200, 429]


def test_a_request_its_permissions_refuse_is_counted(user_client, clock, rates):
    """The authentication counts before DRF checks permissions (bookstore.throttling)."""
    rates(user="2/min")
    assert user_client.post("/api/v1/books", {}, format="json").status_code == 403  # staff only
    assert user_client.get("/api/v1/auth/me").status_code == 200
    assert user_client.get("/api/v1/auth/me").status_code == 429


@pytest.mark.parametrize("throttle_class", ["UserRateThrottle", "ScopedRateThrottle", "AnonRateThrottle"])
def test_the_key_counted_ahead_is_the_key_the_throttle_reads(throttle_class, user):
    """`key_for_user` (known from the token, before the request is authenticated) is `get_cache_key`'s."""
    from django.test import RequestFactory
    from rest_framework.request import Request

    from bookstore import throttling
    from orders.views import OrderViewSet

    view = OrderViewSet(action="create", format_kwarg=None)
    view.get_throttles()  # sets the checkout scope, as DRF's dispatch does
    request = Request(RequestFactory().post("/api/v1/orders"))
    request.user = user
    throttle = getattr(throttling, throttle_class)()

    ahead = throttle.key_for_user(view, user.pk)  # (the scoped throttle takes the view's scope here)

    if throttle_class == "AnonRateThrottle":
        assert ahead is None  # authenticated requests count against `user`
    else:
        assert ahead == throttle.get_cache_key(request, view)
        assert ahead.endswith(f"_{user.pk}")


def test_an_authenticated_checkout_closes_with_503_when_the_whole_cache_is_down(cache_down, user):
    """Nothing counted by the authentication (its cache is out): the checkout's throttle, which
    fails closed, makes its own trip and refuses."""
    client = client_for(user, raise_request_exception=False)  # a 5xx is reported like a server error
    answer = client.post("/api/v1/orders", {}, format="json")

    assert answer.status_code == 503
    assert answer["Retry-After"] == "30"


def test_authenticated_reads_keep_working_when_the_whole_cache_is_down(cache_down, user_client, user):
    response = user_client.get("/api/v1/auth/me")

    assert response.status_code == 200
    assert response.json()["email"] == user.email
