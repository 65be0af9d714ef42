"""Django's PostgreSQL backend with a health check that costs no round trip.

With `CONN_HEALTH_CHECKS`, Django checks a persistent connection before the first query of every
request; its PostgreSQL backend does so with `SELECT 1`: one more round trip on every request,
which the query counts do not show (on the bench's book detail, a third of its PostgreSQL round
trips). A connection the server has ended (a restart, `idle_session_timeout`, an administrator's
`pg_terminate_backend`, a proxy's idle timeout) is told by its socket: the server's last message
or the end of the stream is waiting to be read, where an idle, healthy connection has nothing.
So the check asks the socket, without sending anything; only when something is waiting, or the
connection is not idle, does it fall back to Django's `SELECT 1`. A connection lost without a
word (a silent network partition) fails its first query either way, as `SELECT 1` would.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
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
