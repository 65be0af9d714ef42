"""Catalog writes at the same moment: each unique constraint and each cross-row rule under a race.

Exactly one request wins a unique value; the others get the 400 `unique` a sequential duplicate
gets, never a 500. A derived value (a slug made from a name) is not the client's choice: a race
ends as two sequential requests would.
"""

import pytest

from accounts.tests.factories import UserFactory
from bookstore.tests.clients import client_for
from bookstore.tests.concurrency import meet_before, outcomes, run_together
from catalog import services
from catalog.models import Author, Book, Category, Review
from catalog.tests.factories import AuthorFactory, BookFactory, CategoryFactory
from catalog.views import CategoryViewSet

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BOOKS = "/api/v1/books"
CATEGORIES = "/api/v1/categories"
AUTHORS = "/api/v1/authors"
RACERS = 6


def _staff_clients(n=RACERS):
    user = UserFactory(is_staff=True)
    return [client_for(user) for _ in range(n)]


def test_simultaneous_categories_with_one_slug_make_one_the_rest_400_unique(monkeypatch):
    meet_before(monkeypatch, (CategoryViewSet, "perform_create"), parties=RACERS)

    responses = run_together(
        [lambda c=c: c.post(CATEGORIES, {"name": "Poetry", "slug": "poetry"}) for c in _staff_clients()]
    )

    assert outcomes(responses) == {(201, None, None): 1, (400, "unique", "slug"): RACERS - 1}
    assert Category.objects.filter(slug="poetry").count() == 1


def test_simultaneous_categories_with_one_name_get_the_slugs_sequential_ones_get(monkeypatch):
    meet_before(monkeypatch, (CategoryViewSet, "perform_create"), parties=RACERS)

    responses = run_together([lambda c=c: c.post(CATEGORIES, {"name": "Poetry"}) for c in _staff_clients()])

    assert outcomes(responses) == {(201, None, None): RACERS}
    assert sorted(r.json()["slug"] for r in responses) == sorted(
        ["poetry", *(f"poetry-{n}" for n in range(2, RACERS + 1))]
    )


def test_simultaneous_renames_to_one_slug_change_one_category(monkeypatch):
    categories = CategoryFactory.create_batch(RACERS)
    meet_before(monkeypatch, (CategoryViewSet, "perform_update"), parties=RACERS)

    responses = run_together(
        [
            lambda c=c, pk=category.pk: c.patch(f"{CATEGORIES}/{pk}", {"slug": "poetry"})
            for c, category in zip(_staff_clients(), categories, strict=True)
        ]
    )

    assert outcomes(responses) == {(200, None, None): 1, (400, "unique", "slug"): RACERS - 1}
    assert Category.objects.filter(slug="poetry").count() == 1


def _book_payload(isbn="9780306406157", **overrides):
    return {"isbn": isbn, "title": "Raced", "price": "10.00", "stock": 3, **overrides}


def test_simultaneous_books_with_one_isbn_make_one_the_rest_400_unique(monkeypatch):
    meet_before(monkeypatch, (services, "book_create"), parties=RACERS)

    responses = run_together([lambda c=c: c.post(BOOKS, _book_payload()) for c in _staff_clients()])

    assert outcomes(responses) == {(201, None, None): 1, (400, "unique", "isbn"): RACERS - 1}
    book = Book.objects.get(isbn="9780306406157")
    assert list(book.stock_movements.values_list("delta", flat=True)) == [3]


def test_simultaneous_edits_to_one_isbn_change_one_book(monkeypatch):
    books = BookFactory.create_batch(RACERS)
    meet_before(monkeypatch, (services, "book_update"), parties=RACERS)

    responses = run_together(
        [
            lambda c=c, pk=book.pk: c.patch(f"{BOOKS}/{pk}", {"isbn": "978-0-306-40615-7"})
            for c, book in zip(_staff_clients(), books, strict=True)
        ]
    )

    assert outcomes(responses) == {(200, None, None): 1, (400, "unique", "isbn"): RACERS - 1}
    assert Book.objects.filter(isbn="9780306406157").count() == 1


def test_simultaneous_reviews_by_one_user_make_one_the_rest_400_unique(monkeypatch):
    book = BookFactory()
    reviewer = UserFactory()
    sequential_duplicate = {"code": "unique", "attr": "non_field_errors"}
    meet_before(monkeypatch, (services, "review_create"), parties=RACERS)

    responses = run_together(
        [lambda c=c: c.post(f"{BOOKS}/{book.pk}/reviews", {"rating": 4}) for c in [client_for(reviewer)] * RACERS]
    )

    assert outcomes(responses) == {
        (201, None, None): 1,
        (400, sequential_duplicate["code"], sequential_duplicate["attr"]): RACERS - 1,
    }
    assert Review.objects.filter(book=book, user=reviewer).count() == 1
    again = client_for(reviewer).post(f"{BOOKS}/{book.pk}/reviews", {"rating": 4})
    assert next(r for r in responses if r.status_code == 400).json() == again.json()


def test_categories_made_each_others_parent_at_once_leave_no_cycle(monkeypatch):
    a, b = CategoryFactory(), CategoryFactory()
    first, second = _staff_clients(2)
    meet_before(monkeypatch, (CategoryViewSet, "perform_update"), parties=2)

    responses = run_together(
        [
            lambda: first.patch(f"{CATEGORIES}/{a.pk}", {"parent_id": b.pk}),
            lambda: second.patch(f"{CATEGORIES}/{b.pk}", {"parent_id": a.pk}),
        ]
    )

    assert outcomes(responses) == {(200, None, None): 1, (400, "cycle", "parent_id"): 1}
    parents = dict(Category.objects.filter(pk__in=[a.pk, b.pk]).values_list("pk", "parent_id"))
    assert None in parents.values()


def test_three_moves_closing_a_loop_at_once_leave_no_cycle(monkeypatch):
    # a and b are roots; c is under b and d under a. a under c and b under d would close a loop
    # a → c → b → d → a, though the two moves touch four different rows.
    a, b = CategoryFactory(), CategoryFactory()
    c, d = CategoryFactory(parent=b), CategoryFactory(parent=a)
    first, second = _staff_clients(2)
    meet_before(monkeypatch, (CategoryViewSet, "perform_update"), parties=2)

    responses = run_together(
        [
            lambda: first.patch(f"{CATEGORIES}/{a.pk}", {"parent_id": c.pk}),
            lambda: second.patch(f"{CATEGORIES}/{b.pk}", {"parent_id": d.pk}),
        ]
    )

    assert outcomes(responses) == {(200, None, None): 1, (400, "cycle", "parent_id"): 1}
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.parent_id is None or b.parent_id is None


def _edit_and_delete(monkeypatch, edit, delete, targets):
    meet_before(monkeypatch, *targets, parties=2)
    return run_together([edit, delete])


def _errors(response):
    return [(error["code"], error["attr"]) for error in response.json()["errors"]]


@pytest.mark.parametrize("round_", range(3))
def test_a_book_edit_racing_its_new_authors_deletion_answers_the_truth(monkeypatch, round_):
    book, author = BookFactory(), AuthorFactory()
    first, second = _staff_clients(2)

    edit, delete = _edit_and_delete(
        monkeypatch,
        lambda: first.patch(f"{BOOKS}/{book.pk}", {"author_ids": [author.pk]}),
        lambda: second.delete(f"{AUTHORS}/{author.pk}"),
        [(services, "book_update"), (services, "author_delete")],
    )

    if delete.status_code == 204:  # the deletion went first: the edit names a missing author
        assert (edit.status_code, _errors(edit)) == (400, [("does_not_exist", "author_ids")])
        assert not Author.objects.filter(pk=author.pk).exists()
    else:  # the edit went first: the author has a book now
        assert (edit.status_code, delete.status_code) == (200, 409), (edit.json(), delete.json())
        assert list(Book.objects.get(pk=book.pk).authors.all()) == [author]


def test_a_book_edit_whose_author_is_deleted_after_the_checks_is_a_400_on_author_ids(monkeypatch):
    book, author = BookFactory(), AuthorFactory()
    original = services.book_update

    def deleted_meanwhile(**kwargs):
        Author.objects.filter(pk=author.pk).delete()  # committed: another staff member's request
        return original(**kwargs)

    monkeypatch.setattr(services, "book_update", deleted_meanwhile)
    response = client_for(UserFactory(is_staff=True)).patch(f"{BOOKS}/{book.pk}", {"author_ids": [author.pk]})

    assert (response.status_code, _errors(response)) == (400, [("does_not_exist", "author_ids")])


@pytest.mark.parametrize("round_", range(3))
def test_a_book_edit_racing_its_new_categorys_deletion_answers_the_truth(monkeypatch, round_):
    book, category = BookFactory(), CategoryFactory()
    first, second = _staff_clients(2)

    edit, delete = _edit_and_delete(
        monkeypatch,
        lambda: first.patch(f"{BOOKS}/{book.pk}", {"category_id": category.pk}),
        lambda: second.delete(f"{CATEGORIES}/{category.pk}"),
        [(services, "book_update"), (services, "category_delete")],
    )

    if delete.status_code == 204:
        assert (edit.status_code, _errors(edit)) == (400, [("does_not_exist", "category_id")])
    else:
        assert (edit.status_code, delete.status_code) == (200, 409), (edit.json(), delete.json())
        assert Book.objects.get(pk=book.pk).category_id == category.pk


@pytest.mark.parametrize("round_", range(3))
def test_a_new_sub_category_racing_its_parents_deletion_answers_the_truth(monkeypatch, round_):
    parent = CategoryFactory()
    first, second = _staff_clients(2)

    create, delete = _edit_and_delete(
        monkeypatch,
        lambda: first.post(CATEGORIES, {"name": "Child", "parent_id": parent.pk}),
        lambda: second.delete(f"{CATEGORIES}/{parent.pk}"),
        [(services, "category_create"), (services, "category_delete")],
    )

    if delete.status_code == 204:
        assert (create.status_code, _errors(create)) == (400, [("does_not_exist", "parent_id")])
    else:
        assert (create.status_code, delete.status_code) == (201, 409), (create.json(), delete.json())


def test_one_user_reporting_a_review_twice_at_once_gets_one_204_and_one_409(monkeypatch):
    from catalog.tests.factories import ReviewFactory

    review = ReviewFactory()
    reporter = UserFactory()
    meet_before(monkeypatch, (services, "review_report"), parties=2)

    responses = run_together(
        [
            lambda c=c: c.post(f"/api/v1/reviews/{review.pk}/report", {"reason": "Spam"}, format="json")
            for c in [client_for(reporter), client_for(reporter)]
        ]
    )

    assert outcomes(responses) == {(204, None, None): 1, (409, "already_reported", None): 1}
    assert review.reports.count() == 1


def test_reports_from_different_users_at_once_hide_the_review_at_the_threshold(monkeypatch, settings):
    from catalog.tests.factories import ReviewFactory

    settings.REVIEW_REPORTS_TO_HIDE = 3
    review = ReviewFactory()
    meet_before(monkeypatch, (services, "review_report"), parties=3)

    responses = run_together(
        [
            lambda c=c: c.post(f"/api/v1/reviews/{review.pk}/report", {"reason": "Rude"}, format="json")
            for c in [client_for(UserFactory()) for _ in range(3)]
        ]
    )

    assert outcomes(responses) == {(204, None, None): 3}
    review.refresh_from_db()
    assert review.status == "hidden"


def test_simultaneous_refreshes_of_one_books_postings_leave_one_set():
    """A review moderated while staff edit the price: each rewrites the book's search postings. The
    second waits for the first and rewrites what it wrote; without that wait both sets stay, and the
    old price's set counts the book in a second price facet."""
    import threading

    from django.db import connection, transaction

    from catalog.models import SearchPosting
    from catalog.search_index import book_postings_refresh, book_search_vector_refresh

    book = BookFactory(title="Zebra Crossing", price="12.00")
    book_search_vector_refresh(book_ids=[book.pk])
    words = SearchPosting.objects.filter(book=book).count()
    assert words
    second_done = threading.Event()

    def second():
        try:
            book_postings_refresh(book_ids=[book.pk])
        finally:
            connection.close()
            second_done.set()

    with transaction.atomic():
        Book.objects.filter(pk=book.pk).update(price="9.00")
        book_postings_refresh(book_ids=[book.pk])
        thread = threading.Thread(target=second)
        thread.start()
        assert not second_done.wait(0.5)  # the second refresh waits for this transaction
    thread.join(10)
    assert SearchPosting.objects.filter(book=book).count() == words
    prices = set(SearchPosting.objects.filter(book=book).values_list("price", flat=True))
    assert prices == {Book.objects.get(pk=book.pk).price}
