"""Two app servers sharing one PostgreSQL and one Redis: what must be shared is shared.

Each server is a real gunicorn process (the production configuration) on its own port.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from cart.services import cart_add_item
from catalog.tests.factories import BookFactory
from orders.models import Order
from orders.tests.factories import ADDRESS

BASE_DIR = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(tmp_path: Path) -> dict:
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))},
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "TASKS_BACKEND": "database",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "THROTTLE_RATE_AUTH": "4/min",
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": "WARNING",
    }


def _wait_until_live(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(f"{url}/health/live", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not start")


@pytest.fixture
def servers(tmp_path):
    """Two gunicorn servers on two ports, sharing the test database and the Redis cache."""
    if not settings.REDIS_URL:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("the scale-out test needs REDIS_URL")
        pytest.skip("needs REDIS_URL")
    env = _server_env(tmp_path)
    processes, urls = [], []
    try:
        for _ in range(2):
            port = _free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "bookstore.wsgi", "-c", "gunicorn.conf.py"],
                cwd=BASE_DIR,
                env={**env, "PORT": str(port), "GUNICORN_BIND": f"127.0.0.1:{port}"},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            processes.append(process)
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes, strict=True):
            _wait_until_live(url, process)
        yield urls, env
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def call(base: str, method: str, path: str, body=None, token: str | None = None, headers: dict | None = None):
    request = urllib.request.Request(
        f"{base}/api/v1/{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def test_what_must_be_shared_is_shared_across_two_servers(servers, tmp_path):
    (a, b), env = servers
    customer = UserFactory()
    staff = UserFactory(is_staff=True)
    book = BookFactory(price=Decimal("20.00"), stock=5)
    customer_refresh = RefreshToken.for_user(customer)
    customer_access = str(customer_refresh.access_token)
    staff_access = str(RefreshToken.for_user(staff).access_token)

    # An idempotency key replayed on the other server returns the same order.
    cart_add_item(user=customer, book_id=book.pk, quantity=2)
    key = {"Idempotency-Key": "scale-out-1"}
    first = call(a, "POST", "orders", {"shipping_address": ADDRESS}, customer_access, key)
    replay = call(b, "POST", "orders", {"shipping_address": ADDRESS}, customer_access, key)
    assert first[0] == replay[0] == 201
    assert replay[1]["id"] == first[1]["id"]
    assert Order.objects.filter(user=customer).count() == 1
    book.refresh_from_db()
    assert book.stock == 3

    # A staff price change on one server is visible at once on the other.
    assert call(b, "GET", f"books/{book.pk}")[1]["price"] == "20.00"
    assert call(a, "PATCH", f"books/{book.pk}", {"price": "24.50"}, staff_access)[0] == 200
    assert call(b, "GET", f"books/{book.pk}")[1]["price"] == "24.50"

    # A logout on one server refuses the access token on the other.
    assert call(b, "GET", "auth/me", token=customer_access)[0] == 200
    assert call(a, "POST", "auth/logout", {"refresh": str(customer_refresh)}, customer_access)[0] == 204
    assert call(b, "GET", "auth/me", token=customer_access)[0] == 401

    # The auth throttle (4/min here) is counted across both servers.
    statuses = [
        call(server, "POST", "auth/token", {"email": customer.email, "password": "wrong"})[0]
        for server in (a, b, a, b, a, b)
    ]
    assert statuses == [401, 401, 401, 401, 429, 429]

    # Emails queued by the servers are sent by the task workers, each exactly once, even
    # with two workers draining the queue at the same time.
    queued = DBTaskResult.objects.count()
    assert queued >= 1  # the order confirmation
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        output, _ = worker.communicate(timeout=60)
        assert worker.returncode == 0, output
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == queued
    sent = [p.read_text() for p in (tmp_path / "mail").iterdir()]
    subjects = [line for text in sent for line in text.splitlines() if line.startswith("Subject:")]
    assert len(subjects) == queued
    assert sum(first[1]["number"] in subject for subject in subjects) == 1
