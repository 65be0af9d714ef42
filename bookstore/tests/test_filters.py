"""The filter backend (bookstore.filters.FilterBackend) builds no filterset for a list that names none
of its filters, when the filterset says it would then filter nothing; the filters still apply when named."""

import importlib

import pytest

from catalog.tests.factories import AuthorFactory
from orders.tests.factories import order_placed

pytestmark = pytest.mark.django_db


def _counting(monkeypatch, dotted: str) -> list:
    module, name = dotted.rsplit(".", 1)
    filterset_class = getattr(importlib.import_module(module), name)
    built: list = []
    original = filterset_class.__init__

    def counting_init(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(filterset_class, "__init__", counting_init)
    return built


def test_the_order_list_builds_its_filterset_only_when_a_filter_is_named(staff_client, user, monkeypatch):
    built = _counting(monkeypatch, "orders.filters.OrderFilter")
    pending, paid = order_placed(user=user), order_placed(user=user, status="paid")

    everything = staff_client.get("/api/v1/orders", {"page_size": 5, "unknown": "x"})
    assert everything.status_code == 200
    assert built == []
    assert {order["id"] for order in everything.json()["results"]} == {pending.pk, paid.pk}

    only_paid = staff_client.get("/api/v1/orders", {"status": "paid"})
    assert [order["id"] for order in only_paid.json()["results"]] == [paid.pk]
    assert staff_client.get("/api/v1/orders", {"status": "☃"}).status_code == 400
    assert len(built) == 2


def test_the_author_list_builds_its_filterset_only_when_a_filter_is_named(api_client, monkeypatch):
    built = _counting(monkeypatch, "catalog.filters.AuthorFilter")
    ursula, _ = AuthorFactory(name="Ursula K. Le Guin"), AuthorFactory(name="Frank Herbert")

    assert api_client.get("/api/v1/authors").json()["count"] == 2
    assert built == []
    assert [a["id"] for a in api_client.get("/api/v1/authors", {"search": "ursula"}).json()["results"]] == [ursula.pk]
    assert len(built) == 1
