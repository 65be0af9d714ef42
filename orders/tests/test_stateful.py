"""Hypothesis drives carts, checkouts, cancellations and staff edits through the HTTP API, step by
step, against a model of the store; after every step the stock and money invariants must hold.

Each example runs in a savepoint opened when the machine is built and rolled back in `teardown`,
so every example starts from the same empty store inside the test's transaction.
"""

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from accounts.tests.factories import UserFactory
from bookstore.tests.clients import client_for
from catalog.models import Book, StockMovement
from orders.models import Order, OrderLine
from orders.tests.factories import ADDRESS

CENT = Decimal("0.01")
BOOKS = 3
CUSTOMERS = 2
KEYS = [None, "key-a", "key-b"]
ACTIVE = ("pending", "paid", "shipped", "delivered")
# Mostly quantities that fit, sometimes ones the API must refuse (0, negative, above 100).
QUANTITIES = st.integers(1, 2) | st.integers(1, 3) | st.integers(-1, 102)
NEXT_STATUS = {"pending": "paid", "paid": "shipped", "shipped": "delivered"}

# Bounded for CI (20 examples of up to 15 steps each; 5 in `make test-fast`: its profile, conftest.py).
STATEFUL_SETTINGS = hypothesis_settings(
    max_examples=min(20, hypothesis_settings.default.max_examples),
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _isbn13(n: int) -> str:
    body = f"979{n:09d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _shipping(subtotal: Decimal) -> Decimal:
    return Decimal("0.00") if subtotal >= settings.FREE_SHIPPING_THRESHOLD else settings.SHIPPING_FLAT_RATE


class StoreMachine(RuleBasedStateMachine):
    """Two customers and one staff member on three books; the model predicts every answer."""

    def __init__(self):
        super().__init__()
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()
        cache.clear()  # throttle counters start at zero for every example
        self.customers = [client_for(UserFactory()) for _ in range(CUSTOMERS)]
        self.staff = client_for(UserFactory(is_staff=True))
        self.book_ids = []
        self.stock = {}  # book id → stock the model expects
        self.price = {}  # book id → current price
        self.added = {}  # book id → initial stock + every staff adjustment
        for n in range(BOOKS):
            response = self.staff.post(
                "/api/v1/books",
                {"isbn": _isbn13(n + 1), "title": f"Stateful book {n}", "price": "12.50", "stock": 5 + n},
                format="json",
            )
            assert response.status_code == 201, response.content
            book_id = response.json()["id"]
            self.book_ids.append(book_id)
            self.stock[book_id] = self.added[book_id] = 5 + n
            self.price[book_id] = Decimal("12.50")
        self.carts = [{} for _ in range(CUSTOMERS)]  # book id → quantity
        self.orders = {}  # order id → {"owner", "status", "lines", "total"}
        self.keys = {}  # (customer, key) → order id

    def teardown(self):
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)

    # --- cart -----------------------------------------------------------------------------------

    def _line_id(self, customer: int, book_id: int) -> int:
        cart = self.customers[customer].get("/api/v1/cart").json()
        return next(item["id"] for item in cart["items"] if item["book"]["id"] == book_id)

    def _assert_cart(self, customer: int, body: dict) -> None:
        assert {item["book"]["id"]: item["quantity"] for item in body["items"]} == self.carts[customer]
        for item in body["items"]:
            assert Decimal(item["unit_price"]) == self.price[item["book"]["id"]]

    @rule(customer=st.integers(0, CUSTOMERS - 1), book=st.integers(0, BOOKS - 1), quantity=QUANTITIES)
    def add_to_cart(self, customer, book, quantity):
        book_id = self.book_ids[book]
        response = self.customers[customer].post(
            "/api/v1/cart/items", {"book_id": book_id, "quantity": quantity}, format="json"
        )
        new_quantity = self.carts[customer].get(book_id, 0) + quantity
        if not 1 <= quantity <= 100 or new_quantity > 100:
            assert response.status_code == 400, response.content
        elif new_quantity > self.stock[book_id]:
            assert response.status_code == 409, response.content
            assert response.json()["errors"][0]["code"] == "insufficient_stock"
        else:
            assert response.status_code == 201, response.content
            self.carts[customer][book_id] = new_quantity
            self._assert_cart(customer, response.json())

    @precondition(lambda self: any(self.carts))
    @rule(data=st.data(), quantity=QUANTITIES)
    def change_line(self, data, quantity):
        customer = data.draw(st.sampled_from([c for c in range(CUSTOMERS) if self.carts[c]]))
        book_id = data.draw(st.sampled_from(sorted(self.carts[customer])))
        line_id = self._line_id(customer, book_id)
        response = self.customers[customer].patch(
            f"/api/v1/cart/items/{line_id}", {"quantity": quantity}, format="json"
        )
        if not 1 <= quantity <= 100:
            assert response.status_code == 400, response.content
        elif quantity > self.stock[book_id]:
            assert response.status_code == 409, response.content
        else:
            assert response.status_code == 200, response.content
            self.carts[customer][book_id] = quantity
            self._assert_cart(customer, response.json())

    @precondition(lambda self: any(self.carts))
    @rule(data=st.data())
    def remove_line(self, data):
        customer = data.draw(st.sampled_from([c for c in range(CUSTOMERS) if self.carts[c]]))
        book_id = data.draw(st.sampled_from(sorted(self.carts[customer])))
        line_id = self._line_id(customer, book_id)
        intruder = self.customers[1 - customer]
        assert intruder.delete(f"/api/v1/cart/items/{line_id}").status_code == 404  # another's line: 404
        assert intruder.patch(f"/api/v1/cart/items/{line_id}", {"quantity": 1}, format="json").status_code == 404
        response = self.customers[customer].delete(f"/api/v1/cart/items/{line_id}")
        assert response.status_code == 200, response.content
        del self.carts[customer][book_id]
        self._assert_cart(customer, response.json())
        if not self.carts[customer]:
            self._checkout(customer, None)  # an empty cart: 400 empty_cart

    # --- checkout and orders ----------------------------------------------------------------------

    @precondition(lambda self: any(self.carts))
    @rule(data=st.data(), key=st.sampled_from(KEYS))
    def checkout(self, data, key):
        self._checkout(data.draw(st.sampled_from([c for c in range(CUSTOMERS) if self.carts[c]])), key)

    @precondition(lambda self: self.keys)
    @rule(data=st.data())
    def checkout_retry(self, data):
        """The same Idempotency-Key again: the same order, whatever the cart holds now."""
        self._checkout(*data.draw(st.sampled_from(sorted(self.keys))))

    def _checkout(self, customer, key):
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        response = self.customers[customer].post(
            "/api/v1/orders", {"shipping_address": ADDRESS}, format="json", **headers
        )
        if key and (customer, key) in self.keys:  # a retry: the same order, nothing taken again
            assert response.status_code == 201, response.content
            assert response.json()["id"] == self.keys[(customer, key)]
            return
        cart = self.carts[customer]
        if not cart:
            assert response.status_code == 400, response.content
            assert response.json()["errors"][0]["code"] == "empty_cart"
            return
        short = {book_id for book_id, quantity in cart.items() if quantity > self.stock[book_id]}
        if short:
            assert response.status_code == 409, response.content
            errors = response.json()["errors"]
            assert {error["code"] for error in errors} == {"insufficient_stock"}
            assert len(errors) == len(short)  # each short book named once
            assert {error["meta"]["book_id"] for error in errors} == short
            return
        assert response.status_code == 201, response.content
        body = response.json()
        subtotal = sum((self.price[book_id] * quantity for book_id, quantity in cart.items()), Decimal("0.00"))
        assert Decimal(body["subtotal"]) == subtotal
        assert Decimal(body["shipping_cost"]) == _shipping(subtotal)
        assert Decimal(body["total"]) == subtotal + _shipping(subtotal)
        assert {item["book_id"]: item["quantity"] for item in body["items"]} == cart
        for book_id, quantity in cart.items():
            self.stock[book_id] -= quantity
        self.orders[body["id"]] = {
            "owner": customer,
            "status": "pending",
            "lines": dict(cart),
            "total": Decimal(body["total"]),
        }
        if key:
            self.keys[(customer, key)] = body["id"]
        self.carts[customer] = {}

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), by_staff=st.booleans())
    def cancel(self, data, by_staff):
        order_id = data.draw(st.sampled_from(sorted(self.orders)))
        order = self.orders[order_id]
        intruder = self.customers[1 - order["owner"]]
        assert intruder.post(f"/api/v1/orders/{order_id}/cancel").status_code == 404  # BOLA: never theirs
        assert intruder.get(f"/api/v1/orders/{order_id}").status_code == 404
        client = self.staff if by_staff else self.customers[order["owner"]]
        response = client.post(f"/api/v1/orders/{order_id}/cancel")
        if order["status"] in ("pending", "paid"):
            assert response.status_code == 200, response.content
            assert response.json()["status"] == "cancelled"
            order["status"] = "cancelled"
            for book_id, quantity in order["lines"].items():
                self.stock[book_id] += quantity
        else:
            assert response.status_code == 409, response.content
            assert response.json()["errors"][0]["code"] == "invalid_transition"

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def advance(self, data):
        order_id = data.draw(st.sampled_from(sorted(self.orders)))
        order = self.orders[order_id]
        owner = self.customers[order["owner"]]
        assert owner.patch(f"/api/v1/orders/{order_id}", {"status": "delivered"}, format="json").status_code == 403
        target = NEXT_STATUS.get(order["status"], "paid")
        response = self.staff.patch(f"/api/v1/orders/{order_id}", {"status": target}, format="json")
        if order["status"] in NEXT_STATUS:
            assert response.status_code == 200, response.content
            order["status"] = target
        else:
            assert response.status_code == 409, response.content

    # --- staff edits ------------------------------------------------------------------------------

    @rule(
        book=st.integers(0, BOOKS - 1),
        stock=st.none() | st.integers(0, 12),
        cents=st.none() | st.integers(1, 4000),
    )
    def staff_edits_book(self, book, stock, cents):
        """A restock or stock count (an `adjustment` in the ledger) and/or a new price."""
        book_id = self.book_ids[book]
        body = {}
        if stock is not None:
            body["stock"] = stock
        if cents is not None:
            body["price"] = str((Decimal(cents) / 100).quantize(CENT))
        response = self.staff.patch(f"/api/v1/books/{book_id}", body, format="json")
        assert response.status_code == 200, response.content
        if stock is not None:
            assert response.json()["stock"] == stock
            self.added[book_id] += stock - self.stock[book_id]
            self.stock[book_id] = stock
        if cents is not None:
            self.price[book_id] = Decimal(body["price"])
            assert Decimal(response.json()["price"]) == self.price[book_id]

    # --- invariants -------------------------------------------------------------------------------

    @invariant()
    def stock_is_conserved_and_never_negative(self):
        stocks = dict(Book.objects.filter(pk__in=self.book_ids).values_list("pk", "stock_record__quantity"))
        assert stocks == self.stock
        active = dict(
            OrderLine.objects.filter(order__status__in=ACTIVE)
            .values("book_id")
            .annotate(units=Sum("quantity"))
            .values_list("book_id", "units")
        )
        for book_id, stock in stocks.items():
            assert stock >= 0
            assert stock + active.get(book_id, 0) == self.added[book_id]

    @invariant()
    def the_ledger_sums_to_the_stock(self):
        ledger = dict(
            StockMovement.objects.filter(book_id__in=self.book_ids)
            .values("book_id")
            .annotate(total=Sum("delta"))
            .values_list("book_id", "total")
        )
        assert ledger == self.stock
        assert StockMovement.objects.filter(book_id__in=self.book_ids, reason="initial").count() == BOOKS

    @invariant()
    def orders_add_up_to_the_cent(self):
        orders = Order.objects.filter(pk__in=list(self.orders)).prefetch_related("items")
        assert len(orders) == len(self.orders)
        for order in orders:
            expected = self.orders[order.pk]
            lines = list(order.items.all())
            assert {line.book_id: line.quantity for line in lines} == expected["lines"]
            for line in lines:
                assert line.line_total == (line.unit_price * line.quantity).quantize(CENT)
            subtotal = sum((line.line_total for line in lines), Decimal("0.00"))
            assert order.subtotal == subtotal
            assert order.shipping_cost == _shipping(subtotal)
            assert order.total == subtotal + order.shipping_cost == expected["total"]  # price edits never touch it
            assert order.status == expected["status"]


@pytest.mark.django_db
def test_store_state_machine():
    run_state_machine_as_test(StoreMachine, settings=STATEFUL_SETTINGS)
