"""Django's PostgreSQL backend with a health check that costs no round trip, and timestamps read in C.

With `CONN_HEALTH_CHECKS`, Django checks a persistent connection before the first query of every
request; its PostgreSQL backend does so with `SELECT 1`: one more round trip on every request,
which the query counts do not show (on the bench's book detail, a third of its PostgreSQL round
trips). A connection the server has ended (a restart, `idle_session_timeout`, an administrator's
`pg_terminate_backend`, a proxy's idle timeout) is told by its socket: the server's last message
or the end of the stream is waiting to be read, where an idle, healthy connection has nothing.
So the check asks the socket, without sending anything; only when something is waiting, or the
connection is not idle, does it fall back to Django's `SELECT 1`. A connection lost without a
word (a silent network partition) fails its first query either way, as `SELECT 1` would.

Django reads every `timestamptz` with a Python subclass of psycopg's loader, to label each value
with the connection's zone: the text is parsed in Python, ten times the C loader's cost. In a
session whose zone is UTC (Django sets the session's zone to the connection's) psycopg's own C
loader gives the same value, which `UtcTimestamptzLoader` uses.
"""

import datetime
import select
from typing import cast

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq
from psycopg.adapt import Loader

_TIMESTAMPTZ = psycopg.adapters.types["timestamptz"].oid
# psycopg's own (always registered; its C one with the binary build)
_PSYCOPG_TIMESTAMPTZ_LOADER = cast("type[Loader]", psycopg.adapters.get_loader(_TIMESTAMPTZ, pq.Format.TEXT))


class UtcTimestamptzLoader(Loader):
    """Django's UTC loader, by psycopg's own (which cannot be subclassed): its `timezone` is what
    Django's cursor compares before it registers a loader of its own. Django labels the session's
    wall time UTC; in a UTC session psycopg's value is that already."""

    timezone = datetime.UTC

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        load = _PSYCOPG_TIMESTAMPTZ_LOADER(oid, context).load
        if self.connection is not None and self.connection.info.parameter_status("TimeZone") == "UTC":
            self.load = load  # type: ignore[method-assign]
        else:  # the session's zone was changed (SET TIME ZONE): as Django's loader
            self.load = lambda data: load(data).replace(tzinfo=datetime.UTC)  # type: ignore[method-assign]

    def load(self, data):  # replaced on each instance
        raise NotImplementedError


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if self.timezone is datetime.UTC:  # Django's zone, which it sets as the session's
            connection.adapters.register_loader(_TIMESTAMPTZ, UtcTimestamptzLoader)
        return connection

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        pgconn = connection.pgconn
        if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return super().is_usable()
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        if poller.poll(0):  # the server said something (or hung up) while nobody asked
            return super().is_usable()
        return True
