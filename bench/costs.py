"""Deterministic costs of the write paths and the uncached detail, in one process (no load dependence).

    .venv/bin/python bench/costs.py --database bookstore_bench [--requests 200] [--top 25]

Runs against a database `bench/run.py` generated (`--reuse` data), through Django's test client
with the bench's settings (DEBUG=0, Redis cache, TASKS_BACKEND=database). For each endpoint:
SQL statements, Redis round trips and commands, and Python function calls per request (cProfile's
call count, which does not depend on the machine's load), then the functions with the most own
time (that part does depend on it: compare the call counts).
"""

import argparse
import cProfile
import io
import pstats
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run as bench  # noqa: E402


class RedisCounter:
    """Counts the client's round trips (packets sent) and commands."""

    def __init__(self):
        from redis.connection import AbstractConnection

        self.trips = self.commands = 0
        cls = AbstractConnection
        send, pack, pack_many = cls.send_packed_command, cls.pack_command, cls.pack_commands

        def send_packed_command(conn, command, check_health=True):
            self.trips += 1
            return send(conn, command, check_health)

        def pack_command(conn, *args):
            self.commands += 1
            return pack(conn, *args)

        def pack_commands(conn, commands):
            self.commands += len(commands)
            return pack_many(conn, commands)

        cls.send_packed_command, cls.pack_command, cls.pack_commands = send_packed_command, pack_command, pack_commands


def requests_for(name: str, tokens: dict, n: int, offset: int):
    import random

    rnd = random.Random(11 + offset)
    books = [pk for pk in (rnd.randrange(1, 20_000) for _ in range(4 * n)) if pk % 10 and pk % 100 != 55]
    if name == "book detail, uncached":
        return [("GET", f"/api/v1/books/{pk}?p={offset}-{i}", None, None) for i, pk in enumerate(books[:n])]
    if name == "book list, uncached":  # the default list's first page, a URL of its own each time
        return [("GET", f"/api/v1/books?n={offset}-{i}", None, None) for i in range(n)]
    if name == "add to cart":
        users = range(bench.CART_USERS[0] + offset, bench.CART_USERS[0] + offset + n)
        return [
            ("POST", "/api/v1/cart/items", tokens[u], {"book_id": pk, "quantity": 1})
            for u, pk in zip(users, books, strict=False)
        ]
    if name == "checkout":
        users = range(bench.CHECKOUT_USERS[0] + offset, bench.CHECKOUT_USERS[0] + offset + n)
        return [("POST", "/api/v1/orders", tokens[u], {"shipping_address": bench.ADDRESS}) for u in users]
    raise ValueError(name)


def send(client, method, url, token, body):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if method == "GET":
        return client.get(url, **headers)
    return client.post(url, data=body, content_type="application/json", **headers)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="bookstore_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--books", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--only", help="endpoint names separated by semicolons")
    args = parser.parse_args()
    db_url = f"{bench.PG}/{args.database}"
    dsn = f"postgresql://postgres@127.0.0.1:5432/{args.database}"
    bench.setup_django(db_url, args.redis_url)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    tokens = bench.mint_tokens(1, 20_000)
    names = ["book detail, uncached", "book list, uncached", "add to cart", "checkout"]
    if args.only:
        names = [name for name in names if name in args.only.split(";")]
    redis_counter = RedisCounter()
    for name in names:
        bench.prepare(name, dsn, args.books, args.redis_url)
        bench.flush_cache(args.redis_url)
        client = Client()
        for request in requests_for(name, tokens, 20, 0):  # warm-up: imports, connections, user rows
            send(client, *request)
        for request in requests_for(name, tokens, args.requests, 20):  # users' rows cached, as after earlier requests
            if request[2]:
                client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {request[2]}")
        plan = requests_for(name, tokens, args.requests, 20)
        redis_counter.trips = redis_counter.commands = 0
        profiler = cProfile.Profile()
        statuses = set()
        with CaptureQueriesContext(connection) as queries:
            profiler.enable()
            for request in plan:
                statuses.add(send(client, *request).status_code)
            profiler.disable()
        sql = [q["sql"] for q in queries.captured_queries]
        sql = [s for s in sql if s not in {"BEGIN", "COMMIT"} and not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
        stats = pstats.Stats(profiler)
        n = len(plan)
        print(f"\n## {name} ({n} requests, statuses {sorted(statuses)})\n")
        print(f"- SQL statements per request: {len(sql) / n:.2f}")
        trips, commands = redis_counter.trips / n, redis_counter.commands / n
        print(f"- Redis round trips per request: {trips:.2f} ({commands:.2f} commands)")
        print(f"- Python function calls per request: {stats.total_calls / n:,.0f}")  # type: ignore[attr-defined]
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
        print("\n```\n" + "\n".join(out.getvalue().splitlines()[6:]) + "\n```")


if __name__ == "__main__":
    main()
