"""The PostgreSQL backend's health check (bookstore/postgresql): no round trip for a healthy idle
connection, and a connection the server ended is found out and replaced before a request uses it."""

import select
import time

import pytest
from django.db import connection, connections

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def fresh():
    """A connection of its own (the test's is inside a transaction), with the health check on."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    wrapper.health_check_enabled = True
    yield wrapper
    wrapper.close()


def _spy_statements(wrapper, monkeypatch) -> list:
    """Counts the cursors the raw psycopg connection opens: the only way `is_usable` can query."""
    opened = []
    raw_cursor = wrapper.connection.cursor

    def cursor(*args, **kwargs):
        opened.append(1)
        return raw_cursor(*args, **kwargs)

    monkeypatch.setattr(wrapper.connection, "cursor", cursor)
    return opened


def test_the_settings_use_the_backend():
    assert connection.settings_dict["ENGINE"] == "bookstore.postgresql"
    assert connection.vendor == "postgresql"


def test_a_healthy_idle_connection_is_checked_without_a_query(fresh, monkeypatch):
    opened = _spy_statements(fresh, monkeypatch)

    assert fresh.is_usable() is True
    assert opened == []


def test_a_connection_in_a_transaction_is_checked_with_a_query(fresh, monkeypatch):
    fresh.connection.execute("BEGIN")
    opened = _spy_statements(fresh, monkeypatch)

    assert fresh.is_usable() is True
    assert opened == [1]
    fresh.connection.execute("ROLLBACK")


def test_a_connection_the_server_ended_is_unusable_and_replaced_before_the_next_query(fresh):
    (pid,) = fresh.connection.execute("SELECT pg_backend_pid()").fetchone()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    poller = select.poll()
    poller.register(fresh.connection.pgconn.socket, select.POLLIN)
    deadline = time.monotonic() + 10
    while not poller.poll(100) and time.monotonic() < deadline:
        pass

    assert fresh.is_usable() is False

    # What Django does at the start of a request: the check closes it, the query opens a new one.
    fresh.health_check_done = False
    with fresh.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (new_pid,) = cursor.fetchone()
    assert new_pid != pid


def test_a_closed_connection_is_unusable(fresh):
    fresh.connection.close()

    assert fresh.is_usable() is False
