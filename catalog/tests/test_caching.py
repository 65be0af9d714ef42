"""The shared cache of catalog reads: invalidated by the writes that change what it shows (not by
sales, whose stock is merged in at read time), ETags, and reads without Redis."""

from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache

from catalog import caching
from catalog.stock import stock_apply
from catalog.tests.factories import BookFactory, CategoryFactory, ReviewFactory

pytestmark = pytest.mark.django_db

BOOKS = "/api/v1/books"


@pytest.fixture(autouse=True)
def _cache_reachable():
    caching._cache_down_until = 0.0
    yield
    caching._cache_down_until = 0.0


def test_a_repeated_catalog_read_comes_from_the_cache(api_client, django_assert_num_queries):
    book = BookFactory()
    first = api_client.get(f"{BOOKS}/{book.pk}")
    listed = api_client.get(BOOKS)

    with django_assert_num_queries(2):  # each merges the current stock in: one query by primary key
        again = api_client.get(f"{BOOKS}/{book.pk}")
        listed_again = api_client.get(BOOKS)

    assert again.status_code == 200 and again.content == first.content
    assert listed_again.content == listed.content
    assert again["ETag"] == first["ETag"]


def test_a_staff_price_change_is_visible_on_the_next_request(api_client, staff_client):
    book = BookFactory(price=Decimal("12.50"))
    assert api_client.get(f"{BOOKS}/{book.pk}").json()["price"] == "12.50"
    assert api_client.get(BOOKS).json()["results"][0]["price"] == "12.50"

    assert staff_client.patch(f"{BOOKS}/{book.pk}", {"price": "9.99"}, format="json").status_code == 200

    assert api_client.get(f"{BOOKS}/{book.pk}").json()["price"] == "9.99"
    assert api_client.get(BOOKS).json()["results"][0]["price"] == "9.99"


def test_a_sale_keeps_cached_reads_and_they_show_the_stock_left(api_client, django_assert_num_queries):
    book = BookFactory(stock=10)
    detail, listed = api_client.get(f"{BOOKS}/{book.pk}"), api_client.get(BOOKS, {"in_stock": "true"})
    version = cache.get(caching.VERSION_KEY)

    stock_apply(changes={book.pk: -3}, reason="sale")

    assert cache.get(caching.VERSION_KEY) == version
    with django_assert_num_queries(1):  # the stock merge, not the book's read again
        detail_after = api_client.get(f"{BOOKS}/{book.pk}")
    with django_assert_num_queries(1):
        listed_after = api_client.get(BOOKS, {"in_stock": "true"})
    assert (detail_after.json()["stock"], detail_after.json()["in_stock"]) == (7, True)
    assert [(b["id"], b["stock"]) for b in listed_after.json()["results"]] == [(book.pk, 7)]
    assert detail_after["ETag"] != detail["ETag"] and listed_after["ETag"] != listed["ETag"]
    stale = api_client.get(f"{BOOKS}/{book.pk}", HTTP_IF_NONE_MATCH=detail["ETag"])
    assert stale.status_code == 200 and stale.json()["stock"] == 7


def test_selling_out_and_restocking_move_the_book_between_the_in_stock_lists(api_client):
    book = BookFactory(stock=2)
    assert [b["id"] for b in api_client.get(BOOKS, {"in_stock": "true"}).json()["results"]] == [book.pk]
    assert api_client.get(BOOKS, {"in_stock": "false"}).json()["count"] == 0

    stock_apply(changes={book.pk: -2}, reason="sale")
    assert api_client.get(BOOKS, {"in_stock": "true"}).json()["count"] == 0
    sold_out = api_client.get(BOOKS, {"in_stock": "false"}).json()["results"]
    assert [(b["id"], b["stock"], b["in_stock"]) for b in sold_out] == [(book.pk, 0, False)]
    assert api_client.get(f"{BOOKS}/{book.pk}").json()["in_stock"] is False

    stock_apply(changes={book.pk: 5}, reason="restock")
    assert [b["id"] for b in api_client.get(BOOKS, {"in_stock": "true"}).json()["results"]] == [book.pk]
    assert api_client.get(BOOKS, {"in_stock": "false"}).json()["count"] == 0


def test_reviews_and_withdrawals_invalidate_cached_reads(api_client, staff_client, user):
    book = BookFactory(stock=10)
    url = f"{BOOKS}/{book.pk}"
    assert api_client.get(url).json()["review_count"] == 0

    ReviewFactory(book=book, user=user, rating=4)
    assert api_client.get(url).json()["review_count"] == 1

    assert staff_client.delete(url).status_code == 204
    assert api_client.get(url).status_code == 404
    assert api_client.get(BOOKS).json()["count"] == 0


def test_conditional_catalog_reads_answer_304(api_client, staff_client):
    book = BookFactory(price=Decimal("12.50"))
    for url in (f"{BOOKS}/{book.pk}", BOOKS):
        first = api_client.get(url)
        etag = first["ETag"]

        not_modified = api_client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert not_modified.status_code == 304
        assert not_modified.content == b""
        assert not_modified["ETag"] == etag
        assert api_client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200

    assert staff_client.patch(f"{BOOKS}/{book.pk}", {"price": "9.99"}, format="json").status_code == 200
    changed = api_client.get(f"{BOOKS}/{book.pk}", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["price"] == "9.99"


def test_conditional_reads_answer_304_on_a_cache_miss_too(api_client):
    book = BookFactory()
    etag = api_client.get(f"{BOOKS}/{book.pk}")["ETag"]
    cache.clear()

    assert api_client.get(f"{BOOKS}/{book.pk}", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_staff_reads_are_not_shared_with_the_public(api_client, staff_client):
    book = BookFactory(is_active=False)

    assert staff_client.get(f"{BOOKS}/{book.pk}").status_code == 200
    assert staff_client.get(BOOKS, {"is_active": "false"}).json()["count"] == 1
    assert api_client.get(f"{BOOKS}/{book.pk}").status_code == 404
    assert api_client.get(BOOKS, {"is_active": "false"}).json()["count"] == 0


def test_catalog_reads_work_from_the_database_when_the_cache_is_down(api_client):
    book = BookFactory(category=CategoryFactory(slug="fiction"))
    broken = mock.patch.multiple(
        cache, get=mock.DEFAULT, set=mock.DEFAULT, add=mock.DEFAULT, incr=mock.DEFAULT,
    )  # fmt: skip
    with broken as mocks:
        for name in ("get", "set", "add", "incr"):
            mocks[name].side_effect = ConnectionError("redis is down")
        detail = api_client.get(f"{BOOKS}/{book.pk}")
        listed = api_client.get(BOOKS, {"category": "fiction"})

    assert detail.status_code == 200 and detail.json()["id"] == book.pk
    assert listed.status_code == 200 and listed.json()["count"] == 1


def _counts(queries) -> int:
    return sum("__count" in q["sql"] for q in queries.captured_queries)  # Django's COUNT(*) AS "__count"


def test_a_lists_count_is_taken_once_per_catalog_version_and_not_again_after_sales(api_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    books = BookFactory.create_batch(3, stock=5)
    with CaptureQueriesContext(connection) as first:
        assert api_client.get(BOOKS, {"page_size": 1, "page": 2}).json()["count"] == 3
    stock_apply(changes={books[0].pk: -1}, reason="sale")
    with CaptureQueriesContext(connection) as later:  # another page, another URL: not the cached answer
        body = api_client.get(BOOKS, {"page_size": 1, "page": 3, "ordering": "title"}).json()

    assert _counts(first) == 1 and _counts(later) == 0
    assert (body["count"], body["total_pages"]) == (3, 3)

    BookFactory()  # a write that changes which books the list holds: counted again
    assert api_client.get(BOOKS, {"page_size": 1, "page": 2}).json()["count"] == 4


def test_an_in_stock_lists_count_follows_a_sell_out(api_client):
    books = BookFactory.create_batch(3, stock=1)
    assert api_client.get(BOOKS, {"in_stock": "true", "page_size": 1, "page": 2}).json()["count"] == 3

    stock_apply(changes={books[0].pk: -1}, reason="sale")

    assert api_client.get(BOOKS, {"in_stock": "true", "page_size": 1, "page": 2}).json()["count"] == 2
    assert api_client.get(BOOKS, {"in_stock": "false", "page_size": 1}).json()["count"] == 1


# Invalidation is explicit in the services (catalog.caching): a cached read goes only when
# something it shows or filters on changes, and only the reads that show it.


def _cached(api_client, url, params=None) -> bool:
    """Whether this public read is answered from the cache (one query: the stock merge)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(url, params).status_code == 200
    return len(queries) == 1


def test_an_admin_title_edit_shows_on_the_books_detail_and_lists_at_once(api_client):
    from django.test import Client

    from accounts.models import User

    book = BookFactory(title="Old title")
    assert api_client.get(f"{BOOKS}/{book.pk}").json()["title"] == "Old title"
    assert api_client.get(BOOKS).json()["results"][0]["title"] == "Old title"
    admin = Client()
    admin.force_login(User.objects.create_superuser(email="boss@example.com", password="x-admin-pass-123"))
    form = {
        "isbn": book.isbn, "title": "New title", "slug": book.slug, "authors": [a.pk for a in book.authors.all()],
        "category": book.category_id, "language": "en", "format": "paperback", "price": str(book.price),
        "stock": str(book.stock), "is_active": "on", "stock_movements-TOTAL_FORMS": "0",
        "stock_movements-INITIAL_FORMS": "0", "stock_movements-MIN_NUM_FORMS": "0",
        "stock_movements-MAX_NUM_FORMS": "0",
    }  # fmt: skip

    assert admin.post(f"/admin/catalog/book/{book.pk}/change/", form).status_code == 302

    assert api_client.get(f"{BOOKS}/{book.pk}").json()["title"] == "New title"
    assert api_client.get(BOOKS).json()["results"][0]["title"] == "New title"


def test_a_change_to_one_book_keeps_the_other_books_cached_details(api_client):
    from catalog import services

    changed, other = BookFactory(), BookFactory()
    for book in (changed, other):
        api_client.get(f"{BOOKS}/{book.pk}")

    services.book_update(book=changed, price=Decimal("3.00"))

    assert _cached(api_client, f"{BOOKS}/{other.pk}")
    assert api_client.get(f"{BOOKS}/{changed.pk}").json()["price"] == "3.00"


def test_a_sale_that_leaves_stock_on_both_sides_of_zero_invalidates_nothing(api_client):
    book = BookFactory(stock=10)
    urls = [(f"{BOOKS}/{book.pk}", None), (BOOKS, None), (BOOKS, {"in_stock": "true"})]
    for url, params in urls:
        api_client.get(url, params)

    stock_apply(changes={book.pk: -3}, reason="sale")
    stock_apply(changes={book.pk: 1}, reason="cancellation")

    assert all(_cached(api_client, url, params) for url, params in urls)


def test_selling_out_invalidates_the_books_detail_and_the_lists_not_other_details(api_client):
    sold, other = BookFactory(stock=1), BookFactory(stock=5)
    for book in (sold, other):
        api_client.get(f"{BOOKS}/{book.pk}")
    before = api_client.get(f"{BOOKS}/{sold.pk}").json()["updated_at"]

    stock_apply(changes={sold.pk: -1}, reason="sale")

    after = api_client.get(f"{BOOKS}/{sold.pk}").json()
    assert (after["in_stock"], after["updated_at"] > before) == (False, True)
    assert _cached(api_client, f"{BOOKS}/{other.pk}")


def test_an_author_rename_shows_on_their_books_and_a_new_bio_invalidates_nothing(api_client):
    from catalog import services
    from catalog.tests.factories import AuthorFactory

    author = AuthorFactory(name="Ann Old")
    book, other = BookFactory(authors=[author]), BookFactory()
    for url in (f"{BOOKS}/{book.pk}", f"{BOOKS}/{other.pk}", BOOKS):
        api_client.get(url)

    services.author_update(author=author, bio="Another life.")
    assert all(_cached(api_client, url) for url in (f"{BOOKS}/{book.pk}", BOOKS))

    services.author_update(author=author, name="Ann New")
    assert [a["name"] for a in api_client.get(f"{BOOKS}/{book.pk}").json()["authors"]] == ["Ann New"]
    listed = {b["id"]: b["authors"] for b in api_client.get(BOOKS).json()["results"]}
    assert [a["name"] for a in listed[book.pk]] == ["Ann New"]
    assert _cached(api_client, f"{BOOKS}/{other.pk}")


def test_a_category_rename_shows_on_its_books_and_in_the_lists_filtered_by_it(api_client):
    from catalog import services

    category = CategoryFactory(name="Old name", slug="old-slug")
    book, other = BookFactory(category=category), BookFactory()
    for url, params in ((f"{BOOKS}/{book.pk}", None), (f"{BOOKS}/{other.pk}", None), (BOOKS, {"category": "old-slug"})):
        api_client.get(url, params)

    services.category_update(category=category, name="New name", slug="new-slug")

    assert api_client.get(f"{BOOKS}/{book.pk}").json()["category"]["name"] == "New name"
    assert api_client.get(BOOKS, {"category": "new-slug"}).json()["count"] == 1
    assert api_client.get(BOOKS, {"category": "old-slug"}).json()["count"] == 0
    assert _cached(api_client, f"{BOOKS}/{other.pk}")


def test_moving_a_category_changes_the_lists_of_its_old_parent(api_client):
    from catalog import services

    parent, child = CategoryFactory(slug="parent"), CategoryFactory(slug="child")
    BookFactory(category=child)
    assert api_client.get(BOOKS, {"category": "parent"}).json()["count"] == 0

    services.category_update(category=child, parent_id=parent.pk)

    assert api_client.get(BOOKS, {"category": "parent"}).json()["count"] == 1


def test_reviews_change_the_books_rating_on_its_detail(api_client, user, staff_user):
    from catalog import services
    from catalog.models import Review

    book, other = BookFactory(), BookFactory()
    for b in (book, other):
        api_client.get(f"{BOOKS}/{b.pk}")

    review = services.review_create(book=book, user=user, rating=2)
    assert api_client.get(f"{BOOKS}/{book.pk}").json()["average_rating"] == 2.0
    services.review_update(review=review, rating=4)
    assert api_client.get(f"{BOOKS}/{book.pk}").json()["average_rating"] == 4.0
    services.review_update(review=review, title="Better on a second read")
    assert _cached(api_client, f"{BOOKS}/{book.pk}")
    services.reviews_hide(reviews=Review.objects.filter(pk=review.pk), reason="Spoilers")
    assert api_client.get(f"{BOOKS}/{book.pk}").json()["review_count"] == 0
    services.reviews_restore(reviews=Review.objects.filter(pk=review.pk))
    assert api_client.get(f"{BOOKS}/{book.pk}").json()["review_count"] == 1
    services.review_delete(review=review)
    assert api_client.get(f"{BOOKS}/{book.pk}").json()["review_count"] == 0
    assert _cached(api_client, f"{BOOKS}/{other.pk}")


def test_an_import_that_changes_a_book_shows_on_its_detail(api_client, tmp_path):
    import io

    from django.core.management import call_command

    book = BookFactory(isbn="9780306406157", title="Old title", stock=10)
    assert api_client.get(f"{BOOKS}/{book.pk}").json()["title"] == "Old title"
    path = tmp_path / "books.csv"
    path.write_text(
        "isbn,title,authors,price,stock\n978-0-306-40615-7,New title,Ann Author,12.50,5\n", encoding="utf-8"
    )

    call_command("import_books", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    assert api_client.get(f"{BOOKS}/{book.pk}").json()["title"] == "New title"


def test_writes_invalidate_through_the_services_not_through_model_signals():
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from catalog.models import Author, Book, Category, Review

    for model in (Book, Author, Category, Review):
        assert not post_save.has_listeners(model) and not post_delete.has_listeners(model), model
    assert not m2m_changed.has_listeners(Book.authors.through)
