"""The mixed-traffic bench: shoppers browse while checkouts are placed (`make bench`, or
`bench/run.py --reuse --mixed-only`).

Browsing (the default list, a filtered list, a search and book details, at 16 connections,
cached URLs as shoppers repeat them) runs under wrk while a separate process places checkouts at
a fixed rate (1, 5 and 20 per second), each of 3 lines whose books are among the details browsed.
Each sales phase lies between two phases of browsing alone, and its read throughput and p99 are
set against their mean (`ROUNDS` per rate: a shared VM's speed drifts over minutes more than
the sales cost), for the store and the bare app; the bench reports how many of
the stock and book row updates were HOT.
"""

import multiprocessing
import os
import statistics
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

RATES = (1, 5, 20)
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


def _place(port: int, tokens: list[str], rate: float, duration: float, body: bytes, go, done) -> None:
    """Places `rate` checkouts a second for `duration` seconds, on a schedule (not one after the other),
    from the moment `go` is set: the process is started (an interpreter's start-up, ~0.3 s of CPU)
    before the phase it loads, not inside it."""
    go.wait()
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


SETTLE_SECONDS = 2.0


def settle(dsn: str) -> None:
    """Lets a browsing-alone phase start as quiet as a sales phase does (whose placer starts ~2.5 s
    before it): the VACUUM just run leaves dirty pages that PostgreSQL would write during the
    phase, so they are written first (CHECKPOINT), then a pause. Without it, the phases alone ran
    in the VACUUM's wake and the sales phases, set against them, looked faster than they were."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
    time.sleep(SETTLE_SECONDS)


ROUNDS = 5  # sales phases per rate, each between two phases of browsing alone (a VM this noisy needs a median of five)


def phase_seconds(args) -> int:
    """How long each phase runs: half a main-bench run (`--duration`), at least 2 s."""
    return max(2, args.duration // 2)


def run(
    args,
    *,
    wrk,
    wrk_bin,
    targets: dict,
    mint,
    plan: Path,
    dsn: str,
    fill_carts,
    flush_cache,
    analyze,
    users: range,
    log,
) -> list[dict]:
    """For each target and rate, `ROUNDS` sales phases (browsing under wrk while checkouts are
    placed), each between two phases of browsing alone; returns one row per sales phase.

    Each sales phase is set against the mean of the phases just before and after it, so that the
    drift of a shared VM's speed over minutes does not pass for the cost of the sales; the report
    takes the median of each rate's ratios.
    """
    body = (
        b'{"shipping_address": {"full_name": "Bench User", "line1": "1 Bench Street", "city": "Benchville", '
        b'"postal_code": "12345", "country": "US"}}'
    )
    ctx = multiprocessing.get_context("spawn")
    duration = phase_seconds(args)
    rows = []
    half = len(users) // 2
    for t, (target, port) in enumerate(targets.items()):
        own = users[t * half : (t + 1) * half]
        tokens = mint(own[0], own[-1])  # each target's own, fresh: a whole run outlasts an access token's 15 min
        fill_carts(dsn, first_user=own[0], last_user=own[-1])
        analyze(dsn)
        flush_cache(args.redis_url)
        wrk(wrk_bin, port, plan, 4, 3)  # warm-up: every browsing URL cached
        next_user = 0
        for rate in RATES:
            settle(dsn)
            before = wrk(wrk_bin, port, plan, CONNECTIONS, duration)
            for round_ in range(ROUNDS):
                batch = [tokens[u] for u in own[next_user : next_user + rate * duration + 5]]
                next_user += len(batch)
                go, done = ctx.Event(), ctx.Queue()
                placer = ctx.Process(target=_place, args=(port, batch, rate, duration, body, go, done))
                placer.start()
                time.sleep(1.0)  # the placer's interpreter starts and waits
                stats = table_stats(dsn)
                go.set()
                r = wrk(wrk_bin, port, plan, CONNECTIONS, duration, offset=100 * round_)
                placer.join(timeout=60)
                placed = done.get(timeout=5)
                after = table_stats(dsn)
                analyze(dsn)  # as autovacuum would after the writes
                settle(dsn)
                then = wrk(wrk_bin, port, plan, CONNECTIONS, duration, offset=100 * (round_ + 1))
                alone = {key: (before[key] + then[key]) / 2 for key in ("rps", "p99_us")}
                # Machine CPU (the app's, PostgreSQL's, Redis's processes) per read alone, and what
                # each checkout added to it during sales: what the sales cost, whatever the VM's speed.
                alone_cpu = (sum(before["cpu_ms"].values()) + sum(then["cpu_ms"].values())) / 2
                during_cpu = sum(r["cpu_ms"].values())
                per_checkout = (during_cpu - alone_cpu) * r["requests"] / placed if placed else 0.0
                before = then
                row = {
                    "target": target,
                    "rate": rate,
                    "round": round_,
                    "placed": placed,
                    "alone_rps": alone["rps"],
                    "alone_p99_us": alone["p99_us"],
                    "alone_cpu_ms": alone_cpu,
                    "cpu_ms": during_cpu,
                    "checkout_cpu_ms": per_checkout,
                    **{k: r[k] for k in ("rps", "p50_us", "p99_us", "errors")},
                }
                for table in ("catalog_book", "catalog_stock"):
                    row[table] = tuple(
                        b - a for a, b in zip(stats.get(table, (0, 0)), after.get(table, (0, 0)), strict=True)
                    )
                rows.append(row)
                log(f"mixed {target:4} {rate:>2} checkouts/s round {round_} (placed {placed}): alone "
                    f"{alone['rps']:8.1f} req/s, during sales {r['rps']:8.1f} req/s ({r['rps'] / alone['rps']:.0%})  "
                    f"p99 {r['p99_us'] / 1000:7.1f} ms  errors {r['errors']}  CPU per read {alone_cpu:.2f} → "
                    f"{during_cpu:.2f} ms, per checkout {per_checkout:.1f} ms  book/stock updates (hot) "
                    f"{row['catalog_book']} {row['catalog_stock']}")  # fmt: skip
    return rows


def report(args, rows: list[dict], machine: str, load_before: str, load_after: str) -> str:
    now = datetime.now(UTC)
    lines = [
        f"# Mixed traffic — {now:%Y-%m-%d %H:%M} UTC",
        "",
        f"**Measured on this machine**: {machine}. `uptime` before: {load_before}; after: {load_after}. "
        "Store and bare app ran in the same minutes and compare with each other.",
        "",
        f"{args.books:,} books. Browsing: the default list (pages 1-5), a filtered list (category + price), "
        f"a search and the details of books being sold, cached URLs, wrk at {CONNECTIONS} connections; "
        f"checkouts of 3 lines from a separate process (started before its phase) at the given rate. For each "
        f"rate, {ROUNDS} sales phases of {phase_seconds(args)} s, each between two phases of browsing "
        "alone; a sales phase's ratio is its read throughput over the mean of its neighbours', and the table "
        "gives the median of the rate's ratios. `VACUUM ANALYZE` after each sales phase, then a `CHECKPOINT` "
        "and a pause before the next phase alone. *CPU per read* is the machine's (the app's, PostgreSQL's and "
        "Redis's processes, from `/proc`) per read request, medians; *CPU added per checkout* is what the "
        "sales phase spent beyond its reads at the CPU per read alone, over the checkouts placed: about what a "
        "checkout costs on its own when sales do not make reads dearer.",
        "",
        "| app | checkouts/s (placed) | reads during sales vs alone (median) | each sales phase | read req/s alone "
        "→ during (the median phase) | p99 ms alone → during | CPU per read, ms, alone → during | CPU added per "
        "checkout, ms | book updates (HOT) | stock updates (HOT) |",
        "|---|---:|---:|---|---|---|---|---:|---:|---:|",
    ]
    groups: dict[tuple[str, int], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["target"], row["rate"]), []).append(row)
    for (target, rate), group in groups.items():
        by_ratio = sorted(group, key=lambda row: row["rps"] / row["alone_rps"])
        mid = by_ratio[len(by_ratio) // 2]
        ratios = ", ".join(f"{row['rps'] / row['alone_rps']:.0%}" for row in group)
        book = [sum(row["catalog_book"][i] for row in group) for i in (0, 1)]
        stock = [sum(row["catalog_stock"][i] for row in group) for i in (0, 1)]
        alone_cpu, during_cpu, per_checkout = (
            statistics.median(row[key] for row in group) for key in ("alone_cpu_ms", "cpu_ms", "checkout_cpu_ms")
        )
        lines.append(
            f"| {'Bookstore' if target == 'app' else 'bare'} | {rate} ({sum(row['placed'] for row in group)}) "
            f"| {mid['rps'] / mid['alone_rps']:.0%} "
            f"| {ratios} "
            f"| {mid['alone_rps']:.0f} → {mid['rps']:.0f} "
            f"| {mid['alone_p99_us'] / 1000:.1f} → {mid['p99_us'] / 1000:.1f} "
            f"| {alone_cpu:.2f} → {during_cpu:.2f} | {per_checkout:.1f} "
            f"| {book[0]} ({book[1]}) | {stock[0]} ({stock[1]}) |"
        )
    text = "\n".join(lines) + "\n"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{now:%Y-%m-%d}-mixed.md").write_text(text)
    return text


def uptime() -> str:
    return os.popen("uptime").read().strip()
