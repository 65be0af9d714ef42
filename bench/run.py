"""The store's benchmark: `make bench` (or `.venv/bin/python bench/run.py --help`).

1. Creates its own PostgreSQL database, runs the migrations, generates a catalog in SQL.
2. Serves the store with the production gunicorn settings (`gunicorn.conf.py`, DEBUG=0) and
   drives it with wrk at several concurrencies; then does the same with the bare baseline
   (`bench/bare.py`, same SQL with psycopg, same JSON) under the same gunicorn settings.
3. Counts the queries per request of every endpoint, checks that both answer the same bytes,
   and compares worker models and connection handling on two endpoints.
4. Prints and writes `bench/results/<date>.md` and `.png`.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import generate as gen  # noqa: E402
from bench import mixed as mixed_traffic  # noqa: E402

PG = "postgres://postgres@127.0.0.1:5432"
SECRET = "bench-secret-key-not-for-production-0123456789-abcdefghijklmnop"
APP_PORT, BARE_PORT = 8101, 8102
ADDRESS = {
    "full_name": "Bench User",
    "line1": "1 Bench Street",
    "line2": "",
    "city": "Benchville",
    "region": "",
    "postal_code": "12345",
    "country": "US",
    "phone": "",
}
# Users 1-2000 have order history; 2001-10000 add to their carts; 10001-20000 check out pre-filled carts.
ORDER_USERS, CART_USERS, CHECKOUT_USERS = (1, 2000), (2001, 10000), (10001, 20000)
# The answers both apps must give byte for byte (the order list: user 1's, with the token of user 1).
SAME_BYTES_URLS = ("/api/v1/books", "/api/v1/books/1234", "/api/v1/orders")
# What the worker-model comparison runs: a database-bound read, a Python-bound read, a write.
VARIANT_ENDPOINTS = ("book list, uncached", "book detail, uncached", "add to cart")


def log(*args):
    print(*args, flush=True)


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0:
        sys.exit("wrk is missing: sudo apt-get install -y wrk")
    log("installing wrk (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
    return shutil.which("wrk")


def server_env(args, db_url: str, **extra) -> dict:
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": db_url,
        "REDIS_URL": args.redis_url,
        "CACHE_KEY_PREFIX": "bench",
        "TASKS_BACKEND": "database",
        "MANUAL_PAYMENT_INSTRUCTIONS": "Pay by bank transfer, quoting your order number.",  # both apps answer it
        "LOG_LEVEL": "warning",
        "GUNICORN_ACCESS_LOG": "-",
        # The bench measures the throttles' round trips, not their refusals.
        "THROTTLE_RATE_ANON": "100000000/s",
        "THROTTLE_RATE_USER": "100000000/s",
        "THROTTLE_RATE_CHECKOUT": "100000000/s",
        "PYTHONPATH": str(ROOT),
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Server:
    def __init__(self, app: str, port: int, env: dict, logfile: Path):
        self.app, self.port, self.env, self.logfile = app, port, {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}, logfile

    def __enter__(self):
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(
            [gunicorn, self.app, "-c", str(ROOT / "gunicorn.conf.py")],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/books/1", timeout=5).read()
                return self
            except Exception:
                if self.proc.poll() is not None:
                    sys.exit(f"{self.app} did not start; see {self.logfile}")
                time.sleep(0.3)
        sys.exit(f"{self.app} did not answer in 60 s; see {self.logfile}")

    def __exit__(self, *exc):
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)
        self.log.close()


# Where a run's CPU goes, by process: the app's (both apps run under gunicorn), PostgreSQL's, Redis's.
CPU_GROUPS = {"gunicorn": "Python", "postgres": "PostgreSQL", "redis-server": "Redis"}
_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid, *, children: bool = False) -> tuple[str, float]:
    """A process's name and CPU seconds so far (user + system; `children`: with its ended and
    reaped children's), from `/proc/<pid>/stat`. OSError when the process is gone."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    comm, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
    ticks = fields[11:15] if children else fields[11:13]  # utime stime [cutime cstime]
    return comm, sum(int(field) for field in ticks) / _TICK


def cpu_seconds() -> dict[str, tuple[str, float]]:
    """CPU seconds used so far by each live process of `CPU_GROUPS` and its ended children (user +
    system), by pid: a gunicorn worker recycled (`max_requests`) or a PostgreSQL backend closed
    during a run counts in its parent (the gunicorn master, the postmaster, of the same group)
    once it is reaped, so a group's sum only grows."""
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            comm, seconds = process_cpu(pid, children=True)
        except OSError:
            continue
        group = next((name for prefix, name in CPU_GROUPS.items() if comm.startswith(prefix)), None)
        if group:
            found[pid] = (group, seconds)
    return found


def cpu_per_request(before: dict, after: dict, requests: int) -> dict[str, float]:
    """Milliseconds of CPU per request, by group, between two `cpu_seconds()` (both apps' processes:
    only the one under load uses any to speak of)."""
    spent = dict.fromkeys(CPU_GROUPS.values(), 0.0)
    for group, seconds in after.values():
        spent[group] += seconds
    for group, seconds in before.values():  # a process gone since is in its parent's children's time
        spent[group] -= seconds
    return {group: 1000 * seconds / max(requests, 1) for group, seconds in spent.items()}


def busiest_worker_share(before: dict, after: dict) -> float:
    """Of the CPU the app's processes (`Python`) spent between two `cpu_seconds()`, the share of
    the busiest one: about 1 / workers when they shared the work, near 1 when one did it all (the
    gthread workers share a listening socket, and a keep-alive connection stays with the worker
    that accepted it: see docs/deploy.md)."""
    spent = [seconds - before[pid][1] for pid, (group, seconds) in after.items() if group == "Python" and pid in before]
    total = sum(spent)
    return max(spent) / total if total > 0 else 0.0


def wrk(wrk_bin, port, plan: Path, connections: int, duration: int, offset: int = 0) -> dict:
    """One wrk run replaying `plan` from line `offset` (each concurrency level starts elsewhere in it),
    with the CPU each process group spent per request (`cpu_ms`; wrk's own is left out) and the
    busiest worker's share of the app's (`worker_share`)."""
    threads = min(2, connections)
    before = cpu_seconds()
    out = subprocess.run(
        [wrk_bin, "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
         "-s", str(ROOT / "bench/lua/plan.lua"), f"http://127.0.0.1:{port}", "--", str(plan), str(threads),
         str(offset)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = [text for text in out.stdout.splitlines() if text.startswith("{")][-1]
    result = json.loads(line)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = result["non2xx"] + result["socket_errors"]
    after = cpu_seconds()
    result["cpu_ms"] = cpu_per_request(before, after, result["requests"])
    result["worker_share"] = busiest_worker_share(before, after)
    return result


def write_plan(path: Path, lines) -> Path:
    with open(path, "w") as f:
        for method, url, token, body in lines:
            f.write(f"{method}\t{url}\t{token or '-'}\t{json.dumps(body) if body is not None else '-'}\n")
    return path


def setup_django(db_url, redis_url):
    os.environ.update(
        {"DJANGO_SETTINGS_MODULE": "bookstore.settings", "DATABASE_URL": db_url, "DEBUG": "0",
         "SECRET_KEY": SECRET, "REDIS_URL": redis_url, "CACHE_KEY_PREFIX": "bench-inproc",
         "TASKS_BACKEND": "database", "LOG_LEVEL": "error",
         "THROTTLE_RATE_ANON": "100000000/s", "THROTTLE_RATE_USER": "100000000/s",
         "THROTTLE_RATE_CHECKOUT": "100000000/s"}
    )  # fmt: skip
    import django

    django.setup()


def mint_tokens(first: int, last: int) -> dict[int, str]:
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User

    return {pk: str(AccessToken.for_user(User(pk=pk, is_active=True))) for pk in range(first, last + 1)}


def plans(tmp: Path, books: int, tokens: dict, search_words: tuple[str, str]) -> dict:
    import random

    rnd = random.Random(7)
    word, typo = search_words
    # In stock and active (the generator makes every 10th book sold out and one in 100 withdrawn).
    book_ids = [pk for pk in (rnd.randrange(1, books + 1) for _ in range(25000)) if pk % 10 and pk % 100 != 55]
    order_users = range(ORDER_USERS[0], ORDER_USERS[1] + 1)
    cart_users = list(range(CART_USERS[0], CART_USERS[1] + 1))
    rnd.shuffle(cart_users)
    # "uncached": every request has its own URL (an `n` parameter the store ignores), so the store's
    # response cache always misses; the bare app never caches.
    return {
        "book list, cached": write_plan(tmp / "list", [("GET", "/api/v1/books", None, None)]),
        "book list, 304": write_plan(tmp / "list304", [("GET", "/api/v1/books", "etag:-", None)]),
        "book list, uncached": write_plan(
            tmp / "list-uncached", [("GET", f"/api/v1/books?n={n}", None, None) for n in range(50000)]
        ),
        "list: category + price": write_plan(
            tmp / "filtered",
            [
                ("GET", f"/api/v1/books?category=cat-3&max_price=40&min_price=10&n={n}", None, None)
                for n in range(50000)
            ],
        ),
        "list: search": write_plan(
            tmp / "search", [("GET", f"/api/v1/books?n={n}&search={word}", None, None) for n in range(50000)]
        ),
        "list: typo search": write_plan(
            tmp / "typo", [("GET", f"/api/v1/books?n={n}&search={typo}", None, None) for n in range(50000)]
        ),
        "book detail, cached": write_plan(tmp / "detail-cached", [("GET", "/api/v1/books/1234", None, None)]),
        "book detail, uncached": write_plan(
            tmp / "detail",
            [("GET", f"/api/v1/books/{pk}?n={n}", None, None) for n, pk in enumerate(book_ids * 3)],
        ),
        "add to cart": write_plan(
            tmp / "cart",
            [
                ("POST", "/api/v1/cart/items", tokens[user], {"book_id": pk, "quantity": 1})
                for user, pk in zip(cart_users * 3, book_ids, strict=False)
            ],
        ),
        "checkout": write_plan(
            tmp / "checkout",
            [
                ("POST", "/api/v1/orders", tokens[user], {"shipping_address": ADDRESS})
                for user in range(CHECKOUT_USERS[0], CHECKOUT_USERS[1] + 1)
            ],
        ),
        "order list": write_plan(tmp / "orders", [("GET", "/api/v1/orders", tokens[u], None) for u in order_users]),
    }


def flush_cache(redis_url: str) -> None:
    """Empties the bench's Redis database: the generator and `fill_carts` write books with SQL,
    which the store's catalog cache (invalidated by the services that write, catalog.caching) cannot see."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()


def prepare(name: str, dsn: str, books: int, redis_url: str) -> None:
    """Resets the state an endpoint's run consumes: fresh carts for checkout, empty ones for adds, an
    empty cache for the uncached reads (their plans repeat URLs: a run must not read an earlier one's)."""
    if "uncached" in name:
        flush_cache(redis_url)
    if name == "checkout":
        gen.fill_carts(dsn, first_user=CHECKOUT_USERS[0], last_user=CHECKOUT_USERS[1], books=books)
        flush_cache(redis_url)  # the carts' books now have new stock levels
    elif name == "add to cart":
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                "DELETE FROM cart_cartitem USING cart_cart c WHERE cart_id = c.id AND c.user_id BETWEEN %s AND %s",
                CART_USERS,
            )


def count_django_queries(plan_files: dict, dsn: str, books: int, redis_url: str) -> dict:
    """Queries per request of each endpoint: one request through Django's test client, counted."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = {}
    client = Client()
    for name, path in plan_files.items():
        prepare(name, dsn, books, redis_url)
        with open(path) as f:
            lines = [f.readline(), f.readline()]
        lines = [line.rstrip("\n").split("\t") for line in lines if line] * 2
        for i, (method, url, token, body) in enumerate(lines[:2]):
            # The first request warms the caches; the second (another URL when the plan has one) is counted,
            # its user's row already cached (accounts.user_cache) as after any earlier request of that user.
            if token != "-" and not token.startswith("etag:"):
                client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
            if token.startswith("etag:"):
                headers = {"HTTP_IF_NONE_MATCH": client.get(url)["ETag"]}
            else:
                headers = {} if token == "-" else {"HTTP_AUTHORIZATION": f"Bearer {token}"}
            with CaptureQueriesContext(connection) as queries:
                if method == "GET":
                    response = client.get(url, **headers)
                else:
                    response = client.post(url, data=body, content_type="application/json", **headers)
            if i == 0 and name == "checkout":
                prepare(name, dsn, books, redis_url)
        statements = [q["sql"] for q in queries.captured_queries if q["sql"] not in {"BEGIN", "COMMIT"}]
        statements = [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
        counts[name] = (len(statements), response.status_code)
    return counts


def fetch(port, url, token=None) -> tuple[bytes, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{url}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read(), dict(response.headers)


def chart(results: dict, order: list, levels: list, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(levels), figsize=(6 * len(levels), 5), squeeze=False)
    axes = axes[0]
    for ax, level in zip(axes, levels, strict=True):
        ys = range(len(order))
        app = [results["app"][name][level]["rps"] for name in order]
        bare = [results["bare"][name][level]["rps"] for name in order]
        ax.barh([y + 0.2 for y in ys], bare, height=0.4, label="bare baseline", color="#bbbbbb")
        ax.barh([y - 0.2 for y in ys], app, height=0.4, label="Bookstore", color="#3366cc")
        ax.set_yticks(list(ys), order)
        ax.invert_yaxis()
        ax.set_title(f"{level} connections")
        ax.set_xlabel("requests/s")
        for y, (a, b) in enumerate(zip(app, bare, strict=True)):
            ax.text(a, y - 0.2, f" {a / b:.2f}×" if b else "", va="center", fontsize=8)
    axes[0].legend(loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--books", type=int, default=100_000, help="1000000 for the search-at-scale check")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", default="1,16,64")
    parser.add_argument("--database", default="bookstore_bench")
    parser.add_argument("--reuse", action="store_true", help="keep the database of a previous run")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--only", help="endpoint names separated by semicolons, e.g. 'book detail, uncached;checkout'")
    parser.add_argument("--no-variants", action="store_true", help="skip the worker-model comparison")
    parser.add_argument("--variants-only", action="store_true", help="only the worker-model comparison")
    parser.add_argument("--out", default=str(ROOT / "bench/results"))
    parser.add_argument(
        "--no-mixed", action="store_true", help="skip the mixed-traffic run (browsing during checkouts)"
    )
    parser.add_argument("--mixed-only", action="store_true", help="only the mixed-traffic run")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="only EXPLAIN ANALYZE the searches (with --books 1000000: search at scale)",
    )
    args = parser.parse_args()
    levels = [int(c) for c in args.connections.split(",")]
    wrk_bin = None if args.explain else ensure_wrk()  # EXPLAIN ANALYZE needs no load generator
    db_url, dsn = f"{PG}/{args.database}", f"postgresql://postgres@127.0.0.1:5432/{args.database}"
    started = time.monotonic()

    if not args.reuse:
        log(f"database {args.database}: create, migrate, generate {args.books:,} books")
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {args.database}"], check=True)
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {args.database}"], check=True)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True,
            env=server_env(args, db_url),
        )  # fmt: skip
        gen.generate(dsn, books=args.books, reviews=2 * args.books, log=log)
    setup_django(db_url, args.redis_url)
    if not args.reuse:
        gen.refresh_search_vectors(log=log)
        gen.analyze(dsn)
    log(f"data ready in {time.monotonic() - started:.0f} s")

    if args.explain:
        explain(args, started)
        return

    tokens = mint_tokens(1, 20_000)
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    plan_files = plans(tmp, args.books, tokens, ("dragon", "dragn"))
    if args.only:
        plan_files = {k: v for k, v in plan_files.items() if k in args.only.split(";")}
    flush_cache(args.redis_url)
    queries = count_django_queries(plan_files, dsn, args.books, args.redis_url)
    from django.db import connections

    connections.close_all()

    logdir = Path(tempfile.gettempdir()) / "bookstore-bench-logs"  # gunicorn output, kept out of the repository
    logdir.mkdir(parents=True, exist_ok=True)
    if args.mixed_only:
        run_mixed(args, wrk_bin, db_url, dsn, tmp, logdir)
        return
    if args.variants_only:
        report_variants(args, run_variants(args, wrk_bin, db_url, dsn, plan_files, logdir), started)
        return
    results: dict = {"app": {}, "bare": {}}
    bare_queries, same_bytes = {}, {}
    bodies: dict = {}
    targets = {"app": APP_PORT, "bare": BARE_PORT}
    # Both servers run side by side and each measurement of the store is followed at once by the
    # same one of the bare app: drift in the machine's speed hits both sides of a ratio alike.
    with (
        Server("bookstore.wsgi", APP_PORT, server_env(args, db_url), logdir / "app.log"),
        Server("bench.bare:app", BARE_PORT, server_env(args, db_url, BARE_DSN=dsn), logdir / "bare.log"),
    ):
        for target, port in targets.items():
            for url in SAME_BYTES_URLS[:2]:
                bodies[(target, url)] = fetch(port, url)[0]
            bodies[(target, "/api/v1/orders")] = fetch(port, "/api/v1/orders", tokens[1])[0]
        for name, plan in plan_files.items():
            method, url, token, _body = open(plan).readline().rstrip("\n").split("\t")
            if method == "GET":
                token = None if token == "-" or token.startswith("etag:") else token
                bare_queries[name] = int(fetch(BARE_PORT, url, token)[1]["X-Queries"])
            if name == "book list, 304":  # the ETag the store gives this list now
                etag = fetch(APP_PORT, "/api/v1/books")[1]["ETag"]
                write_plan(plan, [("GET", "/api/v1/books", f"etag:{etag}", None)])
            for target, port in targets.items():
                prepare(name, dsn, args.books, args.redis_url)
                wrk(wrk_bin, port, plan, 4, 1)  # warm-up
                results[target][name] = {}
            for level in levels:
                for target, port in targets.items():
                    prepare(name, dsn, args.books, args.redis_url)
                    # Each level replays its own part of the plan (uncached URLs stay unseen); both apps the same part.
                    r = wrk(wrk_bin, port, plan, level, args.duration, offset=5000 + 300 * level)
                    results[target][name][level] = r
                    log(f"{target:4} {name:24} c={level:<3} {r['rps']:8.1f} req/s  p50 {r['p50_us'] / 1000:7.1f} ms"
                        f"  p99 {r['p99_us'] / 1000:7.1f} ms  errors {r['errors']}  busiest worker "
                        f"{r['worker_share']:.0%}")  # fmt: skip
    for key in SAME_BYTES_URLS:
        # Only the port in the `next` links may differ.
        app_body = bodies[("app", key)]
        bare_body = bodies[("bare", key)].replace(f":{BARE_PORT}".encode(), f":{APP_PORT}".encode())
        same_bytes[key] = app_body == bare_body
        if not same_bytes[key]:  # both bodies, for `diff`: what the bare app must learn to answer
            stem = logdir / ("body" + re.sub(r"[^a-z0-9]+", "-", key.lower()).rstrip("-"))
            stem.with_suffix(".app.json").write_bytes(app_body)
            stem.with_suffix(".bare.json").write_bytes(bare_body)
            log(f"not the same bytes for {key}: diff {stem}.app.json {stem}.bare.json")
    bare_queries.setdefault("add to cart", 5)  # cart lock, book, insert, cart touch, lines
    # cart lock, lines+lock, stock, ledger, order, payment, payment event, lines, history, empty, touch, email task
    bare_queries.setdefault("checkout", 12)

    variants = [] if args.no_variants else run_variants(args, wrk_bin, db_url, dsn, plan_files, logdir)
    report(args, results, queries, bare_queries, same_bytes, variants, levels, list(plan_files), started)
    if not args.no_mixed:
        run_mixed(args, wrk_bin, db_url, dsn, tmp, logdir)


def run_mixed(args, wrk_bin, db_url, dsn, tmp, logdir) -> None:
    """Browsing alone, then while checkouts are placed, at 1, 5 and 20 per second (bench/mixed.py)."""
    users = range(CHECKOUT_USERS[0], CHECKOUT_USERS[1] + 1)
    plan = mixed_traffic.browse_plan(tmp, write_plan, args.books, users, "dragon")
    load_before = mixed_traffic.uptime()
    with (
        Server("bookstore.wsgi", APP_PORT, server_env(args, db_url), logdir / "app.log"),
        Server("bench.bare:app", BARE_PORT, server_env(args, db_url, BARE_DSN=dsn), logdir / "bare.log"),
    ):
        rows = mixed_traffic.run(
            args, wrk_bin=wrk_bin, targets={"app": APP_PORT, "bare": BARE_PORT}, mint=mint_tokens, plan=plan,
            dsn=dsn, fill_carts=lambda dsn, **kw: gen.fill_carts(dsn, books=args.books, **kw),
            flush_cache=flush_cache, analyze=vacuum_analyze, cpu_seconds=cpu_seconds,
            cpu_per_request=cpu_per_request, warm=lambda port, plan: wrk(wrk_bin, port, plan, 4, 3), users=users,
            log=log,
        )  # fmt: skip
    (logdir / "mixed-windows.json").write_text(json.dumps(rows, indent=1))  # each window's figures, to look into
    log(f"each window's figures: {logdir / 'mixed-windows.json'}")
    print("\n" + mixed_traffic.report(args, rows, machine(), load_before, mixed_traffic.uptime()))


def vacuum_analyze(dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


VARIANTS = (
    ("gthread, 2 workers × 4 threads, CONN_MAX_AGE=60 (default)", {}),
    ("gthread, 2 workers × 4 threads, DB_POOL=1", {"DB_POOL": 1}),
    ("sync, 5 workers, CONN_MAX_AGE=60", {"WEB_CONCURRENCY": 5, "GUNICORN_THREADS": 1}),
    ("sync, 5 workers, CONN_MAX_AGE=60, no health checks",
     {"WEB_CONCURRENCY": 5, "GUNICORN_THREADS": 1, "DB_CONN_HEALTH_CHECKS": 0}),
    ("sync, 5 workers, DB_POOL=1", {"WEB_CONCURRENCY": 5, "GUNICORN_THREADS": 1, "DB_POOL": 1}),
    ("sync, 3 workers, CONN_MAX_AGE=60", {"WEB_CONCURRENCY": 3, "GUNICORN_THREADS": 1}),
)  # fmt: skip


def run_variants(args, wrk_bin, db_url, dsn, plan_files, logdir) -> list[dict]:
    """The store under each worker model and connection handling, at 16 connections.

    Every run starts from an empty cache and replays its own part of the plans, so no
    configuration reads what an earlier one cached.
    """
    rows = []
    for i, (label, extra) in enumerate(VARIANTS):
        row = {"config": label}
        flush_cache(args.redis_url)
        with Server("bookstore.wsgi", APP_PORT, server_env(args, db_url, **extra), logdir / "variants.log"):
            for name in VARIANT_ENDPOINTS:
                if name in plan_files:
                    prepare(name, dsn, args.books, args.redis_url)
                    wrk(wrk_bin, APP_PORT, plan_files[name], 4, 1, offset=30000 + 2000 * i)  # warm-up
                    prepare(name, dsn, args.books, args.redis_url)
                    duration = max(5, args.duration // 2)
                    row[name] = wrk(wrk_bin, APP_PORT, plan_files[name], 16, duration, offset=32000 + 2000 * i)
        rows.append(row)
        log(f"variant {label}: " + ", ".join(f"{k} {v['rps']:.0f} req/s" for k, v in row.items() if k != "config"))
    return rows


def variants_table(variants) -> list[str]:
    lines = ["## Worker model and connections (Bookstore, 16 connections)", "",
             "| config | " + " | ".join(f"{n} req/s | p99 ms" for n in VARIANT_ENDPOINTS) + " |",
             "|---|" + "---:|---:|" * len(VARIANT_ENDPOINTS)]  # fmt: skip
    for row in variants:
        cells = [f"{row[n]['rps']:.0f} | {row[n]['p99_us'] / 1000:.1f}" for n in VARIANT_ENDPOINTS if n in row]
        lines.append(f"| {row['config']} | " + " | ".join(cells) + " |")
    return lines


def report_variants(args, variants, started) -> None:
    now = datetime.now(UTC)
    load = os.getloadavg()
    text = "\n".join(
        [f"# Worker models — {now:%Y-%m-%d %H:%M} UTC", "",
         f"**Measured on this machine**: {machine()}. Load average at the end (the bench's own processes "
         f"included): {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}. wrk, {max(5, args.duration // 2)} s per run.",
         "", *variants_table(variants)]
    ) + "\n"  # fmt: skip
    print("\n" + text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{now:%Y-%m-%d}-workers.md"
    path.write_text(text)
    log(f"wrote {path} ({(time.monotonic() - started) / 60:.1f} min)")


def explain(args, started) -> None:
    """EXPLAIN ANALYZE of the list pages and searches as the store runs them, into a results file.

    For the default and a filtered list: the statements of a first page and of page 5 as the view
    runs them (one for the default list; the ids, then those books, for a filtered one; then the
    page's authors), and the count a cache miss takes. For
    each search: the typo lookup in the word dictionary (when a word has 5+ letters), the page with
    its count (one query, as the list runs it on a count miss), the page alone (the count cached), and
    for a broad word the facets and the suggestions.
    """
    import re

    from django.contrib.auth.models import AnonymousUser
    from django.db import connection
    from django.test import RequestFactory
    from rest_framework.request import Request

    from catalog.filters import BookFilter
    from catalog.models import Book
    from catalog.search import CORRECTIONS_SQL, FACETS, SearchPlan, allowed_typos, search_page

    def list_filter(params):
        request = Request(RequestFactory().get("/api/v1/books", params))
        request.user = AnonymousUser()
        books = Book.objects.with_listing_data().defer("description").available()
        filterset = BookFilter(request.query_params, queryset=books, request=request)
        assert filterset.is_valid(), filterset.errors
        return filterset, books

    def queries(word, *, facets=False, suggest=False):
        found = []
        plan = SearchPlan.build(word, using="default")
        typo_words = [w for w in plan.words if allowed_typos(w.word)]
        if typo_words:
            found.append(
                ("typo lookup", CORRECTIONS_SQL, [list(range(len(typo_words))), [w.word for w in typo_words],
                                                  [allowed_typos(w.word) for w in typo_words], 40])
            )  # fmt: skip
        filterset, books = list_filter({"search": word})
        page = search_page(filterset.qs, 0, 20, count=True)  # as BookPagination runs it on a count miss
        found.append(("page and count", *page.query.sql_with_params()))
        found.append(("page (count cached)", *search_page(filterset.qs, 0, 20).query.sql_with_params()))
        if facets:
            found.append(("facets", *filterset.facet_sql(books, list(FACETS))))
        if suggest:
            prefix = word[: max(1, len(word) - 2)]
            suggestions = (  # as the view reads them (catalog.views.BookViewSet.suggest)
                Book.objects.available().only("id", "title", "cover", "popularity", "created_at").with_ratings()
            )
            matches = suggestions.search(prefix, postings=True)
            found.append((f"suggest `{prefix}`", *search_page(matches, 0, 8).query.sql_with_params()))
        return found

    def list_queries(params):
        """A list page as the store reads it for a shopper (a first page, page 5: the statements the
        view runs, captured, the count cached), and its count on a cache miss (the filterset's)."""
        from urllib.parse import urlencode

        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        client = Client()
        client.get("/api/v1/books", params)  # the count cached, the statements compiled
        found = []
        for n, (label, page) in enumerate((("page", {}), ("page 5", {"page": 5})), start=1):
            url = f"/api/v1/books?{urlencode({**params, **page, 'n': f'explain-{time.time_ns()}-{n}'})}"
            with CaptureQueriesContext(connection) as captured:  # its own URL: the response cache misses
                assert client.get(url).status_code == 200
            statements = [q["sql"] for q in captured.captured_queries if q["sql"] not in {"BEGIN", "COMMIT"}]
            names = ["books", "authors"] if len(statements) == 2 else ["ids", "books", "authors"]
            found += [(f"{label}: {name}", sql, None) for name, sql in zip(names, statements, strict=True)]
        filterset, _books = list_filter(params)
        with CaptureQueriesContext(connection) as counted:  # the SQL of Django's own count()
            filterset.qs.count()
        found.insert(len(found) // 2, ("count (cache miss)", counted.captured_queries[-1]["sql"], None))
        return found

    searches = {
        "default list": list_queries({}),
        "filtered list (category + price 10-40)": list_queries(
            {"category": "cat-3", "min_price": "10", "max_price": "40"}
        ),
        "broad one-word search `dragon`": queries("dragon", facets=True, suggest=True),
        "typo search `dragn`": queries("dragn"),
        "author search `okafor`": queries("okafor"),
        "two-word search `shadow river` (selective)": queries("shadow river"),
        "two typos `shadwo rievr`": queries("shadwo rievr"),
    }
    now = datetime.now(UTC)
    load = os.getloadavg()
    lines = [
        f"# Lists and search at scale — {now:%Y-%m-%d %H:%M} UTC",
        "",
        f"**Measured on this machine**: {machine()}. Load average: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}.",
        f"{Book.objects.count():,} books. Each query is one that `GET /api/v1/books` (with its filters or "
        "`search=…`) or `books/suggest` runs, with Django's SQL, warmed once, then `EXPLAIN (ANALYZE, BUFFERS)`.",
        "",
        "| read | query | database time |",
        "|---|---|---|",
    ]
    details = []
    with connection.cursor() as cursor:  # the store's own connection settings (no JIT)
        for label, found in searches.items():
            for kind, sql, params in found:
                cursor.execute(sql, params)
                cursor.fetchall()
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                took = re.search(r"Execution Time: ([0-9.]+) ms", plan)
                lines.append(f"| {label} | {kind} | {float(took.group(1)):.1f} ms |")
                details += ["", f"## {label}: {kind}", "", "```", plan, "```"]
    text = "\n".join(lines + details) + "\n"
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{now:%Y-%m-%d}-search-{args.books // 1000}k.md"
    path.write_text(text)
    log(f"wrote {path} ({(time.monotonic() - started) / 60:.1f} min)")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = int(open("/proc/meminfo").readline().split()[1]) // 1024
    except OSError:
        mem = 0
    pg = subprocess.run(["psql", f"{PG}/postgres", "-tAc", "SHOW server_version"], capture_output=True, text=True)
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:,} MB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, PostgreSQL {pg.stdout.strip()}"
    )


def report(args, results, queries, bare_queries, same_bytes, variants, levels, order, started):
    now = datetime.now(UTC)
    load = os.getloadavg()
    lines = [
        f"# Bookstore bench — {now:%Y-%m-%d %H:%M} UTC",
        "",
        f"**Measured on this machine**: {machine()}. Load average at the end: "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min; the bench's own servers and wrk included).",
        f"Data: {args.books:,} books, 10,000 authors, 500 categories, 20,000 users, ~{2 * args.books:,} reviews. "
        f"wrk, {args.duration} s per run, gunicorn.conf.py defaults (gthread, one process per core × 4 threads), "
        "DEBUG=0, Redis cache, throttles on (high rates). "
        "Bare = `bench/bare.py`, same SQL with psycopg, same gunicorn settings.",
        "The bare app never caches: on the *cached* and *304* rows its numbers are its uncached read of the same "
        "URL. *uncached* rows give every request its own URL, so the store's response cache always misses.",
        f"Run took {(time.monotonic() - started) / 60:.1f} min.",
        "",
        "| endpoint | conns | req/s | p50 ms | p99 ms | errors | bare req/s | bare p99 ms | ratio | p99 ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in order:
        for level in levels:
            a, b = results["app"][name][level], results["bare"][name][level]
            lines.append(
                f"| {name} | {level} | {a['rps']:.0f} | {a['p50_us'] / 1000:.1f} | {a['p99_us'] / 1000:.1f} | "
                f"{a['errors']} | {b['rps']:.0f} | {b['p99_us'] / 1000:.1f} | {a['rps'] / b['rps']:.2f}× | "
                f"{a['p99_us'] / max(b['p99_us'], 1):.1f}× |"
            )
    top = max(levels)
    lines += [
        "",
        f"## CPU per request at {top} connections, by process",
        "",
        "Milliseconds of CPU per request (user + system, from `/proc`) spent by the app's gunicorn "
        "processes (Python), PostgreSQL's and Redis's during the run; wrk's own is left out. On 2 "
        "cores the sum bounds the throughput: 2,000 ms / (ms per request) req/s. *Busiest worker*: its "
        "share of the app's Python CPU, 50% when the two gunicorn workers shared the work; near 100% when "
        "wrk's keep-alive connections all went to one (docs/deploy.md), which then did the work alone: "
        "that run's req/s and p99 measure the draw, its CPU per request still holds.",
        "",
        "| endpoint | Python | PostgreSQL | Redis | all | busiest worker | bare Python | bare PostgreSQL | bare all "
        "| bare busiest worker |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in order:
        run_a, run_b = results["app"][name][top], results["bare"][name][top]
        a, b = run_a["cpu_ms"], run_b["cpu_ms"]
        lines.append(
            f"| {name} | {a['Python']:.2f} | {a['PostgreSQL']:.2f} | {a['Redis']:.2f} | {sum(a.values()):.2f} "
            f"| {run_a['worker_share']:.0%} | {b['Python']:.2f} | {b['PostgreSQL']:.2f} | {sum(b.values()):.2f} "
            f"| {run_b['worker_share']:.0%} |"
        )
    lines += ["", "## Queries per request", "", "| endpoint | Bookstore | bare | status |", "|---|---:|---:|---:|"]
    for name in order:
        count, status = queries[name]
        lines.append(f"| {name} | {count} | {bare_queries.get(name, '')} | {status} |")
    lines += [
        "",
        "Same response bytes as the bare app: "
        + ", ".join(f"`{k}` {'yes' if v else 'NO'}" for k, v in same_bytes.items())
        + ". Searches are not compared: the bare app's search is a lower bound (exact words, `ts_rank`), "
        "without the store's typo lookup, prefix, relaxing and ranking.",
    ]
    if variants:
        lines += ["", *variants_table(variants)]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{now:%Y-%m-%d}" + ("" if args.books == 100_000 else f"-{args.books // 1000}k")
    (out / f"{stem}.md").write_text(text)
    chart(results, order, levels, out / f"{stem}.png", f"Bookstore vs bare baseline, {now:%Y-%m-%d} (this machine)")
    log(f"wrote {out / stem}.md and .png")


if __name__ == "__main__":
    main()
