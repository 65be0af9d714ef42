"""Statements compiled once (bookstore.compiled) answer as their querysets do, run after run."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F

from bookstore.compiled import (
    MAX_PREPARED_OFFSET,
    PLACEHOLDERS,
    TEXT_PLACEHOLDERS,
    CompiledStatement,
    compiled,
    deletion,
    int_array,
)
from catalog.models import Book
from catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db

BOOK = PLACEHOLDERS[0]


def test_a_compiled_statement_answers_as_its_queryset_for_each_value():
    books = [BookFactory(price=Decimal("3.10"), published_date=datetime.date(2001, 2, 3)), BookFactory()]
    statement = compiled("test.book", lambda: Book.objects.filter(pk=BOOK).values_list("id", "price", "published_date"))

    for book in books:
        assert statement.rows({BOOK: book.pk}) == list(
            Book.objects.filter(pk=book.pk).values_list("id", "price", "published_date")
        )
    assert statement.rows({BOOK: 987_654_321}) == []


def test_compiled_instances_carry_the_querysets_fields_and_annotations():
    book = BookFactory(stock=7)
    statement = compiled(
        "test.instances",
        lambda: Book.objects.filter(pk=BOOK).only("id", "title").annotate(twice=F("stock_record__quantity") * 2),
    )

    (found,) = statement.instances({BOOK: book.pk})

    assert isinstance(found, Book) and found.pk == book.pk and found.title == book.title
    assert found.twice == 14
    assert found.get_deferred_fields() >= {"price", "description"}


def test_a_queryset_without_a_placeholder_is_refused():
    with pytest.raises(ValueError, match="placeholder"):
        CompiledStatement(Book.objects.filter(pk=1), "default")


def test_compiled_instances_carry_the_querysets_related_objects():
    book = BookFactory(stock=4)
    related = ("category", "stock_record")
    statement = compiled("test.related", lambda: Book.objects.filter(pk=BOOK).select_related(*related))

    (found,) = statement.instances({BOOK: book.pk})
    (expected,) = Book.objects.filter(pk=book.pk).select_related("category", "stock_record")

    assert found.stock_record.quantity == 4 and found.stock_record.pk == expected.stock_record.pk
    assert found.category == expected.category
    assert found._state.fields_cache.keys() == expected._state.fields_cache.keys()


def test_text_placeholders_take_each_runs_strings():
    first, second = BookFactory(title="Dune"), BookFactory(title="Emma")
    title = TEXT_PLACEHOLDERS[0]
    statement = compiled("test.by-title", lambda: Book.objects.filter(title=title).values_list("id", flat=True))

    assert statement.rows({title: "Dune"}) == [(first.pk,)]
    assert statement.rows({title: "Emma"}) == [(second.pk,)]
    assert statement.rows({title: "Nobody's"}) == []


def test_two_builders_under_one_name_do_not_share_a_statement():
    first = compiled("same-name", lambda: Book.objects.filter(pk=PLACEHOLDERS[0]).values_list("id"))
    second = compiled("same-name", lambda: Book.objects.filter(pk=PLACEHOLDERS[0]).values_list("title"))

    assert first is not second
    assert '"title"' in second.sql and '"title"' not in first.sql


def _prepared_statements() -> list[str]:
    """The statements this session has prepared (PostgreSQL's own view of it)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


@pytest.mark.postgres
def test_a_statement_made_to_be_prepared_is_planned_once_and_answers_each_run():
    books = [BookFactory(), BookFactory()]
    statement = CompiledStatement(Book.objects.filter(pk=BOOK).values_list("id", "title"), "default", prepare=True)

    for book in books * 3:
        assert statement.rows({BOOK: book.pk}) == [(book.pk, book.title)]

    # One plan for every value (psycopg keys a prepared statement by its text and its values'
    # types: an id beyond 32 bits, bound as a bigint, would get a plan of its own).
    assert _prepared_statements().count(statement.sql.replace("%s", "$1")) == 1
    assert statement.rows({BOOK: 987_654_321}) == []


@pytest.mark.postgres
def test_a_prepared_statement_has_the_orms_constants_in_its_text_and_one_plan_for_every_value():
    """Its constants written in (a partial index needs them: bound, PostgreSQL would plan each run
    anew), its placeholder's value bound, a percent sign of its own kept apart from the ORM's."""
    books = [BookFactory(title="50% 'off'"), BookFactory(title="50% 'off' again"), BookFactory(title="Full price")]
    BookFactory(title="50% 'off' but withdrawn", is_active=False)
    queryset = Book.objects.filter(pk__gte=BOOK, is_active=True, title__contains="% 'off").order_by("id")
    statement = CompiledStatement(queryset.values_list("id", "title"), "default", prepare=True)

    for _ in range(4):
        for book in books:
            assert statement.rows({BOOK: book.pk}) == list(
                queryset.filter(pk__gte=book.pk).exclude(pk__lt=book.pk).values_list("id", "title")
            )

    (text, (generic, custom)), *others = [item for item in _prepared_plans().items() if "catalog_book" in item[0]]
    assert not others
    assert ">= $1" in text and "$2" not in text and "E'%\\\\% ''off%'" in text
    assert (generic, custom) == (7, 5)  # planned for its first five runs, then its generic plan


@pytest.mark.postgres
def test_other_statements_are_not_prepared(settings):
    book = BookFactory()
    plain = CompiledStatement(Book.objects.filter(pk=BOOK).values_list("id", "isbn"), "default")
    settings.DB_PREPARED_STATEMENTS = False
    switched_off = CompiledStatement(Book.objects.filter(pk=BOOK).values_list("id", "slug"), "default", prepare=True)

    for _ in range(6):  # more than psycopg's own threshold (5), had Django not turned it off
        plain.rows({BOOK: book.pk})
        switched_off.rows({BOOK: book.pk})
        list(Book.objects.filter(pk=book.pk).values_list("id", "subtitle"))

    assert not [text for text in _prepared_statements() if "catalog_book" in text]


def _prepared_plans() -> dict[str, tuple[int, int]]:
    """Each statement this session has prepared: how many times PostgreSQL ran its generic plan
    (planned once) and planned it anew (custom plans)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        return {statement: (generic, custom) for statement, generic, custom in cursor.fetchall()}


def _pages_statement():
    # Constants of the ORM's (a boolean, a LIKE pattern with a quote and a percent sign), no value of its own.
    books = Book.objects.filter(is_active=True, title__contains="% 'off").order_by("id").values_list("id", "title")
    return CompiledStatement(books, "default", placeholders=(), prepare_pages=True), books


@pytest.mark.postgres
def test_a_page_of_a_statement_binding_no_value_is_prepared_with_its_constants_and_planned_once():
    titles = [f"{n}0% 'off' sale" for n in range(5)]
    for title in titles:
        BookFactory(title=title)
    BookFactory(title="Full price")
    BookFactory(title="9% 'off' but withdrawn", is_active=False)
    statement, books = _pages_statement()

    for _ in range(8):  # past the runs PostgreSQL plans before it weighs a generic plan
        assert statement.rows({}, limit=2, offset=0) == list(books[:2])
    assert statement.rows({}, limit=2, offset=4) == list(books[4:6])
    assert [title for _, title in statement.rows({}, limit=10, offset=0)] == titles

    plans = {text: counts for text, counts in _prepared_plans().items() if "catalog_book" in text}
    first_page = [text for text in plans if text.endswith(" LIMIT 2 OFFSET 0")]
    assert len(first_page) == 1 and "$1" not in first_page[0] and "'% ''off'" not in first_page[0]
    assert plans[first_page[0]] == (8, 0)  # one plan, run eight times
    assert len(plans) == 3  # a statement per page


@pytest.mark.postgres
def test_pages_binding_a_value_far_pages_and_a_store_that_prepares_nothing_are_planned_each_time(settings):
    BookFactory(title="50% 'off'")
    statement, books = _pages_statement()
    bound = CompiledStatement(
        Book.objects.filter(pk__gt=BOOK).order_by("id").values_list("id"), "default", prepare_pages=True
    )

    assert statement.rows({}, limit=20, offset=MAX_PREPARED_OFFSET + 20) == []
    assert bound.rows({BOOK: 0}, limit=20, offset=0) == list(Book.objects.values_list("id"))
    settings.DB_PREPARED_STATEMENTS = False
    assert statement.rows({}, limit=20, offset=0) == list(books)

    assert not [text for text in _prepared_plans() if "catalog_book" in text]


def test_a_page_of_a_statement_binding_no_value_answers_on_either_database():
    BookFactory(title="50% 'off'")
    BookFactory(title="Full price")
    statement, books = _pages_statement()

    assert statement.rows({}, limit=20, offset=0) == list(books)
    assert statement.rows({}, limit=20, offset=1) == []


@pytest.mark.postgres
@pytest.mark.parametrize("values", [[], [7], [3, 1, 2], [-5, 0, 2**63 - 1, -(2**63)]])
def test_an_int_array_binds_as_the_list_would(values):
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::bigint[], %s::bigint[]", [int_array(values), values])
        as_text, as_list = cursor.fetchone()

    assert as_text == as_list == values


@pytest.mark.parametrize("value", ["2}, {3", "12", 1.7])
def test_an_int_array_takes_integers_only(value):
    with pytest.raises(TypeError):
        int_array([1, value])


def test_a_compiled_deletion_deletes_what_delete_would_and_counts_the_rows(django_assert_num_queries):
    from cart.models import Cart, CartItem
    from cart.tests.factories import CartItemFactory

    line, other = CartItemFactory.create_batch(2)
    CartItemFactory(cart=line.cart)
    statement = compiled("test.cart-lines", lambda: deletion(CartItem.objects.filter(cart_id=BOOK)), prepare=True)

    with django_assert_num_queries(1):  # the DELETE alone: no collector's SELECT
        assert statement.execute({BOOK: line.cart_id}) == 2

    assert list(CartItem.objects.values_list("pk", flat=True)) == [other.pk]
    assert Cart.objects.filter(pk=line.cart_id).exists()  # the lines only
    assert statement.execute({BOOK: line.cart_id}) == 0


def test_a_deletion_that_would_cascade_is_refused():
    # A book's deletion cascades (its stock record, reviews, cart lines...): delete() must collect them.
    with pytest.raises(ValueError, match="cascades or sends signals"):
        deletion(Book.objects.filter(pk=BOOK))
