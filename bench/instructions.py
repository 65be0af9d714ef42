"""Instructions per request of one endpoint, in-process, counted by valgrind: the same figure on a
busy machine as on an idle one.

CPU time per request (`bench/cpu.py`) drifts by ±30 % from one minute to the next on a shared
2-core machine; the instructions the Python process executes do not (callgrind counts them, and
the same run counts the same to a few parts in ten thousand). For a before/after comparison of a
change, run it on both checkouts:

    .venv/bin/python bench/instructions.py GET '/api/v1/books?n={n}' --start 300000
    .venv/bin/python bench/instructions.py GET /api/v1/orders --user 1

It runs the store's WSGI application (as `bench/cpu.py` does, against the bench database of a
previous `make bench` run) under `valgrind --tool=callgrind` twice, with N and 3N requests after
the same warm-up, and prints the difference divided by 2N: start-up and warm-up cancel out. Only
the Python process is counted: PostgreSQL's and Redis's work is not. Each run takes a minute or
two (valgrind runs Python about 50 times slower).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402
from bench.cpu import endpoint_parser, send  # noqa: E402

WARM_UP = 20


def serve(args) -> None:
    """The child: the warm-up, then `args.child` requests (what callgrind counts)."""
    run.setup_django(f"{run.PG}/{args.database}", args.redis_url)
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    tokens = run.mint_tokens(args.user, args.user + args.users - 1) if args.user else {}

    def start_response(status, headers, exc_info=None):
        return lambda data: None

    for n in range(args.start - WARM_UP, args.start + args.child):
        send(app, args, n, tokens[args.user + n % args.users] if tokens else None, None, start_response)


def counted(args, requests: int, start: int) -> int:
    """The instructions callgrind counts in a child serving `requests` requests from `start`."""
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, __file__, args.method, args.url, args.body,
        "--child", str(requests), "--start", str(start), "--user", str(args.user or 0), "--users", str(args.users),
        "--database", args.database, "--redis-url", args.redis_url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        sys.exit(f"the counted run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main():
    parser = endpoint_parser(__doc__)
    parser.add_argument("--requests", type=int, default=20, help="N: the two runs serve N and 3N requests")
    parser.add_argument("--start", type=int, default=1000, help="first `{n}`; the second run starts past the first's")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        args.user = args.user or None
        serve(args)
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian's package valgrind)")
    os.environ.setdefault("PYTHONHASHSEED", "0")  # the same dict layouts in both runs
    n = args.requests
    few = counted(args, n, args.start)
    many = counted(args, 3 * n, args.start + 10 * n + WARM_UP)
    print(f"{args.method} {args.url}: {(many - few) / (2 * n) / 1e6:.2f} M instructions per request")


if __name__ == "__main__":
    main()
