"""Stock in a narrow row of its own (`catalog_stock`): a sale rewrites that row, never the book's."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from catalog.models import Book, Stock, StockMovement
from catalog.stock import stock_apply
from catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="row versions (ctid) are PostgreSQL's")


def _ctid(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ctid::text FROM {table} WHERE {column} = %s", [pk])
        return cursor.fetchone()[0]


@postgres_only
def test_a_sale_rewrites_the_stock_row_and_leaves_the_book_row_alone():
    book = BookFactory(stock=5)
    before = (_ctid("catalog_book", "id", book.pk), _ctid("catalog_stock", "book_id", book.pk))
    updated_at = Book.objects.get(pk=book.pk).updated_at

    stock_apply(changes={book.pk: -2}, reason=StockMovement.Reason.SALE)

    assert _ctid("catalog_book", "id", book.pk) == before[0]  # no new version of the book row
    assert _ctid("catalog_stock", "book_id", book.pk) != before[1]
    assert Stock.objects.get(book=book).quantity == 3
    assert Book.objects.get(pk=book.pk).updated_at == updated_at


@postgres_only
def test_the_stock_table_leaves_room_for_hot_updates():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'catalog_stock'")
        (options,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_index WHERE indrelid = 'catalog_stock'::regclass")
        (indexes,) = cursor.fetchone()
    assert "fillfactor=50" in options
    assert indexes == 1  # the primary key only: a change of the quantity is a HOT update


def test_in_stock_flips_only_when_the_stock_crosses_zero():
    book = BookFactory(stock=2)
    assert Book.objects.get(pk=book.pk).in_stock is True

    stock_apply(changes={book.pk: -1}, reason=StockMovement.Reason.SALE)
    assert Book.objects.get(pk=book.pk).in_stock is True
    stock_apply(changes={book.pk: -1}, reason=StockMovement.Reason.SALE)
    assert Book.objects.get(pk=book.pk).in_stock is False
    stock_apply(changes={book.pk: 3}, reason=StockMovement.Reason.RESTOCK)
    assert (Book.objects.get(pk=book.pk).in_stock, Book.objects.get(pk=book.pk).stock) == (True, 3)


def test_a_sale_takes_three_queries_and_a_flip_one_more(django_assert_num_queries):
    book = BookFactory(stock=2)
    with django_assert_num_queries(3):  # lock the stock row, update it, write the ledger line
        stock_apply(changes={book.pk: -1}, reason=StockMovement.Reason.SALE)
    with django_assert_num_queries(4):  # and the book's in_stock flag
        stock_apply(changes={book.pk: -1}, reason=StockMovement.Reason.SALE)


def test_a_book_made_without_its_stock_row_gets_one_from_the_ledger():
    book = BookFactory(stock=0)
    Stock.objects.filter(book=book).delete()  # as a bulk insert that wrote no row would leave it

    stock_apply(changes={book.pk: 4}, reason=StockMovement.Reason.RESTOCK)

    assert Stock.objects.get(book=book).quantity == 4
    assert Book.objects.get(pk=book.pk).in_stock is True


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_each_books_stock_into_its_row():
    executor = MigrationExecutor(connection)
    executor.migrate([("catalog", "0005_search_matching")])
    old = executor.loader.project_state([("catalog", "0005_search_matching")]).apps
    OldBook = old.get_model("catalog", "Book")
    common = {"slug": "b", "price": "1.00", "language": "en", "format": "paperback"}
    stocked = OldBook.objects.create(isbn="9780306406157", title="Stocked", stock=7, **common)
    sold_out = OldBook.objects.create(isbn="9780141036144", title="Sold out", stock=0, **common)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert dict(Stock.objects.values_list("book_id", "quantity")) == {stocked.pk: 7, sold_out.pk: 0}
    assert dict(Book.objects.values_list("pk", "in_stock")) == {stocked.pk: True, sold_out.pk: False}
