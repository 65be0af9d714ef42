"""The book detail and list read without model instances (catalog.reads) answer exactly what the serializers do."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from catalog.models import Book, Review, Stock
from catalog.serializers import BookListSerializer, BookSerializer
from catalog.tests.factories import AuthorFactory, BookFactory, ReviewFactory, stock_force

pytestmark = pytest.mark.django_db

BOOKS = "/api/v1/books"


def serializer_bytes(book_id: int) -> bytes:
    """What the detail answered before catalog.reads: the ORM's instance through BookSerializer."""
    request = Request(APIRequestFactory().get(f"{BOOKS}/{book_id}"))
    book = Book.objects.with_listing_data().get(pk=book_id)
    return JSONRenderer().render(BookSerializer(book, context={"request": request}).data)


def varied_books() -> list[Book]:
    """Books that exercise every column's edge: nulls, no authors, several, ratings that round, a cover."""
    plain = BookFactory()
    bare = BookFactory(category=None, authors=[], subtitle="", publisher="", description="", page_count=None, stock=0)
    full = BookFactory(
        authors=[AuthorFactory(name="Zed"), AuthorFactory(name="Abe"), AuthorFactory(name="Abe")],
        subtitle="A “subtitle” with ünïcode",
        published_date=datetime.date(1999, 12, 31),
        page_count=412,
        price=Decimal("99999.99"),
        format=Book.Format.AUDIOBOOK,
        language="ja",
    )
    for rating in (1, 2, 2):  # 1.666… rounds to 1.67
        ReviewFactory(book=full, rating=rating)
    ReviewFactory(book=full, rating=5, status=Review.Status.HIDDEN)  # counts in no rating
    cheap = BookFactory(price=Decimal("0.01"), stock=3)
    for rating in (4, 5):  # 4.5 exactly
        ReviewFactory(book=cheap, rating=rating)
    Book.objects.filter(pk=cheap.pk).update(cover="covers/cheap front.webp")
    no_stock_row = BookFactory(stock=5)
    Stock.objects.filter(book=no_stock_row).delete()
    return [plain, bare, full, cheap, no_stock_row]


def test_book_detail_is_byte_for_byte_the_serializers_answer(api_client):
    books = varied_books()
    stock_force(books[0].pk, 0)
    for book in books:
        cache.clear()  # uncached: the read itself, not a stored answer
        response = api_client.get(f"{BOOKS}/{book.pk}")
        assert response.status_code == 200
        assert response.content == serializer_bytes(book.pk), book.title


def test_book_detail_of_a_withdrawn_book_is_404_but_staff_read_it_in_full(api_client, staff_client):
    book = BookFactory()
    Book.objects.filter(pk=book.pk).update(is_active=False)

    assert api_client.get(f"{BOOKS}/{book.pk}").status_code == 404
    response = staff_client.get(f"{BOOKS}/{book.pk}")
    assert response.status_code == 200
    assert response.content == serializer_bytes(book.pk)


@pytest.mark.parametrize("pk", ["0", "987654321", str(2**63), "12abc"])
def test_book_detail_of_no_book_is_404(api_client, pk):
    BookFactory()

    response = api_client.get(f"{BOOKS}/{pk}")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_book_detail_runs_two_queries_when_uncached(api_client, django_assert_num_queries):
    book = BookFactory(authors=[AuthorFactory(), AuthorFactory()])
    api_client.get(f"{BOOKS}/{book.pk + 1}")  # statements compiled, versions started

    with django_assert_num_queries(2):  # the book's row, its authors
        assert api_client.get(f"{BOOKS}/{book.pk}").status_code == 200


def serializer_list(url: str, **params) -> list:
    """The list's results as BookListSerializer gives them, from the ORM's instances in the answer's order."""
    request = Request(APIRequestFactory().get(url, params))
    ids = [book["id"] for book in api_results(url, **params)]
    books = Book.objects.with_listing_data().in_bulk(ids)
    data = BookListSerializer([books[pk] for pk in ids], many=True, context={"request": request}).data
    return json.loads(JSONRenderer().render(data))


def api_results(url: str, **params) -> list:
    from rest_framework.test import APIClient

    cache.clear()
    response = APIClient().get(url, params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"page_size": 2, "page": 2},
        {"ordering": "-average_rating"},
        {"ordering": "price"},
        {"min_price": "1", "in_stock": "true"},
        {"facets": "format"},
    ],
)
def test_book_list_results_are_the_serializers_answer(params):
    varied_books()
    BookFactory.create_batch(3)

    results = api_results(BOOKS, **params)

    assert results, "the list is not empty"
    assert results == serializer_list(BOOKS, **params)


def test_book_list_bytes_are_the_serializers_for_one_book_in_full(api_client):
    """Byte for byte (the JSON above compares values): the one book's answer is the serializer's."""
    book = varied_books()[2]
    Book.objects.exclude(pk=book.pk).update(is_active=False)
    request = Request(APIRequestFactory().get(BOOKS))
    expected = JSONRenderer().render(
        BookListSerializer(
            [Book.objects.with_listing_data().get(pk=book.pk)], many=True, context={"request": request}
        ).data
    )

    content = api_client.get(BOOKS).content

    assert expected[1:-1].decode() in content.decode()


def test_book_list_counts_the_books_without_joining_their_category_and_stock(api_client):
    BookFactory.create_batch(25)
    cache.clear()

    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(BOOKS, {"page": 2}).status_code == 200

    counts = [query["sql"] for query in queries.captured_queries if query["sql"].upper().startswith("SELECT COUNT(")]
    assert len(counts) == 1
    assert "JOIN" not in counts[0].upper()


def test_default_list_without_filters_is_the_available_books_newest_first(api_client, staff_client):
    """No filter named (only a parameter the store ignores): no filterset is built, same answer."""
    older, newer, withdrawn = BookFactory(), BookFactory(), BookFactory()
    Book.objects.filter(pk=withdrawn.pk).update(is_active=False)
    Book.objects.filter(pk=older.pk).update(created_at=newer.created_at)  # a tie: the higher id first

    for client in (api_client, staff_client):
        cache.clear()
        body = client.get(BOOKS, {"n": "7"}).json()
        assert [book["id"] for book in body["results"]] == [newer.pk, older.pk]
        assert body["count"] == 2


def test_a_read_whose_version_was_never_started_makes_two_redis_round_trips(api_client, redis_round_trips):
    """The throttle's trip starts the book's (or the lists') version where there is none, as it
    reads it: a book read for the first time in a day is still the throttle's trip and the store."""
    book = BookFactory()
    for url in (f"{BOOKS}/{book.pk}", BOOKS):
        redis_round_trips.clear()
        assert api_client.get(url).status_code == 200
        assert len(redis_round_trips) == 2, url
        redis_round_trips.clear()
        assert api_client.get(url).status_code == 200
        assert len(redis_round_trips) == 1, url  # stored under the version started


def test_uncached_catalog_reads_make_two_redis_round_trips_and_hits_one(api_client, redis_round_trips):
    """The throttle's round trip also reads the answer, its version and the list's count; the
    second stores the answer. A hit is the throttle's trip alone."""
    book = BookFactory()
    BookFactory.create_batch(4)
    for url in (f"{BOOKS}/{book.pk}?warm=1", f"{BOOKS}?page=2&page_size=2&warm=1"):  # versions, count
        assert api_client.get(url).status_code == 200

    for url in (f"{BOOKS}/{book.pk}", f"{BOOKS}?page=2&page_size=2"):
        redis_round_trips.clear()
        first = api_client.get(url)
        assert first.status_code == 200
        assert len(redis_round_trips) == 2, url
        redis_round_trips.clear()
        again = api_client.get(url)
        assert again.content == first.content
        assert len(redis_round_trips) == 1, url


# The public list without a filterset (catalog.reads.book_list_plan): its page statement is the ORM's.
PLANNED_LISTS = [
    {},
    {"n": "1", "page": "3"},
    {"category": "{root}"},
    {"category": "root"},
    {"category": "leaf", "min_price": "10", "max_price": "40.5"},
    {"author": "{author}"},
    {"author": "{author}", "ordering": "-price,title"},
    {"min_price": "0", "in_stock": "true"},
    {"in_stock": "No", "language": "ja"},
    {"format": "ebook", "min_rating": "2.5"},
    {"min_rating": "5", "ordering": "-average_rating"},
    {"ordering": "published_date,-popularity,created_at"},
    {"category": "{root}", "author": "{author}", "min_price": "1", "max_price": "99", "in_stock": "1",
     "language": "en", "format": "paperback", "min_rating": "1", "ordering": "title"},
]  # fmt: skip
NOT_PLANNED = [
    {"search": "x"}, {"facets": "format"}, {"is_active": "true"}, {"category": ""}, {"category": " root"},
    {"category": "missing"}, {"author": "007"}, {"author": "0"}, {"min_price": "1e1"}, {"min_price": "-1"},
    {"min_price": " 1"}, {"min_rating": "0.5"}, {"min_rating": "6"}, {"in_stock": "maybe"}, {"language": "xx"},
    {"format": "json"}, {"ordering": "price,"}, {"ordering": "price,price"}, {"ordering": "price, title"},
    {"ordering": "price,title,created_at,popularity"}, {"min_price": ["1", "2"]},
]  # fmt: skip


def _plan_catalog() -> dict:
    from catalog.tests.factories import CategoryFactory

    root = CategoryFactory(slug="root")
    child = CategoryFactory(slug="child", parent=root)
    CategoryFactory(slug="leaf", parent=child)
    author = AuthorFactory()
    BookFactory(category=child, authors=[author], price=Decimal("12.50"))
    return {"root": root.pk, "author": author.pk}


def _request(params: dict, ids: dict):
    query = {name: value.format(**ids) if isinstance(value, str) else value for name, value in params.items()}
    return Request(APIRequestFactory().get(BOOKS, query))


@pytest.mark.parametrize("params", PLANNED_LISTS)
def test_planned_list_statement_is_the_filtersets_queryset_compiled(params):
    """SQL and parameters, bound for the request, are those of the filterset's queryset (as the
    list pages it, before its slice), on either database."""
    from catalog import reads
    from catalog.filters import BookFilter
    from catalog.views import BookViewSet

    request = _request(params, _plan_catalog())
    plan = reads.book_list_plan(request)
    assert plan is not None
    statement = reads.plan_statement(plan)
    public = BookViewSet.queryset.all().defer("description").available()
    expected = reads.book_list_rows(BookFilter(request.query_params, queryset=public, request=request).qs)

    sql, expected_params = expected.query.sql_with_params()
    assert statement.sql == sql
    assert statement.bound(plan.values) == list(expected_params)
    assert [type(value) for value in statement.bound(plan.values)] == [type(value) for value in expected_params]
    assert reads.book_list_page(plan, 100, 0) == list(expected)
    # A page binding values selects its ids first: the same queryset's ids, without its joins.
    ids = reads.plan_ids_statement(plan)
    filtered = BookFilter(request.query_params, queryset=public, request=request).qs
    ids_sql, ids_params = filtered.select_related(None).prefetch_related(None).values_list("id").query.sql_with_params()
    assert (ids.sql, ids.bound(plan.values)) == (ids_sql, list(ids_params))
    assert '"catalog_category"' not in ids.sql and '"catalog_stock"' not in ids.sql


def test_a_page_binding_values_is_its_ids_then_those_books_in_their_order(django_assert_num_queries):
    """Category and price: the ids of the page, then its books (prepared on PostgreSQL), then their
    authors; page by page, the ORM's rows in the ORM's order."""
    from catalog import reads
    from catalog.filters import BookFilter
    from catalog.views import BookViewSet

    ids = _plan_catalog()
    child = Book.objects.get().category
    for price in ("30.00", "12.00", "30.00", "45.00", "15.50", "20.00"):
        BookFactory(category=child, price=Decimal(price), authors=[AuthorFactory()])
    BookFactory(category=child, price=Decimal("14.00"), is_active=False)
    params = {"category": "root", "min_price": "12", "max_price": "40", "ordering": "-price,title"}
    request = _request(params, ids)
    plan = reads.book_list_plan(request)
    public = BookViewSet.queryset.all().defer("description").available()
    expected = list(reads.book_list_rows(BookFilter(request.query_params, queryset=public, request=request).qs))
    assert len(expected) == 6

    pages = []
    for offset in (0, 2, 4, 6):
        with django_assert_num_queries(2 if offset < 6 else 1):  # the ids, the books (none past the end)
            pages.append(reads.book_list_page(plan, 2, offset))
    assert pages == [expected[0:2], expected[2:4], expected[4:6], []]
    price = reads.LIST_COLUMNS.index("price")
    assert [row[price] for row in expected] == sorted((row[price] for row in expected), reverse=True)
    if connection.vendor == "postgresql":
        prepared = _prepared_texts()
        assert [text for text in prepared if '"catalog_book"."id" IN ($1, $2)' in text]
        assert not [text for text in prepared if '"category_id" IN' in text]  # the ids: planned for their values


def _prepared_texts() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [text for (text,) in cursor.fetchall()]


@pytest.mark.parametrize("params", NOT_PLANNED)
def test_list_parameters_the_plan_does_not_take_are_left_to_the_filterset(params):
    from catalog import reads

    assert reads.book_list_plan(_request(params, _plan_catalog())) is None


def test_planned_list_by_category_reads_no_tree_once_the_subtree_is_known(
    api_client, redis_round_trips, django_assert_num_queries
):
    """The subtree of a category is kept in the process for the lists' version: a filtered page is
    the throttle's round trip and the stored answer's, and two statements (the count kept)."""
    ids = _plan_catalog()
    BookFactory.create_batch(3)
    assert api_client.get(BOOKS, {"category": "root", "warm": "1"}).status_code == 200  # count, tree

    redis_round_trips.clear()
    with django_assert_num_queries(3):  # the page's ids, its books, their authors
        response = api_client.get(BOOKS, {"category": "root", "max_price": "20"})
    assert response.status_code == 200
    assert len(redis_round_trips) == 2
    assert [book["category"]["id"] for book in response.json()["results"]] == [ids["root"] + 1]


def test_a_new_category_is_in_its_parents_filter_at_once(staff_client, api_client):
    """The kept subtree goes with the lists' version: a category added through the API counts."""
    _plan_catalog()
    assert api_client.get(BOOKS, {"category": "root"}).json()["count"] == 1
    created = staff_client.post("/api/v1/categories", {"name": "New", "slug": "new", "parent_id": None})
    assert created.status_code == 201, created.content
    book = BookFactory()
    Book.objects.filter(pk=book.pk).update(category_id=created.json()["id"])
    from catalog.caching import catalog_changed

    catalog_changed(book_ids=[book.pk])
    assert api_client.get(BOOKS, {"category": "new"}).json()["count"] == 1
