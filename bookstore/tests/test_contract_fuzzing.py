"""Contract fuzzing: schemathesis drives every operation of the served OpenAPI schema over real HTTP.

One live server, seeded once per caller (anonymous, a customer, staff). For each operation
schemathesis generates valid requests (positive) and invalid ones (negative) and checks that
the store never answers 5xx, that each response matches its documented schema and status
codes, that operations which require a token refuse a request without one, and that invalid
input is rejected. Every finding of a run is collected and the test fails listing them all,
each with a curl line that reproduces it. The generation is derandomized, so CI sends the same
requests every run; CONTRACT_FUZZ_EXAMPLES=50 runs a deeper search locally.
"""

import os
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tests.factories import UserFactory
from catalog.services import book_search_vector_refresh
from catalog.tests.factories import AuthorFactory, BookFactory, CategoryFactory, ReviewFactory
from orders.models import Order
from orders.tests.factories import cart_with, order_placed

CHECKS = [
    schemathesis.checks.not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    ignored_auth,
    negative_data_rejection,
]
# Examples per operation and generation mode: 45 operations x 2 modes x 3 callers bound the run.
MAX_EXAMPLES = int(os.environ.get("CONTRACT_FUZZ_EXAMPLES", "5"))
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests on every CI run: a finding is reproducible, never flaky
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the report names the failing request as sent
    suppress_health_check=list(HealthCheck),
)
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


def _bearer(user) -> dict:
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


def _describe(where: str, error: BaseException) -> str:
    """One finding: each failure's title and message, and the request that reproduces it."""
    failures = getattr(error, "exceptions", None) or [error]
    lines = [f"{where}:"]
    for failure in failures:
        title = getattr(failure, "title", type(failure).__name__)
        message = getattr(failure, "message", str(failure)).strip().replace("\n", " | ")
        lines.append(f"  - {title}: {message[:400]}")
    reproduce = [line.strip() for line in str(error).splitlines() if line.strip().startswith("curl ")]
    lines += [f"    {line[:600]}" for line in reproduce]
    return "\n".join(lines)


def _fuzz(schema, headers: dict) -> tuple[list[str], int, int]:
    """Runs every operation in both modes; returns the findings, the operations and the requests sent."""
    findings: list[str] = []
    operations = 0
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @FUZZ_SETTINGS
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                nonlocal sent
                sent += 1
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:  # nothing to negate: the operation takes no input (cookie refresh, logout)
                continue
            except (Exception, BaseExceptionGroup) as error:  # every finding is reported, not just the first
                findings.append(_describe(f"{operation.label} [{mode}]", error))
    return findings, operations, sent


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("caller", ["anonymous", "customer", "staff"])
def test_every_operation_holds_its_contract(caller, store, live_server, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", GENEROUS_RATES)
    headers = {} if caller == "anonymous" else _bearer(store[caller])
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema")

    started = time.monotonic()
    findings, operations, sent = _fuzz(schema, headers)
    print(f"{caller}: {operations} operations, {sent} requests in {time.monotonic() - started:.1f}s")

    assert operations >= 45
    assert not findings, "\n\n".join(findings)
