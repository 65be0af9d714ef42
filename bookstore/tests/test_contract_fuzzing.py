"""Contract fuzzing: schemathesis drives every operation of the served OpenAPI schema over real HTTP.

One live server, a small store, and the `schemathesis run` command a client developer would use,
once per caller (anonymous, a customer, staff), with the phases an outside fuzzer runs:
`examples`, `coverage` (the schema's edges: boundaries, wrong types, missing fields) and
`fuzzing` (and `stateful` where the schema has links). The checks: no 5xx, every response
matches its documented schema, status code and content type. A failure prints schemathesis'
report, each finding with a curl line that reproduces it.

CI runs it derandomized (`--generation-deterministic`: the same requests every run) with
`CONTRACT_FUZZ_EXAMPLES` (default 5) examples per operation on top of the coverage phase's own
cases, about 2,400 requests per caller. `make fuzz` runs it longer and randomized
(CONTRACT_FUZZ_RANDOM=1, CONTRACT_FUZZ_EXAMPLES=100, CONTRACT_FUZZ_SEED=<n> to replay a run,
CONTRACT_FUZZ_MAX_TIME=<seconds> per caller).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from catalog.search_index import book_search_vector_refresh
from catalog.tests.factories import AuthorFactory, BookFactory, CategoryFactory, ReviewFactory
from orders.models import Order
from orders.tests.factories import cart_with, order_placed

PHASES = "examples,coverage,fuzzing,stateful"
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"
EXAMPLES = os.environ.get("CONTRACT_FUZZ_EXAMPLES", "5")
RANDOMIZED = os.environ.get("CONTRACT_FUZZ_RANDOM") == "1"
GENEROUS_RATES = {"anon": None, "user": None, "auth": None, "checkout": None}


@pytest.fixture
def store(db):
    """A small store: categories, authors, books, reviews, a customer's cart and orders, a staff member."""
    parent = CategoryFactory(name="Fiction", slug="fiction")
    child = CategoryFactory(name="Crime", slug="crime", parent=parent)
    authors = AuthorFactory.create_batch(3)
    books = [BookFactory(category=child if i % 2 else parent, authors=[authors[i % 3]]) for i in range(6)]
    BookFactory(is_active=False)
    customer = UserFactory()
    staff = UserFactory(is_staff=True)
    ReviewFactory(book=books[0], user=customer)
    ReviewFactory(book=books[1])
    order_placed(user=customer, lines=[(books[2], 1)])
    order_placed(user=customer, lines=[(books[3], 2)], status=Order.Status.PAID)
    order_placed(user=customer, lines=[(books[4], 1)], status=Order.Status.SHIPPED)
    cart_with(customer, (books[5], 1))
    book_search_vector_refresh()
    return {"customer": customer, "staff": staff}


def schemathesis_command(schema_url: str, headers: dict, report_dir: Path) -> list[str]:
    """The `schemathesis run` command line (also what `make fuzz` runs, with its knobs)."""
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        schema_url,
        "--phases",
        PHASES,
        "--checks",
        CHECKS,
        "--max-examples",
        EXAMPLES,
        # One worker: hypothesis reads filter lambdas' source with `ast`, which CPython 3.11 can
        # break when threads parse at once ("AST constructor recursion depth mismatch").
        "--workers",
        "1",
        "--no-color",
        "--suppress-health-check",
        "all",
        "--report",
        "junit",
        "--report-dir",
        str(report_dir),
    ]
    if RANDOMIZED:
        if seed := os.environ.get("CONTRACT_FUZZ_SEED"):
            command += ["--seed", seed]
    else:
        command += ["--generation-deterministic"]
    if max_time := os.environ.get("CONTRACT_FUZZ_MAX_TIME"):
        command += ["--max-time", max_time]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    return command


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("caller", ["anonymous", "customer", "staff"])
def test_every_operation_holds_its_contract(caller, store, live_server, monkeypatch, tmp_path):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", GENEROUS_RATES)
    headers = {}
    if caller != "anonymous":
        headers["Authorization"] = f"Bearer {RefreshToken.for_user(store[caller]).access_token}"

    result = subprocess.run(
        schemathesis_command(f"{live_server.url}/api/schema", headers, tmp_path),
        capture_output=True,
        text=True,
        timeout=1800,
    )

    report = result.stdout + result.stderr
    summary = [line for line in report.splitlines() if "generated" in line or "Tested:" in line]
    print(f"{caller}: {' | '.join(line.strip() for line in summary)}")
    tested = re.search(r"Tested: (\d+)", report)
    assert tested and int(tested.group(1)) >= 45, report[-3000:]  # every operation, none skipped
    assert result.returncode == 0, report[-20000:]
