"""The PostgreSQL backend's health check (bookstore/postgresql): no round trip for a healthy idle
connection, and a connection the server ended is found out and replaced before a request uses it."""

import datetime
import select
import time

import psycopg
import pytest
from django.db import connection, connections
from psycopg import pq

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


# Timestamps: psycopg's own loader, not Django's Python one


def test_timestamps_read_as_djangos_loader_reads_them(fresh):
    """Aware datetimes in UTC, to the microsecond, whatever their zone or precision when written."""
    written = [
        "2026-12-03 16:46:17.123456+00",
        "2026-12-03 18:46:17.1+02",  # another zone: the same instant, read in UTC
        "1999-01-01 00:00:00-05",  # no fraction
        "2024-02-29 23:59:59.000001+00",
    ]
    with fresh.cursor() as cursor:
        cursor.execute("SELECT v::timestamptz FROM unnest(%s::text[]) AS v", [written])
        read = [row[0] for row in cursor.fetchall()]

    assert read == [
        datetime.datetime(2026, 12, 3, 16, 46, 17, 123456, tzinfo=datetime.UTC),
        datetime.datetime(2026, 12, 3, 16, 46, 17, 100000, tzinfo=datetime.UTC),
        datetime.datetime(1999, 1, 1, 5, 0, 0, tzinfo=datetime.UTC),
        datetime.datetime(2024, 2, 29, 23, 59, 59, 1, tzinfo=datetime.UTC),
    ]
    assert {value.tzinfo for value in read} == {fresh.timezone}


def test_timestamps_are_read_by_psycopgs_own_loader(fresh):
    """Django's loader (a Python subclass of psycopg's, to set the zone) parsed every timestamp in
    Python, ten times the cost of psycopg's C loader; in a UTC session the C loader gives the same."""
    oid = psycopg.adapters.types["timestamptz"].oid
    with fresh.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(oid, pq.Format.TEXT)(oid, cursor.cursor)
        psycopgs = psycopg.adapters.get_loader(oid, pq.Format.TEXT)

    assert loader.timezone is fresh.timezone  # what Django's cursor compares: no loader of its own per cursor
    assert isinstance(loader.load.__self__, psycopgs)  # the C one, with psycopg's binary build


def test_a_session_moved_to_another_zone_reads_as_djangos_loader_did(fresh):
    """Django labels the session's wall time UTC whatever the session's zone: so does the backend."""
    with fresh.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Asia/Tokyo'")
        cursor.execute("SELECT '2026-01-01 00:00:00.5+00'::timestamptz")
        (read,) = cursor.fetchone()

    assert read == datetime.datetime(2026, 1, 1, 9, 0, 0, 500000, tzinfo=datetime.UTC)
