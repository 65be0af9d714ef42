"""The address book's limit and its one default hold when requests race (PostgreSQL, real connections)."""

from collections import Counter

import pytest

from accounts.tests.factories import UserFactory
from addresses.models import Address
from bookstore.tests.clients import client_for
from bookstore.tests.concurrency import run_together
from orders.tests.factories import ADDRESS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/auth/me/addresses"


def test_racing_adds_never_pass_twenty_and_leave_one_default():
    user = UserFactory()
    Address.objects.bulk_create(Address(user=user, **ADDRESS) for _ in range(Address.MAX_PER_USER - 3))
    clients = [client_for(user) for _ in range(8)]

    responses = run_together([lambda c=c: c.post(URL, ADDRESS | {"is_default": True}) for c in clients])

    assert Counter(r.status_code for r in responses) == {201: 3, 400: 5}
    assert Address.objects.filter(user=user).count() == Address.MAX_PER_USER
    assert Address.objects.filter(user=user, is_default=True).count() == 1
