"""Clients, users and the counters of queries and Redis round trips shared by every app's tests; nothing else."""

import gc
import hashlib
import os
import sqlite3
from pathlib import Path

import django
import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from bookstore.tests.clients import client_for

PASSWORD = "correct-horse-battery-staple"

# The back office's browser fixtures (`browser`, `page`, `staff`, `media_root`), for every app's browser tests.
pytest_plugins = ["bookstore.tests.browser"]


# The slow tier: fuzzers, a browser, servers in subprocesses. `make test-fast` leaves it out.
SLOW_MODULES = {
    "bookstore/tests/test_contract_fuzzing.py",
    "bookstore/tests/test_admin_browser.py",
    "backoffice/tests/test_backoffice_browser.py",
    "catalog/tests/test_admin_cover_browser.py",
    "catalog/tests/test_moderation_browser.py",
    "bookstore/tests/test_generated_client.py",
    "bookstore/tests/test_typescript_client.py",
    "bookstore/tests/test_scale_out.py",
    "bookstore/tests/test_gunicorn.py",
    "bookstore/tests/test_faults.py",
    "payments/tests/test_localstripe.py",
}


# `make test-fast` loads this profile (`--hypothesis-profile=fast`): each property test takes
# `min(its budget, hypothesis_settings.default.max_examples)` examples, so 5 there and its own budget
# in `make test` (the default profile's 100 is above every budget).
hypothesis_settings.register_profile("fast", max_examples=5)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.split("::", 1)[0] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def pytest_collection_finish(session):
    """What start-up made (Django, the apps, the collected tests: most of the heap) lives as long as
    the run: frozen out of the cyclic garbage collector, which otherwise walks it again at every full
    collection; and collections every 10,000 allocations rather than 700 (the tests make short-lived
    rows and responses by the thousand). A tenth of each worker's CPU went to the collector."""
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def pytest_runtest_setup(item):
    """`@pytest.mark.postgres` tests skip on SQLite, but fail when REQUIRE_POSTGRES=1 (CI)."""
    if item.get_closest_marker("postgres") is None:
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("this test needs PostgreSQL: set DATABASE_URL to a reachable postgres:// URL")
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...)")


def _migrations_digest() -> str:
    """A digest of every installed app's migration files and Django's version: a new or edited migration changes it."""
    digest = hashlib.sha256(django.__version__.encode())
    for app_config in apps.get_app_configs():
        for path in sorted((Path(app_config.path) / "migrations").glob("*.py")):
            digest.update(f"{app_config.label}/{path.name}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":

    @pytest.fixture(scope="session")
    def django_db_setup(request, django_test_environment, django_db_blocker):
        """SQLite: each process (xdist worker) starts from a copy of a database migrated once, not from scratch.

        The test database stays in memory; it is filled from a migrated copy kept in pytest's cache
        (`.pytest_cache`, keyed by the migration files' digest) before Django's own set-up runs
        `migrate`, which then finds every migration applied. The first run (or `--cache-clear`, or
        `-p no:cacheprovider`) migrates from scratch and keeps the copy. PostgreSQL (CI) always
        migrates from scratch: its RunSQL/RunPython operations are tested there.
        """
        from django.test.utils import setup_databases, teardown_databases

        db = settings.DATABASES["default"]
        db.setdefault("TEST", {})["NAME"] = "file:bookstore_tests?mode=memory&cache=shared"
        keeper = sqlite3.connect(db["TEST"]["NAME"], uri=True)  # keeps the in-memory database alive
        cache = getattr(request.config, "cache", None)
        copy = cache.mkdir("sqlite-migrated") / f"{_migrations_digest()}.sqlite3" if cache else None
        if copy is not None and copy.exists():
            with sqlite3.connect(copy) as source:
                source.backup(keeper)
        with django_db_blocker.unblock():
            db_cfg = setup_databases(verbosity=request.config.option.verbose, interactive=False)
        if copy is not None and not copy.exists():
            partial = copy.with_suffix(f".{os.getpid()}.partial")
            with sqlite3.connect(partial) as target:
                keeper.backup(target)
            os.replace(partial, copy)  # atomic: the other worker reads a whole copy or none
        yield
        with django_db_blocker.unblock():
            teardown_databases(db_cfg, verbosity=request.config.option.verbose)
        keeper.close()


@pytest.fixture(scope="session", autouse=True)
def _static_files_without_collectstatic():
    """Production's manifest storage needs `collectstatic`; the tests serve static files as they are."""
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}):
        yield


@pytest.fixture(scope="session", autouse=True)
def _media_outside_the_checkout(tmp_path_factory):
    """Uploaded and generated covers (seed_demo draws 300) go to a temporary folder, never to ./media."""
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Argon2 is slow by design; tests hash hundreds of passwords (one test checks Argon2 itself)."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and the token denylist live in the cache: start every test clean."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory(password=PASSWORD)


@pytest.fixture
def other_user(db):
    return UserFactory(password=PASSWORD)


@pytest.fixture
def staff_user(db):
    return UserFactory(password=PASSWORD, is_staff=True)


@pytest.fixture
def user_client(user):
    return client_for(user)


@pytest.fixture
def other_client(other_user):
    return client_for(other_user)


@pytest.fixture
def staff_client(staff_user):
    return client_for(staff_user)


@pytest.fixture
def admin_client(client, db):
    """A superuser signed in to the admin with a session, as staff use it; `admin_client.user` is them."""
    superuser = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    client.force_login(superuser)
    client.user = superuser
    return client


@pytest.fixture
def queries_of():
    """`queries_of(lambda: client.get(...))`: the SQL the request ran, without the test transaction's savepoints.

    A signed-in client's first request also reads the user's row, which is then cached
    (accounts.user_cache): warm it up with one request before counting a budget.
    """

    def run(request) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            response = request()
        assert response.status_code < 400, response.content
        return [q["sql"] for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]

    return run


@pytest.fixture
def redis_round_trips(monkeypatch):
    """Counts the Redis client's round trips (packets sent); skips unless the cache is Redis."""
    from django.core.cache import caches
    from redis.connection import AbstractConnection

    from bookstore.cache import RedisCache

    if not isinstance(caches["default"], RedisCache):
        pytest.skip("needs the Redis cache (REDIS_URL)")
    trips = []
    send = AbstractConnection.send_packed_command

    def counted(connection, command, check_health=True):
        trips.append(command)
        return send(connection, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    return trips
