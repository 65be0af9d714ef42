"""CPU per request of one endpoint, in-process, and where it goes (cProfile).

Runs the store's WSGI application directly (no gunicorn, no sockets) against the bench
database of a previous `make bench` run, with the bench's production-like environment:

    .venv/bin/python bench/cpu.py GET /api/v1/books/1234
    .venv/bin/python bench/cpu.py POST /api/v1/cart/items '{"book_id": {n}, "quantity": 1}' --user 2001 --users 5000
    .venv/bin/python bench/cpu.py GET /api/v1/orders --user 1 --top 40 --sort cumulative

It prints the mean CPU time per request (process time, so other load on the machine matters
little), the queries per request, and the top functions of a profile.
"""

import argparse
import collections
import cProfile
import io
import json
import os
import pstats
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402


def environ(method: str, url: str, body: bytes, token: str | None, etag: str | None) -> dict:
    path, _, query = url.partition("?")
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": str(run.APP_PORT),
        "HTTP_HOST": f"127.0.0.1:{run.APP_PORT}",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        "CONTENT_LENGTH": str(len(body)),
    }
    if body:
        env["CONTENT_TYPE"] = "application/json"
    if token:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if etag:
        env["HTTP_IF_NONE_MATCH"] = etag
    return env


def by_package(profiler) -> str:
    """Own time (cProfile's tottime, wall clock: waits on PostgreSQL and Redis count) summed by package."""
    shares: collections.Counter = collections.Counter()
    for (path, _line, _name), (_cc, _nc, own, _cum, _callers) in pstats.Stats(profiler).stats.items():
        if match := re.search(r"site-packages/(django/db/models|django|rest_framework|[^/]+)/", path):
            package = match.group(1)
        elif str(ROOT) in path:
            package = "bookstore (this project)"
        elif path.startswith("~"):
            package = "builtins (getattr, isinstance, ...)"
        else:
            package = "standard library"
        shares[package] += own
    total = sum(shares.values())
    return "\n".join(f"{own / total:6.1%}  {package}" for package, own in shares.most_common(12))


def endpoint_parser(description: str) -> argparse.ArgumentParser:
    """The arguments of an in-process measure of one endpoint (this script's, bench/instructions.py's)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("method")
    parser.add_argument("url", help="a path and query; `{n}` is replaced by the request's number (uncached reads)")
    parser.add_argument("body", nargs="?", default="", help="JSON body; `{n}` is replaced as in the url")
    parser.add_argument("--user", type=int, help="authenticate as this user id (bench users: 1-20000)")
    parser.add_argument("--users", type=int, default=1, help="rotate through this many users from --user on")
    parser.add_argument("--database", default="bookstore_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    return parser


def send(app, args, n: int, token: str | None, etag: str | None, start_response) -> None:
    """Request number `n` of `args`' endpoint through the WSGI `app`, its answer read to the end."""
    url = args.url.replace("{n}", str(n))
    body = args.body.replace("{n}", str(n)).encode()
    result = app(environ(args.method, url, body, token, etag), start_response)
    b"".join(result)
    if hasattr(result, "close"):
        result.close()


def main():
    parser = endpoint_parser(__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--start", type=int, default=100, help="first `{n}` of the measured requests")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    parser.add_argument("--save", help="also write the profile to this file (pstats format)")
    parser.add_argument("--etag", action="store_true", help="send If-None-Match with the first answer's ETag")
    parser.add_argument(
        "--cpu-timer",
        action="store_true",
        help="profile in CPU time (time.process_time), not wall time: waits on PostgreSQL and Redis drop out",
    )
    args = parser.parse_args()

    run.setup_django(f"{run.PG}/{args.database}", args.redis_url)
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    app = get_wsgi_application()
    tokens = run.mint_tokens(args.user, args.user + args.users - 1) if args.user else {}
    statuses: dict[str, int] = {}

    def start_response(status, headers, exc_info=None):
        statuses[status] = statuses.get(status, 0) + 1
        return lambda data: None

    def call(n: int, etag: str | None = None) -> dict:
        captured = {}

        def keep(status, headers, exc_info=None):
            captured.update(headers)
            return start_response(status, headers, exc_info)

        token = tokens[args.user + n % args.users] if tokens else None
        send(app, args, n, token, etag, keep)
        return captured

    etag = call(0).get("ETag") if args.etag else None
    for n in range(1, 21):  # warm up: imports, connections, caches
        call(n, etag)
    with CaptureQueriesContext(connection) as queries:
        call(21, etag)
    statements = [q["sql"] for q in queries.captured_queries]
    statements = [s for s in statements if s not in {"BEGIN", "COMMIT"} and "SAVEPOINT" not in s]

    statuses.clear()
    started = time.process_time()
    first = args.start
    for n in range(first, first + args.requests):
        call(n, etag)
    per_request = (time.process_time() - started) / args.requests * 1000

    profiler = cProfile.Profile(time.process_time) if args.cpu_timer else cProfile.Profile()
    profiler.enable()
    for n in range(first + args.requests, first + 2 * args.requests):
        call(n, etag)
    profiler.disable()

    if args.save:
        profiler.dump_stats(args.save)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())
    print(by_package(profiler))
    print(json.dumps(statuses))
    print(f"{len(statements)} queries per request:")
    for sql in statements:
        print("   ", sql[:160])
    print(f"{per_request:.2f} ms CPU per request (without the profiler, {args.requests} requests, pid {os.getpid()})")


if __name__ == "__main__":
    main()
