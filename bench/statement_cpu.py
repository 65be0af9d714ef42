"""PostgreSQL's CPU for one of the store's statements, planned on every run against prepared once.

Runs the book detail's two statements (as `catalog.reads` compiles them) against the bench
database of a previous `make bench` run, on one connection per mode, and reads that backend's
CPU time from `/proc` (PostgreSQL on this machine), so the figures hold whatever else the
machine does:

    .venv/bin/python bench/statement_cpu.py --runs 4000
    .venv/bin/python bench/statement_cpu.py --lists --runs 2000

"planned" is Django's default (psycopg's `prepare_threshold=None`); "prepared" is what
`bookstore.compiled` does for the hot paths' key lookups (`prepare=True`). With `--lists`, the
book list's first page instead, unfiltered and by price: "planned" with its constants and page
bound as parameters, "prepared" as `prepare_pages=True` runs it (a literal statement per page).
"""

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=4000)
    parser.add_argument("--database", default="bookstore_bench")
    parser.add_argument("--books", type=int, default=100_000)
    parser.add_argument("--lists", action="store_true", help="the list's first pages, not the detail")
    args = parser.parse_args()
    run.setup_django(f"{run.PG}/{args.database}", "redis://127.0.0.1:6379/9")
    import psycopg

    from catalog import reads

    dsn = f"postgresql://postgres@127.0.0.1:5432/{args.database}"
    if args.lists:
        return lists(dsn, args.runs)
    from bookstore.compiled import CompiledStatement

    statements = {
        "book": reads._book_queryset(withdrawn=False),
        "authors": reads._authors_queryset(),
    }
    ids = [random.randrange(1, args.books + 1) for _ in range(args.runs)]
    print(f"{args.runs:,} runs each, one connection per mode; PostgreSQL backend CPU per run")
    for name, queryset in statements.items():
        sql, params = queryset.query.sql_with_params()
        slot = list(params).index(reads._BOOK)
        planned = (sql, [[*params[:slot], pk, *params[slot + 1 :]] for pk in ids])
        text, _ = CompiledStatement(queryset, "default", placeholders=(reads._BOOK,), prepare=True)._prepared_text()
        prepared = (text, [[pk] for pk in ids])  # as bookstore.compiled prepares it: its constants in its text
        for mode, (sql, runs), threshold in (("planned", planned, None), ("prepared", prepared, 0)):
            with psycopg.connect(dsn, autocommit=True, prepare_threshold=threshold, options="-c jit=off") as conn:
                pid = conn.info.backend_pid
                for values in runs[:50]:  # warm up: the backend's catalog caches, the first (custom) plans
                    conn.execute(sql, values).fetchall()
                started = run.process_cpu(pid)[1]
                for values in runs:
                    conn.execute(sql, values).fetchall()
                spent = run.process_cpu(pid)[1] - started
            print(f"  {name:8} {mode:9} {1000 * spent / args.runs:.3f} ms")


def lists(dsn, runs):
    import psycopg

    from catalog import reads

    print(f"{runs:,} runs each, one connection per mode; PostgreSQL backend CPU per run")
    for name, ordering in (("list", ()), ("by price", ("price",))):
        statement = reads.plan_statement(reads.ListPlan((0, (), None, ordering), {}))
        planned = (f"{statement.sql} LIMIT %s OFFSET %s", [*statement.params, 20, 0])
        prepared = (f"{statement._prepared_text()[0]} LIMIT 20 OFFSET 0", None)
        for mode, (sql, params), threshold in (("planned", planned, None), ("prepared", prepared, 0)):
            with psycopg.connect(dsn, autocommit=True, prepare_threshold=threshold, options="-c jit=off") as conn:
                pid = conn.info.backend_pid
                for _ in range(50):
                    conn.execute(sql, params).fetchall()
                started = run.process_cpu(pid)[1]
                for _ in range(runs):
                    conn.execute(sql, params).fetchall()
                spent = run.process_cpu(pid)[1] - started
            print(f"  {name:8} {mode:9} {1000 * spent / runs:.3f} ms")


if __name__ == "__main__":
    main()
