"""New rows (bookstore.inserts): one, or a row and its first child in one statement, saved as save() saves them."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection

from accounts.tests.factories import UserFactory
from bookstore.inserts import parent_and_child_insert, row_insert, rows_insert
from orders.models import Order, OrderStatusChange
from orders.services import ORDER_NUMBER

pytestmark = pytest.mark.django_db


def test_the_parent_and_its_child_are_saved_with_their_ids_defaults_and_dates(django_assert_num_queries):
    user = UserFactory()
    money = {"subtotal": Decimal("10.00"), "shipping_cost": Decimal("0.00"), "total": Decimal("10.00")}
    order = Order(number="BK-TEST-1", user=user, email=user.email, currency="EUR", **money)
    placed = OrderStatusChange(status=Order.Status.PENDING, actor=user, note="Order placed.")

    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        parent_and_child_insert(parent=order, child=placed, fk="order")

    stored = Order.objects.get(pk=order.pk)
    (line,) = OrderStatusChange.objects.filter(order=stored)
    assert line.pk == placed.pk and placed.order is order and placed.order_id == order.pk
    assert stored.number == "BK-TEST-1" and stored.user == user and stored.status == Order.Status.PENDING
    assert stored.created_at == order.created_at and line.at == placed.at and line.note == "Order placed."
    assert not order._state.adding and not placed._state.adding


def test_a_parent_whose_unique_value_is_taken_inserts_nothing_and_leaves_the_transaction_usable(
    django_assert_num_queries,
):
    # A clash of random order numbers is not an error: the caller draws again. On PostgreSQL, with no
    # savepoint (ON CONFLICT DO NOTHING): the statement inserts neither row, and the next one runs.
    user = UserFactory()
    money = {"subtotal": Decimal("10.00"), "shipping_cost": Decimal("0.00"), "total": Decimal("10.00")}
    taken = Order.objects.create(number="BK-TAKEN", user=user, email=user.email, currency="EUR", **money)
    order = Order(number="BK-TAKEN", user=user, email=user.email, currency="EUR", **money)
    placed = OrderStatusChange(status=Order.Status.PENDING, actor=user, note="Order placed.")

    with django_assert_num_queries(
        1 if connection.vendor == "postgresql" else 4
    ):  # SQLite: in a savepoint, rolled back
        assert parent_and_child_insert(parent=order, child=placed, fk="order", unless_taken=ORDER_NUMBER) is False

    assert order.pk is None and placed.pk is None and order._state.adding
    assert list(Order.objects.values_list("pk", flat=True)) == [taken.pk]
    assert not OrderStatusChange.objects.exists()

    order.number = "BK-FREE"
    assert parent_and_child_insert(parent=order, child=placed, fk="order", unless_taken=ORDER_NUMBER) is True
    assert OrderStatusChange.objects.get().order_id == order.pk == Order.objects.get(number="BK-FREE").pk


def test_another_unique_value_taken_is_still_an_error():
    user = UserFactory()
    money = {"subtotal": Decimal("10.00"), "shipping_cost": Decimal("0.00"), "total": Decimal("10.00")}
    Order.objects.create(number="BK-1", user=user, email=user.email, currency="EUR", idempotency_key="k", **money)
    order = Order(number="BK-2", user=user, email=user.email, currency="EUR", idempotency_key="k", **money)
    placed = OrderStatusChange(status=Order.Status.PENDING, actor=user, note="Order placed.")

    with pytest.raises(IntegrityError):
        parent_and_child_insert(parent=order, child=placed, fk="order", unless_taken=ORDER_NUMBER)


def _order_and_placed(user, number: str, **placed_fields) -> tuple[Order, OrderStatusChange]:
    money = {"subtotal": Decimal("10.00"), "shipping_cost": Decimal("0.00"), "total": Decimal("10.00")}
    order = Order(number=number, user=user, email=user.email, currency="EUR", **money)
    fields = {"status": Order.Status.PENDING, "actor": user, "note": "Order placed.", **placed_fields}
    return order, OrderStatusChange(**fields)


@pytest.mark.postgres
def test_the_pair_statement_is_compiled_once_for_every_pair(monkeypatch):
    from bookstore import inserts

    user = UserFactory()
    order, placed = _order_and_placed(user, "BK-C0")
    parent_and_child_insert(parent=order, child=placed, fk="order", unless_taken=ORDER_NUMBER)

    def compile_again(*args):
        pytest.fail("the INSERT was compiled again")

    monkeypatch.setattr(inserts, "_insert_statement", compile_again)
    for n in (1, 2):
        order, placed = _order_and_placed(user, f"BK-C{n}", note=f"Order {n} placed.")
        assert parent_and_child_insert(parent=order, child=placed, fk="order", unless_taken=ORDER_NUMBER) is True
        assert OrderStatusChange.objects.get(order__number=f"BK-C{n}").note == f"Order {n} placed."


def test_a_child_value_that_is_an_expression_goes_through_save():
    from django.db.models import Value
    from django.db.models.functions import Concat

    user = UserFactory()
    order, placed = _order_and_placed(user, "BK-EXPR", note=Concat(Value("Order "), Value("placed.")))

    assert parent_and_child_insert(parent=order, child=placed, fk="order", unless_taken=ORDER_NUMBER) is True

    stored = _columns(OrderStatusChange, placed.pk)
    assert stored["order_id"] == order.pk == Order.objects.get(number="BK-EXPR").pk
    assert stored["note"] == "Order placed." and stored["actor_id"] == user.pk


def test_a_pair_insert_refuses_what_save_refuses():
    user = UserFactory()
    order, placed = _order_and_placed(user, "BK-UNSAVED", actor=type(user)(email="unsaved@example.com"))

    with pytest.raises(ValueError, match="unsaved related object 'actor'"):
        parent_and_child_insert(parent=order, child=placed, fk="order")

    assert not Order.objects.exists() and not OrderStatusChange.objects.exists()


def _columns(model, pk) -> dict:
    return model.objects.filter(pk=pk).values().get()


def test_a_row_inserted_is_the_row_save_writes(django_assert_num_queries):
    """Every column as save() writes it (auto_now dates included), the instance saved with its id, one query."""
    from cart.models import Cart, CartItem
    from catalog.tests.factories import BookFactory

    user, book, other_book = UserFactory(), BookFactory(), BookFactory()
    cart = Cart(user=user)
    row_insert(cart)
    by_save = CartItem(cart=cart, book=other_book, quantity=3)
    by_save.save()
    line = CartItem(cart=cart, book=book, quantity=3)

    with django_assert_num_queries(1):
        row_insert(line)

    assert line.pk is not None and not line._state.adding and line._state.db == "default"
    stored, saved = _columns(CartItem, line.pk), _columns(CartItem, by_save.pk)
    assert stored == {
        **saved,
        "id": line.pk,
        "book_id": book.pk,
        "created_at": stored["created_at"],
        "updated_at": stored["updated_at"],
    }
    assert stored["created_at"] == line.created_at and stored["updated_at"] == line.updated_at
    assert _columns(Cart, cart.pk)["user_id"] == user.pk and cart.created_at is not None


def test_a_row_insert_refuses_what_save_refuses():
    from cart.models import Cart, CartItem
    from catalog.tests.factories import BookFactory

    cart = Cart(user=UserFactory())
    row_insert(cart)
    book = BookFactory()
    with pytest.raises(ValueError, match="unsaved related object"):
        row_insert(CartItem(cart=Cart(user=UserFactory()), book=book, quantity=1))
    row_insert(CartItem(cart=cart, book=book, quantity=1))
    with pytest.raises(IntegrityError):  # one line per book and cart
        row_insert(CartItem(cart=cart, book=book, quantity=2))


def test_a_value_that_is_an_expression_goes_through_save():
    from django.db.models import Value

    from cart.models import Cart, CartItem
    from catalog.tests.factories import BookFactory

    cart = Cart(user=UserFactory())
    row_insert(cart)
    line = CartItem(cart=cart, book=BookFactory(), quantity=Value(4))
    row_insert(line)

    assert _columns(CartItem, line.pk)["quantity"] == 4


@pytest.mark.postgres
def test_a_row_insert_is_prepared_once_for_every_row():
    from cart.models import Cart

    for _ in range(3):
        row_insert(Cart(user=UserFactory()))

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO \"cart_cart\"%%'"
        )
        assert len(cursor.fetchall()) == 1


def test_rows_inserted_are_the_rows_bulk_create_writes_each_with_its_own_id(django_assert_num_queries):
    """Several rows in one statement: each instance gets the id of its own row (its book, here)."""
    from catalog.models import StockMovement
    from catalog.tests.factories import BookFactory

    books, actor = BookFactory.create_batch(3), UserFactory()

    def movements(reference):
        return [
            StockMovement(
                book=book, delta=-n, stock_after=10 - n, reason="sale", actor=actor, order_reference=reference
            )
            for n, book in enumerate(books, start=1)
        ]

    by_bulk_create = StockMovement.objects.bulk_create(movements("BK-BULK"))
    inserted = movements("BK-ROWS")
    with django_assert_num_queries(1):
        rows_insert(inserted)

    for row, bulk in zip(inserted, by_bulk_create, strict=True):
        stored = _columns(StockMovement, row.pk)
        assert (
            stored["book_id"] == row.book_id and stored["delta"] == row.delta and stored["created_at"] == row.created_at
        )
        assert stored == {
            **_columns(StockMovement, bulk.pk),
            "id": row.pk,
            "order_reference": "BK-ROWS",
            "created_at": row.created_at,
        }
        assert not row._state.adding
    rows_insert([])  # nothing to insert: no statement


@pytest.mark.postgres
def test_rows_inserts_are_prepared_once_per_number_of_rows():
    from cart.models import Cart

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO \"cart_cart\"%%'"
            )
            return cursor.fetchone()[0]

    for _ in range(2):
        rows_insert([Cart(user=UserFactory()), Cart(user=UserFactory())])
    assert prepared() == 1
    rows_insert([Cart(user=UserFactory()) for _ in range(3)])
    assert prepared() == 2
