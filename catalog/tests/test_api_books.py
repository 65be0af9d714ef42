from decimal import Decimal

import pytest
from django.test.utils import override_settings

from catalog.models import Book, StockMovement
from catalog.tests.factories import AuthorFactory, BookFactory, CategoryFactory, ReviewFactory, stock_force

pytestmark = pytest.mark.django_db

BOOKS = "/api/v1/books"


def book_url(book) -> str:
    return f"{BOOKS}/{book.pk}"


def codes(response) -> list[tuple[str, str | None]]:
    return [(error["code"], error["attr"]) for error in response.json()["errors"]]


def new_book_payload(**overrides) -> dict:
    author = AuthorFactory()
    category = CategoryFactory()
    payload = {
        "isbn": "978-0-306-40615-7",
        "title": "The Testing Book",
        "author_ids": [author.pk],
        "category_id": category.pk,
        "language": "en",
        "format": "hardcover",
        "price": "19.99",
        "stock": 7,
    }
    payload.update(overrides)
    return payload


# Reading


def test_book_list_is_public_and_in_the_contract_shape(api_client):
    book = BookFactory(title="Dune", price=Decimal("9.50"), stock=3)
    ReviewFactory(book=book, rating=5)
    ReviewFactory(book=book, rating=4)

    response = api_client.get(BOOKS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["page"] == 1 and body["total_pages"] == 1
    item = body["results"][0]
    assert set(item) == {
        "id", "isbn", "title", "subtitle", "slug", "authors", "category", "publisher", "published_date",
        "language", "page_count", "format", "price", "currency", "stock", "in_stock", "cover_url",
        "average_rating", "review_count", "created_at", "updated_at",
    }  # fmt: skip
    assert item["price"] == "9.50"
    assert item["currency"] == "USD"
    assert item["in_stock"] is True
    assert item["average_rating"] == 4.5
    assert item["review_count"] == 2
    assert item["cover_url"] is None
    assert item["authors"] == [{"id": book.authors.get().pk, "name": book.authors.get().name}]
    assert item["category"] == {"id": book.category.pk, "name": book.category.name, "slug": book.category.slug}


def test_book_detail_includes_description_and_null_rating_without_reviews(api_client):
    book = BookFactory(description="A long story.")

    body = api_client.get(book_url(book)).json()

    assert body["description"] == "A long story."
    assert body["average_rating"] is None
    assert body["review_count"] == 0


def test_book_currency_comes_from_settings_at_request_time(api_client):
    book = BookFactory()
    with override_settings(STORE_CURRENCY="EUR"):
        assert api_client.get(book_url(book)).json()["currency"] == "EUR"


def test_book_list_default_order_is_newest_first(api_client):
    older, newer = BookFactory(), BookFactory()

    ids = [item["id"] for item in api_client.get(BOOKS).json()["results"]]

    assert ids == [newer.pk, older.pk]


def test_withdrawn_book_is_hidden_from_the_public_but_kept_for_staff(api_client, user_client, staff_client):
    book = BookFactory(is_active=False)

    assert api_client.get(book_url(book)).status_code == 404
    assert user_client.get(book_url(book)).status_code == 404
    assert api_client.get(BOOKS).json()["count"] == 0
    assert staff_client.get(book_url(book)).status_code == 200
    assert staff_client.get(BOOKS).json()["count"] == 0
    assert [b["id"] for b in staff_client.get(BOOKS, {"is_active": "false"}).json()["results"]] == [book.pk]
    assert user_client.get(BOOKS, {"is_active": "false"}).json()["count"] == 0


# Writing: permissions


def test_anonymous_cannot_create_a_book(api_client):
    response = api_client.post(BOOKS, new_book_payload())
    assert response.status_code == 401
    assert Book.objects.count() == 0


def test_customer_cannot_create_change_or_delete_a_book(user_client):
    book = BookFactory()
    assert user_client.post(BOOKS, new_book_payload()).status_code == 403
    assert user_client.patch(book_url(book), {"title": "Mine"}).status_code == 403
    assert user_client.delete(book_url(book)).status_code == 403
    book.refresh_from_db()
    assert book.title != "Mine" and book.is_active


def test_staff_creates_a_book_with_opening_stock_in_the_ledger(staff_client, staff_user):
    payload = new_book_payload()

    response = staff_client.post(BOOKS, payload)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["isbn"] == "9780306406157"
    assert body["slug"] == "the-testing-book"
    assert body["stock"] == 7
    assert body["format"] == "hardcover"
    assert body["price"] == "19.99"
    assert [a["id"] for a in body["authors"]] == payload["author_ids"]
    assert body["category"]["id"] == payload["category_id"]
    movement = StockMovement.objects.get(book_id=body["id"])
    assert (movement.delta, movement.stock_after, movement.reason, movement.actor) == (7, 7, "initial", staff_user)


def test_staff_stock_edit_writes_an_adjustment_movement(staff_client, staff_user):
    book = BookFactory(stock=10)

    response = staff_client.patch(book_url(book), {"stock": 4, "price": "15.00"})

    assert response.status_code == 200, response.json()
    assert response.json()["stock"] == 4
    assert response.json()["price"] == "15.00"
    book.refresh_from_db()
    assert book.stock == 4
    movement = StockMovement.objects.get(book=book)
    assert (movement.delta, movement.stock_after, movement.reason, movement.actor) == (-6, 4, "adjustment", staff_user)


def test_staff_replaces_authors_and_category(staff_client):
    book = BookFactory()
    author = AuthorFactory(name="New Author")
    category = CategoryFactory()

    response = staff_client.patch(book_url(book), {"author_ids": [author.pk], "category_id": category.pk})

    assert response.status_code == 200
    assert response.json()["authors"] == [{"id": author.pk, "name": "New Author"}]
    assert response.json()["category"]["id"] == category.pk


def test_staff_delete_withdraws_the_book_without_removing_it(staff_client):
    book = BookFactory()

    response = staff_client.delete(book_url(book))

    assert response.status_code == 204
    book.refresh_from_db()
    assert book.is_active is False


# Writing: validation


def test_isbn10_is_stored_as_isbn13(staff_client):
    response = staff_client.post(BOOKS, new_book_payload(isbn="0-306-40615-2"))

    assert response.status_code == 201
    assert response.json()["isbn"] == "9780306406157"


def test_isbn10_with_x_check_digit_is_accepted(staff_client):
    response = staff_client.post(BOOKS, new_book_payload(isbn="0-8044-2957-X"))

    assert response.status_code == 201
    assert response.json()["isbn"] == "9780804429573"


@pytest.mark.parametrize("isbn", ["978-0-306-40615-8", "0-306-40615-3", "12345", "97803064061ab", ""])
def test_bad_isbn_is_a_400(staff_client, isbn):
    response = staff_client.post(BOOKS, new_book_payload(isbn=isbn))

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert codes(response)[0][1] == "isbn"
    assert Book.objects.count() == 0


def test_duplicate_isbn_is_a_400_unique_even_when_sent_as_isbn10(staff_client):
    BookFactory(isbn="9780306406157")

    response = staff_client.post(BOOKS, new_book_payload(isbn="0306406152"))

    assert response.status_code == 400
    assert codes(response) == [("unique", "isbn")]


@pytest.mark.parametrize(
    ("field", "value"),
    [("price", "-1.00"), ("price", "0"), ("price", 1e30), ("price", "1e30"), ("price", "100000.00"), ("stock", -1)],
)
def test_bad_money_or_stock_is_a_400(staff_client, field, value):
    response = staff_client.post(BOOKS, new_book_payload(**{field: value}))

    assert response.status_code == 400
    assert codes(response)[0][1] == field
    assert Book.objects.count() == 0


def test_unknown_author_or_category_is_a_400(staff_client):
    response = staff_client.post(BOOKS, new_book_payload(author_ids=[999999], category_id=999999))

    assert response.status_code == 400
    assert {attr for _, attr in codes(response)} == {"author_ids", "category_id"}


def test_unknown_format_or_language_is_a_400(staff_client):
    response = staff_client.post(BOOKS, new_book_payload(format="scroll", language="xx"))

    assert response.status_code == 400
    assert {attr for _, attr in codes(response)} == {"format", "language"}


def test_negative_stock_is_refused_by_the_database_too():
    from django.db import IntegrityError, transaction

    book = BookFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        stock_force(book.pk, -1)


# Filters


def test_category_filter_includes_sub_categories_by_id_or_slug(api_client):
    fiction = CategoryFactory(slug="fiction")
    fantasy = CategoryFactory(parent=fiction, slug="fantasy")
    epic = CategoryFactory(parent=fantasy, slug="epic")
    in_fiction, in_epic = BookFactory(category=fiction), BookFactory(category=epic)
    BookFactory()  # elsewhere

    by_slug = api_client.get(BOOKS, {"category": "fiction"}).json()
    by_id = api_client.get(BOOKS, {"category": fantasy.pk}).json()

    assert {b["id"] for b in by_slug["results"]} == {in_fiction.pk, in_epic.pk}
    assert {b["id"] for b in by_id["results"]} == {in_epic.pk}
    assert api_client.get(BOOKS, {"category": "no-such-category"}).json()["count"] == 0


def test_author_price_stock_language_format_filters(api_client):
    author = AuthorFactory()
    cheap = BookFactory(price=Decimal("5.00"), stock=0, language="fr", format="ebook", authors=[author])
    dear = BookFactory(price=Decimal("50.00"), stock=2)

    def ids(**params):
        return {b["id"] for b in api_client.get(BOOKS, params).json()["results"]}

    assert ids(author=author.pk) == {cheap.pk}
    assert ids(min_price="10") == {dear.pk}
    assert ids(max_price="10") == {cheap.pk}
    assert ids(in_stock="true") == {dear.pk}
    assert ids(in_stock="false") == {cheap.pk}
    assert ids(language="fr") == {cheap.pk}
    assert ids(format="ebook") == {cheap.pk}


def test_min_rating_filter_uses_the_average(api_client):
    good, poor = BookFactory(), BookFactory()
    BookFactory()  # unrated
    ReviewFactory(book=good, rating=5)
    ReviewFactory(book=good, rating=4)
    ReviewFactory(book=poor, rating=2)

    results = api_client.get(BOOKS, {"min_rating": "4"}).json()["results"]

    assert [b["id"] for b in results] == [good.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"min_price": "abc"},
        {"max_price": "1e"},
        {"in_stock": "maybe"},
        {"language": "xx"},
        {"format": "scroll"},
        {"author": "abc"},
        {"min_rating": "9"},
        {"category": "not a slug!"},
        {"ordering": "isbn"},
        {"ordering": "-stock"},
        {"search": "x" * 201},
        {"page": "0"},
        {"page_size": "abc"},
    ],
)
def test_bad_filter_values_are_a_400_in_the_error_shape(api_client, params):
    BookFactory()

    response = api_client.get(BOOKS, params)

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["errors"][0]["attr"] == next(iter(params))


@pytest.mark.parametrize(
    ("ordering", "key"),
    [
        ("price", lambda b: (b.price, b.pk)),
        ("title", lambda b: (b.title.lower(), b.pk)),
        ("created_at", lambda b: (b.created_at, b.pk)),
        ("published_date", lambda b: (b.published_date, b.pk)),
    ],
)
def test_every_ordering_in_both_directions(api_client, ordering, key):
    import datetime

    books = [
        BookFactory(title="banana", price=Decimal("3.00"), published_date=datetime.date(2001, 1, 1)),
        BookFactory(title="Apple", price=Decimal("9.00"), published_date=datetime.date(1999, 1, 1)),
        BookFactory(title="cherry", price=Decimal("5.00"), published_date=datetime.date(2010, 1, 1)),
    ]
    ascending = [b.pk for b in sorted(books, key=key)]

    up = [b["id"] for b in api_client.get(BOOKS, {"ordering": ordering}).json()["results"]]
    down = [b["id"] for b in api_client.get(BOOKS, {"ordering": f"-{ordering}"}).json()["results"]]

    assert up == ascending
    assert down == ascending[::-1]


def test_average_rating_ordering_puts_unrated_books_last(api_client):
    unrated, low, high = BookFactory(), BookFactory(), BookFactory()
    ReviewFactory(book=low, rating=2)
    ReviewFactory(book=high, rating=5)

    up = [b["id"] for b in api_client.get(BOOKS, {"ordering": "average_rating"}).json()["results"]]
    down = [b["id"] for b in api_client.get(BOOKS, {"ordering": "-average_rating"}).json()["results"]]

    assert up == [low.pk, high.pk, unrated.pk]
    assert down == [high.pk, low.pk, unrated.pk]


# Query budget


@pytest.mark.parametrize("page_size", [1, 100])
def test_book_list_runs_a_constant_number_of_queries(api_client, user, django_assert_max_num_queries, page_size):
    for _ in range(100):
        book = BookFactory(authors=[AuthorFactory(), AuthorFactory()])
        ReviewFactory(book=book, user=user, rating=3)

    with django_assert_max_num_queries(3):
        response = api_client.get(BOOKS, {"page_size": page_size, "ordering": "-average_rating"})

    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size
    assert all(len(b["authors"]) == 2 and b["review_count"] == 1 for b in response.json()["results"])


def test_book_list_with_filters_stays_within_budget(api_client, django_assert_max_num_queries):
    parent = CategoryFactory(slug="parent")
    for _ in range(30):
        BookFactory(category=CategoryFactory(parent=parent))

    # The category tree comes from the shared cache once a request has loaded it.
    assert api_client.get(BOOKS, {"category": "parent"}).status_code == 200
    with django_assert_max_num_queries(3):
        response = api_client.get(BOOKS, {"page_size": 100, "category": "parent", "search": "Book", "min_rating": 1})

    assert response.status_code == 200


def test_book_detail_runs_at_most_two_queries(api_client, django_assert_max_num_queries):
    book = BookFactory(authors=[AuthorFactory(), AuthorFactory()])

    with django_assert_max_num_queries(2):
        assert api_client.get(book_url(book)).status_code == 200


def test_book_detail_for_a_signed_in_user_reads_the_user_once(user_client, django_assert_max_num_queries):
    book, other = BookFactory.create_batch(2)

    with django_assert_max_num_queries(3):  # the user's row, then cached
        assert user_client.get(book_url(book)).status_code == 200
    with django_assert_max_num_queries(2):
        assert user_client.get(book_url(other)).status_code == 200


def test_trailing_slashes_are_optional_without_redirects(api_client, staff_client):
    book = BookFactory()

    assert api_client.get(f"{BOOKS}/").status_code == 200
    assert api_client.get(f"{book_url(book)}/").status_code == 200
    assert staff_client.post(f"{BOOKS}/", new_book_payload()).status_code == 201


@pytest.mark.parametrize("isbn", [{}, [], ["9780306406157"], 9780306406157, True, 97803064061.5])
@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_an_isbn_that_is_not_a_string_is_a_400_invalid(staff_client, isbn, method):
    book = BookFactory()
    url = BOOKS if method == "post" else book_url(book)

    response = getattr(staff_client, method)(url, new_book_payload(isbn=isbn))

    assert response.status_code == 400
    assert codes(response) == [("invalid", "isbn")]
    assert Book.objects.count() == 1
