"""Single-use links, unique addresses and token families under real concurrency.

Threads, each with its own connection, released together; PostgreSQL only (SQLite has no row
locks), committing for real (`transaction=True`). Every client has its own address, so the
`auth` throttle does not decide the outcome.
"""

from collections import Counter

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.services import email_verification_token_generator
from accounts.tests.factories import UserFactory
from bookstore.tests.concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"


def client(n: int) -> APIClient:
    return APIClient(REMOTE_ADDR=f"10.1.{n // 250}.{n % 250 + 1}")


def codes(response) -> list[str]:
    return [error["code"] for error in response.json()["errors"]]


def uid_of(user) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def test_a_password_reset_link_sent_ten_times_at_once_works_once():
    user = UserFactory(password=PASSWORD)
    body = {"uid": uid_of(user), "token": default_token_generator.make_token(user)}

    responses = run_together(
        [
            lambda n=n: client(n).post(
                "/api/v1/auth/password/reset/confirm", {**body, "new_password": f"brand-new-secret-{n}"}
            )
            for n in range(10)
        ]
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {204: 1, 400: 9}, statuses
    winner = next(n for n, r in enumerate(responses) if r.status_code == 204)
    user.refresh_from_db()
    assert user.check_password(f"brand-new-secret-{winner}")
    assert all(codes(r) == ["invalid_token"] for r in responses if r.status_code == 400)


def test_an_email_verification_link_sent_ten_times_at_once_works_once():
    user = UserFactory(password=PASSWORD)
    body = {"uid": uid_of(user), "token": email_verification_token_generator.make_token(user)}

    responses = run_together([lambda n=n: client(n).post("/api/v1/auth/email/verify", body) for n in range(10)])

    assert Counter(r.status_code for r in responses) == {204: 1, 400: 9}
    user.refresh_from_db()
    assert user.is_email_verified


def test_twenty_registrations_of_one_address_at_once_make_one_account():
    responses = run_together(
        [
            lambda n=n: client(n).post(
                "/api/v1/auth/register",
                # spellings of one mailbox: the address is normalised before it is compared
                {"email": "Race@Example.com" if n % 2 else "race@ＥＸＡＭＰＬＥ.com", "password": PASSWORD},
            )
            for n in range(20)
        ]
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 400: 19}, statuses
    for response in responses:
        if response.status_code == 400:
            assert response.json()["errors"] == [
                {"code": "unique", "detail": "An account with this email address already exists.", "attr": "email"}
            ]
    assert list(User.objects.values_list("email", flat=True)) == ["race@example.com"]


def test_parallel_logouts_of_one_session_give_one_204_and_never_a_500():
    user = UserFactory(password=PASSWORD)
    refresh = RefreshToken.for_user(user)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {refresh.access_token}"}

    responses = run_together(
        [lambda n=n: client(n).post("/api/v1/auth/logout", {"refresh": str(refresh)}, **auth) for n in range(10)]
    )

    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {204, 401} and statuses[204] >= 1, statuses
    assert client(99).post("/api/v1/auth/token/refresh", {"refresh": str(refresh)}).status_code == 401
    assert client(99).get("/api/v1/auth/me", **auth).status_code == 401


@pytest.mark.parametrize("trial", range(5))
def test_refreshes_and_logouts_of_one_family_racing_leave_nothing_alive_after_a_204(trial):
    """Refreshes of a token and of its rotated child race logouts of both: after any 204, the family is dead."""
    user = UserFactory(password=PASSWORD)
    root = RefreshToken.for_user(user)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {root.access_token}"}
    child = client(98).post("/api/v1/auth/token/refresh", {"refresh": str(root)}).json()["refresh"]

    def refresh(raw, n):
        return lambda: ("refresh", client(n).post("/api/v1/auth/token/refresh", {"refresh": raw}))

    def logout(raw, n):
        return lambda: ("logout", client(n).post("/api/v1/auth/logout", {"refresh": raw}, **auth))

    # logouts of the live child and of its (already rotated) parent, amid refreshes of the child
    requests = [(logout(str(root) if n == 8 else child, n) if n % 4 == 0 else refresh(child, n)) for n in range(16)]
    outcomes = run_together(requests)

    statuses = Counter((kind, r.status_code) for kind, r in outcomes)
    assert {status for _kind, status in statuses} <= {200, 204, 401}, statuses  # no 500, no 503 (deadlock)
    assert statuses[("logout", 204)] >= 1, statuses
    issued = [r.json()["refresh"] for kind, r in outcomes if kind == "refresh" and r.status_code == 200]
    for raw in [str(root), child, *issued]:
        assert client(99).post("/api/v1/auth/token/refresh", {"refresh": raw}).status_code == 401


def test_a_password_change_racing_refreshes_leaves_no_refresh_token_alive():
    user = UserFactory(password=PASSWORD)
    sessions = [RefreshToken.for_user(user) for _ in range(6)]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {sessions[0].access_token}"}

    def change():
        return (
            "change",
            client(0).post(
                "/api/v1/auth/password/change",
                {"old_password": PASSWORD, "new_password": "another-long-secret"},
                **auth,
            ),
        )

    outcomes = run_together(
        [change]
        + [
            lambda n=n: ("refresh", client(n).post("/api/v1/auth/token/refresh", {"refresh": str(sessions[n])}))
            for n in range(1, 6)
        ]
    )

    assert dict(outcomes)["change"].status_code == 204
    assert {r.status_code for _kind, r in outcomes} <= {200, 204, 401}
    issued = [r.json()["refresh"] for kind, r in outcomes if kind == "refresh" and r.status_code == 200]
    for raw in [str(s) for s in sessions] + issued:
        assert client(99).post("/api/v1/auth/token/refresh", {"refresh": raw}).status_code == 401
