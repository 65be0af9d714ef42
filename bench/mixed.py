"""The mixed-traffic bench: shoppers browse while checkouts are placed (`make bench`, or
`bench/run.py --reuse --mixed-only`).

Browsing (the default list, a filtered list, a search and book details, at 16 connections,
cached URLs as shoppers repeat them) runs under wrk while a separate process places checkouts at
a fixed rate (0, 1, 5 and 20 per second), each of 3 lines whose books are among the details
browsed. The read throughput and p99 of each rate are set against the no-sales run, for the store
and the bare app, and the bench reports how many of the stock and book row updates were HOT.
"""

import multiprocessing
import os
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

RATES = (0, 1, 5, 20)
CONNECTIONS = 16


def _checkout(port: int, token: str, body: bytes) -> bool:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/orders",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status == 201
    except Exception:
        return False


def _place(port: int, tokens: list[str], rate: float, duration: float, body: bytes, done) -> None:
    """Places `rate` checkouts a second for `duration` seconds, on a schedule (not one after the other)."""
    start, results = time.monotonic(), []
    with ThreadPoolExecutor(16) as pool:
        for i, token in enumerate(tokens):
            due = start + i / rate
            if due - start >= duration:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            results.append(pool.submit(_checkout, port, token, body))
    done.put(sum(f.result() for f in results))


def browse_plan(tmp: Path, write_plan, books: int, checkout_users: range, word: str) -> Path:
    sold = [1 + (user * 7 + k * 9973) % books for user in checkout_users[:40] for k in range(3)]
    lines = []
    for i in range(400):
        kind = i % 4
        if kind == 0:
            lines.append(("GET", f"/api/v1/books?page={1 + i % 5}", None, None))
        elif kind == 1:
            lines.append(
                ("GET", f"/api/v1/books?category=cat-3&max_price=40&min_price=10&page={1 + i % 3}", None, None)
            )
        elif kind == 2:
            lines.append(("GET", f"/api/v1/books?search={word}&page={1 + i % 2}", None, None))
        else:
            lines.append(("GET", f"/api/v1/books/{sold[i % len(sold)]}", None, None))
    return write_plan(tmp / "browse", lines)


def table_stats(dsn: str) -> dict:
    import psycopg

    time.sleep(1.5)  # the statistics of the last transactions reach the view
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
            "WHERE relname IN ('catalog_book', 'catalog_stock')"
        ).fetchall()
    return {name: (upd, hot) for name, upd, hot in rows}


def run(
    args,
    *,
    wrk,
    wrk_bin,
    targets: dict,
    tokens: dict,
    plan: Path,
    dsn: str,
    fill_carts,
    flush_cache,
    analyze,
    users: range,
    log,
) -> list[dict]:
    """For each target, each rate: browsing under wrk while checkouts are placed; returns the rows."""
    body = (
        b'{"shipping_address": {"full_name": "Bench User", "line1": "1 Bench Street", "city": "Benchville", '
        b'"postal_code": "12345", "country": "US"}}'
    )
    ctx = multiprocessing.get_context("spawn")
    rows = []
    half = len(users) // 2
    for t, (target, port) in enumerate(targets.items()):
        own = users[t * half : (t + 1) * half]
        fill_carts(dsn, first_user=own[0], last_user=own[-1])
        analyze(dsn)
        flush_cache(args.redis_url)
        wrk(wrk_bin, port, plan, 4, 3)  # warm-up: every browsing URL cached
        next_user = 0
        for rate in RATES:
            stats = table_stats(dsn)
            placer, done = None, ctx.Queue()
            if rate:
                batch = [tokens[u] for u in own[next_user : next_user + int(rate * args.duration) + 5]]
                next_user += len(batch)
                placer = ctx.Process(target=_place, args=(port, batch, rate, args.duration, body, done))
                placer.start()
            r = wrk(wrk_bin, port, plan, CONNECTIONS, args.duration, offset=100 * rate)
            placed = 0
            if placer is not None:
                placer.join(timeout=60)
                placed = done.get(timeout=5)
            after = table_stats(dsn)
            row = {
                "target": target,
                "rate": rate,
                "placed": placed,
                **{k: r[k] for k in ("rps", "p50_us", "p99_us", "errors")},
            }
            for table in ("catalog_book", "catalog_stock"):
                row[table] = tuple(
                    b - a for a, b in zip(stats.get(table, (0, 0)), after.get(table, (0, 0)), strict=True)
                )
            rows.append(row)
            log(f"mixed {target:4} {rate:>2} checkouts/s (placed {placed}): {r['rps']:8.1f} req/s  "
                f"p99 {r['p99_us'] / 1000:7.1f} ms  errors {r['errors']}  book/stock updates (hot) "
                f"{row['catalog_book']} {row['catalog_stock']}")  # fmt: skip
            analyze(dsn)  # as autovacuum would after the writes
    return rows


def report(args, rows: list[dict], machine: str, load_before: str, load_after: str) -> str:
    now = datetime.now(UTC)
    base = {row["target"]: row for row in rows if row["rate"] == 0}
    lines = [
        f"# Mixed traffic — {now:%Y-%m-%d %H:%M} UTC",
        "",
        f"**Measured on this machine**: {machine}. `uptime` before: {load_before}; after: {load_after}. "
        "The machine is shared with other engineers' test runs and benches: the absolute figures are "
        "under that load; store and bare app ran in the same minutes and compare with each other.",
        "",
        f"{args.books:,} books. Browsing: the default list (pages 1-5), a filtered list (category + price), "
        f"a search and the details of books being sold, cached URLs, wrk at {CONNECTIONS} connections, "
        f"{args.duration} s per run; checkouts of 3 lines from a separate process at the given rate. "
        "`VACUUM ANALYZE` after each write phase.",
        "",
        "| app | checkouts/s (placed) | read req/s | vs no sales | p50 ms | p99 ms | p99 vs no sales "
        "| book updates (HOT) | stock updates (HOT) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        b = base[row["target"]]
        lines.append(
            f"| {'Bookstore' if row['target'] == 'app' else 'bare'} | {row['rate']} ({row['placed']}) "
            f"| {row['rps']:.0f} | {row['rps'] / b['rps']:.0%} | {row['p50_us'] / 1000:.1f} "
            f"| {row['p99_us'] / 1000:.1f} | {row['p99_us'] / b['p99_us']:.2f}× "
            f"| {row['catalog_book'][0]} ({row['catalog_book'][1]}) "
            f"| {row['catalog_stock'][0]} ({row['catalog_stock'][1]}) |"
        )
    text = "\n".join(lines) + "\n"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{now:%Y-%m-%d}-mixed.md").write_text(text)
    return text


def uptime() -> str:
    return os.popen("uptime").read().strip()
