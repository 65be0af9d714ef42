"""The mixed-traffic bench: shoppers browse while checkouts are placed (`make bench`, or
`bench/run.py --reuse --mixed-only`).

Browsing (the default list, a filtered list, a search and book details, cached URLs as shoppers
repeat them) runs under one wrk run per rate, at 16 connections held for the whole run, while a
separate process places checkouts of 3 lines (books among the details browsed) at 1, 5 or 20 per
second, in windows: `WINDOWS` windows of `WINDOW_SECONDS` alternately without and with sales,
starting and ending without. wrk (`bench/lua/timeline.lua`) records when each response came and how
long it took, so each window's read throughput and p99 come out of the same run, over the same
connections, seconds apart.

Why one run rather than a wrk run per phase: gunicorn's gthread workers share one listening
socket, and when wrk opens its 16 keep-alive connections one worker may take most of them and
keep them for the run, leaving the other idle. In the bench of 2026-12-03 phases with and without
sales alike came out at about half speed whenever that happened (one worker 4.5 s of CPU in a
5 s phase, the other 0.4 s), and a phase's ratio measured the draw of connections, not the sales.
Windows of one run share their connections, and the VM's slower drift, so what differs between
them is the sales.

The report gives, per app and rate, the median over sales windows of each window's read
throughput against the mean of the windows without sales on either side, the p99 without and
with sales, the machine's CPU per read (the app's, PostgreSQL's, Redis's processes, from
`/proc`) without and with sales and what each checkout added, and how many of the stock and
book row updates were HOT.
"""

import multiprocessing
import os
import statistics
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

RATES = (1, 5, 20)
CONNECTIONS = 16
WINDOW_SECONDS = 3.0
WINDOWS = 21  # 11 without sales, 10 with, alternating, starting and ending without
SETTLING = 0.5  # the start of each window left out: checkouts in flight from the window before
LEAD_IN = 2.0  # wrk's connections open and warm before the first window


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


def sales_windows(start: float) -> list[tuple[float, float, bool]]:
    """The windows from `start` (time.monotonic): (begin, end, with sales), alternately without and with."""
    return [(start + k * WINDOW_SECONDS, start + (k + 1) * WINDOW_SECONDS, k % 2 == 1) for k in range(WINDOWS)]


def _place(port: int, tokens: list[str], rate: float, start: float, body: bytes, done) -> None:
    """Places `rate` checkouts a second on a schedule (not one after the other) in each sales
    window from `start`. The process is started (an interpreter's start-up, ~0.3 s of CPU) before
    the run it loads."""
    tokens, results = iter(tokens), []
    with ThreadPoolExecutor(16) as pool:
        for begin, end, sales in sales_windows(start):
            if not sales:
                continue
            for i in range(int(rate * (end - begin))):
                time.sleep(max(0.0, begin + i / rate - time.monotonic()))
                results.append(pool.submit(_checkout, port, next(tokens), body))
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


def settle(dsn: str) -> None:
    """Starts a run as quiet as the last one: the pages the VACUUM before it dirtied are written
    first (CHECKPOINT), not during the first windows."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
    time.sleep(2.0)


def timeline_wrk(wrk_bin: str, port: int, plan: Path, seconds: float, out: Path) -> list[tuple[float, int]]:
    """One wrk run of `plan` at `CONNECTIONS` connections (one per wrk thread) for `seconds`; each
    response's arrival (seconds, time.monotonic's clock) and latency (µs)."""
    root = Path(__file__).resolve().parent
    subprocess.run(
        [wrk_bin, "-t", str(CONNECTIONS), "-c", str(CONNECTIONS), "-d", f"{seconds:.0f}s", "--timeout", "10s",
         "-s", str(root / "lua/timeline.lua"), f"http://127.0.0.1:{port}", "--", str(plan), str(CONNECTIONS),
         "0", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    responses = []
    for line in out.read_text().splitlines():
        ms, latency = line.split()
        responses.append((int(ms) / 1000, int(latency)))
    return responses


def p99(latencies: list[int]) -> float:
    return statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else 0.0


def run(args, *, wrk_bin, targets: dict, mint, plan: Path, dsn: str, fill_carts, flush_cache, analyze,
        cpu_seconds, cpu_per_request, warm, users: range, log) -> list[dict]:  # fmt: skip
    """For each target and rate, one wrk run of browsing through alternating windows without and
    with checkouts; returns one row per rate and target (see the module's docstring)."""
    body = (
        b'{"shipping_address": {"full_name": "Bench User", "line1": "1 Bench Street", "city": "Benchville", '
        b'"postal_code": "12345", "country": "US"}}'
    )
    ctx = multiprocessing.get_context("spawn")
    background = ThreadPoolExecutor(1)  # the wrk runs, while this thread samples the CPU at the windows' edges
    rows = []
    half = len(users) // 2
    seconds = LEAD_IN + WINDOWS * WINDOW_SECONDS + 0.5
    for t, (target, port) in enumerate(targets.items()):
        own = users[t * half : (t + 1) * half]
        tokens = mint(own[0], own[-1])  # each target's own, fresh: a whole run outlasts an access token's 15 min
        fill_carts(dsn, first_user=own[0], last_user=own[-1])
        analyze(dsn)
        flush_cache(args.redis_url)
        warm(port, plan)  # every browsing URL cached
        next_user = 0
        for rate in RATES:
            settle(dsn)
            needed = int(rate * WINDOW_SECONDS) * (WINDOWS // 2)
            batch = [tokens[u] for u in own[next_user : next_user + needed]]
            next_user += needed
            stats = table_stats(dsn)
            out = plan.parent / f"timeline-{target}-{rate}"
            wrk = background.submit(timeline_wrk, wrk_bin, port, plan, seconds, out)
            start = time.monotonic() + LEAD_IN
            done = ctx.Queue()
            placer = ctx.Process(target=_place, args=(port, batch, rate, start, body, done))
            placer.start()
            windows = sales_windows(start)
            cpu = []  # the machine's CPU at each window's counted start and end
            for begin, end, _ in windows:
                time.sleep(max(0.0, begin + SETTLING - time.monotonic()))
                first = cpu_seconds()
                time.sleep(max(0.0, end - time.monotonic()))
                cpu.append((first, cpu_seconds()))
            responses = wrk.result()
            placer.join(timeout=60)
            placed = done.get(timeout=5)
            after = table_stats(dsn)
            analyze(dsn)  # as autovacuum would after the writes

            counted = []
            for (begin, end, sales), (cpu_before, cpu_after) in zip(windows, cpu, strict=True):
                latencies = [lat for at, lat in responses if begin + SETTLING <= at < end]
                by_group = cpu_per_request(cpu_before, cpu_after, len(latencies))
                counted.append({
                    "sales": sales,
                    "rps": len(latencies) / (end - begin - SETTLING),
                    "latencies": latencies,
                    "cpu_ms": sum(by_group.values()),
                    "cpu_by_group": by_group,
                })  # fmt: skip
            ratios = [
                counted[k]["rps"] / ((counted[k - 1]["rps"] + counted[k + 1]["rps"]) / 2)
                for k in range(1, len(counted) - 1, 2)
            ]
            alone = [w for w in counted if not w["sales"]]
            during = [w for w in counted if w["sales"]]
            alone_rps = statistics.mean(w["rps"] for w in alone)
            during_rps = statistics.mean(w["rps"] for w in during)
            alone_cpu = statistics.median(w["cpu_ms"] for w in alone)
            during_cpu = statistics.median(w["cpu_ms"] for w in during)
            reads_during = sum(len(w["latencies"]) for w in during)
            counted_placed = placed * (WINDOW_SECONDS - SETTLING) / WINDOW_SECONDS
            row = {
                "target": target,
                "rate": rate,
                "placed": placed,
                "ratios": ratios,
                "ratio": statistics.median(ratios),
                "alone_rps": alone_rps,
                "rps": during_rps,
                "alone_p99_us": p99([lat for w in alone for lat in w["latencies"]]),
                "p99_us": p99([lat for w in during for lat in w["latencies"]]),
                "alone_cpu_ms": alone_cpu,
                "cpu_ms": during_cpu,
                "checkout_cpu_ms": (during_cpu - alone_cpu) * reads_during / counted_placed if placed else 0.0,
                "windows": [
                    {"sales": w["sales"], "rps": w["rps"], "p99_us": p99(w["latencies"]), "cpu_ms": w["cpu_by_group"]}
                    for w in counted
                ],
            }
            for table in ("catalog_book", "catalog_stock"):
                row[table] = tuple(
                    b - a for a, b in zip(stats.get(table, (0, 0)), after.get(table, (0, 0)), strict=True)
                )
            rows.append(row)
            log(f"mixed {target:4} {rate:>2} checkouts/s (placed {placed}): reads {alone_rps:7.1f} → "
                f"{during_rps:7.1f} req/s, median window {row['ratio']:.0%} "
                f"({', '.join(f'{r:.0%}' for r in ratios)}), p99 {row['alone_p99_us'] / 1000:.1f} → "
                f"{row['p99_us'] / 1000:.1f} ms, CPU per read {alone_cpu:.2f} → {during_cpu:.2f} ms, "
                f"per checkout {row['checkout_cpu_ms']:.1f} ms, book/stock updates (hot) "
                f"{row['catalog_book']} {row['catalog_stock']}")  # fmt: skip
    background.shutdown()
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
        f"a search and the details of books being sold, cached URLs, one wrk run per rate at {CONNECTIONS} "
        f"connections held throughout; checkouts of 3 lines from a separate process at the given rate, in "
        f"{WINDOWS // 2} windows of {WINDOW_SECONDS:.0f} s between {WINDOWS // 2 + 1} windows without sales "
        f"(the first {SETTLING} s of each window left out). A sales window's ratio is its read throughput over "
        "the mean of the windows on either side; the table gives the median of the rate's ratios and the "
        "mean throughputs. `VACUUM ANALYZE` after each rate's run, then a `CHECKPOINT` and a pause. *CPU per "
        "read* is the machine's (the app's, PostgreSQL's and Redis's processes, from `/proc`) per read, "
        "median over windows; *CPU added per checkout* is what the sales windows spent beyond their reads at "
        "the CPU per read without sales, over the checkouts placed in them: about what a checkout costs on "
        "its own when sales do not make reads dearer.",
        "",
        "| app | checkouts/s (placed) | reads during sales vs without (median window) | each sales window | "
        "read req/s without → with sales (means) | p99 ms without → with | CPU per read, ms, without → with | "
        "CPU added per checkout, ms | book updates (HOT) | stock updates (HOT) |",
        "|---|---:|---:|---|---|---|---|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {'Bookstore' if row['target'] == 'app' else 'bare'} | {row['rate']} ({row['placed']}) "
            f"| {row['ratio']:.0%} "
            f"| {', '.join(f'{ratio:.0%}' for ratio in row['ratios'])} "
            f"| {row['alone_rps']:.0f} → {row['rps']:.0f} "
            f"| {row['alone_p99_us'] / 1000:.1f} → {row['p99_us'] / 1000:.1f} "
            f"| {row['alone_cpu_ms']:.2f} → {row['cpu_ms']:.2f} | {row['checkout_cpu_ms']:.1f} "
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
