"""The catalog's back office writes through the same services as the API (one write path per entity),
driven over HTTP with the services spied on."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog import services
from catalog.admin import BookAdminForm
from catalog.models import Author, Book, Category, Review, ReviewReport
from catalog.stock import stock_apply
from catalog.tests.factories import AuthorFactory, BookFactory, CategoryFactory, ReviewFactory
from catalog.tests.test_admin import _book_form


def book_form(book, **overrides) -> dict:
    """The change form as a browser posts it, untouched fields included (with the seen stock)."""
    seen = {"publisher": book.publisher, "description": book.description, "initial-stock": str(book.stock)}
    return _book_form(book, **seen | overrides)


pytestmark = pytest.mark.django_db


def spy(monkeypatch, name: str, queries: list | None = None) -> list[dict]:
    """Records the keyword arguments of each call of `catalog.services.<name>` (and, if given, its SQL)."""
    calls: list[dict] = []
    original = getattr(services, name)

    def wrapper(**kwargs):
        calls.append(kwargs)
        with CaptureQueriesContext(connection) as captured:
            result = original(**kwargs)
        if queries is not None:
            queries.extend(q["sql"] for q in captured if "SAVEPOINT" not in q["sql"])
        return result

    monkeypatch.setattr(services, name, wrapper)
    return calls


def test_a_price_edit_in_the_admin_costs_what_the_api_patch_costs(admin_client, staff_client, monkeypatch):
    book = BookFactory(price=Decimal("10.00"), authors=[AuthorFactory()])
    admin_sql, api_sql = [], []

    calls = spy(monkeypatch, "book_update", admin_sql)
    with CaptureQueriesContext(connection) as admin_request:
        response = admin_client.post(
            reverse("admin:catalog_book_change", args=[book.pk]), book_form(book, price="12.50")
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    admin_queries = [q["sql"] for q in admin_request.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert calls[-1]["price"] == Decimal("12.50") and set(calls[-1]) == {"book", "actor", "authors", "price"}
    assert calls[-1]["authors"] is None  # the authors were not touched: not written again

    monkeypatch.undo()
    spy(monkeypatch, "book_update", api_sql)
    staff_client.get(f"/api/v1/books/{book.pk}")  # warm the user cache
    with CaptureQueriesContext(connection) as api_request:
        assert staff_client.patch(f"/api/v1/books/{book.pk}", {"price": "13.00"}, format="json").status_code == 200
    api_queries = [q["sql"] for q in api_request.captured_queries if "SAVEPOINT" not in q["sql"]]

    book.refresh_from_db()
    assert book.price == Decimal("13.00")
    # The write itself: one UPDATE of the book, the same statement from both doors, then the two
    # statements that rewrite its search postings (which carry the price; PostgreSQL only): the
    # book's row locked, its postings deleted and written again.
    postings = 3 if connection.vendor == "postgresql" else 0
    assert len(admin_sql) == len(api_sql) == 1 + postings
    if postings:
        assert all(sql[1].endswith("FOR NO KEY UPDATE") for sql in (admin_sql, api_sql))
        assert all("catalog_searchposting" in sql for sql in admin_sql[2:] + api_sql[2:])
    assert admin_sql[0].split(" SET ")[0] == api_sql[0].split(" SET ")[0]
    # Around it, the admin validates its form (session, staff user, the book, the authors' and category's
    # choices, the model's constraints, the ISBN's uniqueness) and writes its log entry.
    assert sum(q.startswith("UPDATE") for q in admin_queries) == sum(q.startswith("UPDATE") for q in api_queries) == 1
    assert len(admin_queries) <= 15 + postings
    assert len(api_queries) <= 5 + postings


def test_adding_a_book_goes_through_book_create_with_its_opening_stock(admin_client, monkeypatch):
    calls = spy(monkeypatch, "book_create")
    author, category = AuthorFactory(), CategoryFactory()
    new = SimpleNamespace(
        isbn="0-306-40615-2", title="Bread", slug="bread", price="9.99", stock=4, category_id=category.pk
    )
    data = _book_form(SimpleNamespace(**vars(new), authors=SimpleNamespace(all=list)), authors=[author.pk])

    response = admin_client.post(reverse("admin:catalog_book_add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    book = Book.objects.get(isbn="9780306406157")
    assert len(calls) == 1 and calls[0]["stock"] == 4
    assert list(book.authors.all()) == [author] and book.slug == "bread"
    assert list(book.stock_movements.values_list("reason", "delta", "actor")) == [("initial", 4, admin_client.user.pk)]
    assert response["Location"].endswith(reverse("admin:catalog_book_changelist"))


def test_a_stock_edit_refused_by_the_service_saves_nothing_and_says_why(admin_client, monkeypatch):
    book = BookFactory(stock=10, price=Decimal("5.00"))
    posted = book_form(book, stock="12", price="6.00")
    monkeypatch.setattr(BookAdminForm, "clean_stock", _clean_stock_without_early_check)
    stock_apply(changes={book.pk: -3}, reason="sale")  # after the form's check would have run

    response = admin_client.post(reverse("admin:catalog_book_change", args=[book.pk]), posted, follow=True)

    assert "The stock changed from 10 to 7 while you were editing" in response.content.decode()
    book.refresh_from_db()
    assert (book.stock, book.price) == (7, Decimal("5.00"))  # nothing written, the price neither
    assert list(book.stock_movements.values_list("reason", flat=True)) == ["sale"]


def _clean_stock_without_early_check(form):
    form.seen_stock = form.fields["stock"].to_python(form.data.get(form.add_initial_prefix("stock")))
    return form.cleaned_data["stock"]


def test_the_changelist_row_edit_goes_through_book_update(admin_client, monkeypatch):
    book = BookFactory(stock=5, price=Decimal("5.00"))
    calls = spy(monkeypatch, "book_update")
    data = {
        "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(book.pk), "form-0-price": "7.00", "form-0-stock": "8", "initial-form-0-stock": "5",
        "_save": "Save",
    }  # fmt: skip

    response = admin_client.post(reverse("admin:catalog_book_changelist"), data)

    assert response.status_code == 302
    assert calls and calls[0]["expected_stock"] == 5 and calls[0]["stock"] == 8
    book.refresh_from_db()
    assert (book.price, book.stock) == (Decimal("7.00"), 8)


def test_authors_are_added_renamed_and_deleted_through_their_services(admin_client, monkeypatch):
    created, updated, deleted = (
        spy(monkeypatch, "author_create"),
        spy(monkeypatch, "author_update"),
        spy(monkeypatch, "author_delete"),
    )
    admin_client.post(reverse("admin:catalog_author_add"), {"name": "Ursula Le Guin", "bio": ""})
    author = Author.objects.get(name="Ursula Le Guin")
    book = BookFactory(title="The Dispossessed", authors=[author])
    admin_client.post(
        reverse("admin:catalog_author_change", args=[author.pk]), {"name": "Ursula K. Le Guin", "bio": ""}
    )
    lonely = AuthorFactory()
    admin_client.post(reverse("admin:catalog_author_delete", args=[lonely.pk]), {"post": "yes"})

    assert [c["name"] for c in created] == ["Ursula Le Guin"]
    assert updated[0]["name"] == "Ursula K. Le Guin" and set(updated[0]) == {"author", "name"}
    assert [c["author"].name for c in deleted] == [lonely.name]
    assert not Author.objects.filter(pk=lonely.pk).exists()
    assert Book.objects.search("Guin").filter(pk=book.pk).exists() or connection.vendor != "postgresql"


def test_categories_are_added_moved_and_deleted_through_their_services(admin_client, monkeypatch):
    created, updated, deleted = (
        spy(monkeypatch, "category_create"),
        spy(monkeypatch, "category_update"),
        spy(monkeypatch, "category_delete"),
    )
    parent = CategoryFactory()
    form = {"name": "Baking", "slug": "baking", "parent": "", "description": ""}
    admin_client.post(reverse("admin:catalog_category_add"), form)
    baking = Category.objects.get(slug="baking")
    admin_client.post(reverse("admin:catalog_category_change", args=[baking.pk]), form | {"parent": parent.pk})
    used = CategoryFactory()
    BookFactory(category=used)

    refused = admin_client.get(reverse("admin:catalog_category_delete", args=[used.pk]))
    admin_client.post(reverse("admin:catalog_category_delete", args=[baking.pk]), {"post": "yes"})

    assert created[0]["name"] == "Baking" and updated[0] == {"category": baking, "parent_id": parent.pk}
    assert refused.status_code == 403 and Category.objects.filter(pk=used.pk).exists()
    assert [c["category"].slug for c in deleted] == ["baking"] and not Category.objects.filter(pk=baking.pk).exists()


def test_a_category_moved_under_itself_is_refused_on_the_form(admin_client):
    top = CategoryFactory(slug="top")
    child = CategoryFactory(slug="child", parent=top)

    response = admin_client.post(
        reverse("admin:catalog_category_change", args=[top.pk]),
        {"name": top.name, "slug": "top", "parent": child.pk, "description": ""},
    )

    assert response.status_code == 200 and "cannot be placed under itself" in response.content.decode()
    top.refresh_from_db()
    assert top.parent_id is None


def test_staff_hide_a_review_with_a_reason_and_restore_it_through_the_services(admin_client, monkeypatch):
    hidden_calls, restored_calls = spy(monkeypatch, "reviews_hide"), spy(monkeypatch, "reviews_restore")
    review = ReviewFactory(rating=1)
    url = reverse("admin:catalog_review_changelist")

    without_reason = admin_client.post(url, {"action": "hide_reviews", "_selected_action": [review.pk]}, follow=True)
    admin_client.post(url, {"action": "hide_reviews", "_selected_action": [review.pk], "reason": "Insults"})
    review.refresh_from_db()
    assert "Give a reason" in without_reason.content.decode()
    assert (review.status, review.hidden_reason) == ("hidden", "Insults") and len(hidden_calls) == 1

    admin_client.post(url, {"action": "restore_reviews", "_selected_action": [review.pk]})
    review.refresh_from_db()
    assert (review.status, review.hidden_reason) == ("published", "") and len(restored_calls) == 1


def test_the_moderation_queue_lists_reported_reviews_until_staff_decide(admin_client):
    reported = ReviewFactory(title="Buy cheap watches")
    ReviewFactory(title="Lovely prose")
    services.review_report(review=reported, user=UserFactory(), reason="Spam")
    url = reverse("admin:catalog_review_changelist")

    queue = admin_client.get(url, {"moderation": "reported"}).content.decode()
    assert "Buy cheap watches" in queue and "Lovely prose" not in queue

    admin_client.post(url, {"action": "restore_reviews", "_selected_action": [reported.pk]})
    assert "Buy cheap watches" not in admin_client.get(url, {"moderation": "reported"}).content.decode()
    assert ReviewReport.objects.get().resolved_at is not None


def test_a_review_reads_as_stars_title_book_and_reviewer(admin_client):
    reader = UserFactory(first_name="Ada", last_name="Lovelace")
    review = ReviewFactory(rating=2, title="Too long", book=BookFactory(title="Middlemarch"), user=reader)

    listing = admin_client.get(reverse("admin:catalog_review_changelist")).content.decode()

    assert str(review) == "★★☆☆☆ “Too long” on Middlemarch by Ada L."
    assert "★★☆☆☆ “Too long” on Middlemarch by Ada L." in listing
    assert listing.count("By rating") <= 1 and "By moderation" in listing


def test_admin_edits_and_deletes_of_reviews_go_through_the_services(admin_client, monkeypatch):
    updated, deleted = spy(monkeypatch, "review_update"), spy(monkeypatch, "review_delete")
    review = ReviewFactory(rating=3, title="Fine")
    form = {"book": review.book_id, "user": review.user_id, "rating": "4", "title": "Better", "body": review.body}
    form |= {f"reports-{k}": v for k, v in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0, "MIN_NUM_FORMS": 0}.items()}
    form |= {"reports-MAX_NUM_FORMS": 1000}

    response = admin_client.post(reverse("admin:catalog_review_change", args=[review.pk]), form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    admin_client.post(reverse("admin:catalog_review_delete", args=[review.pk]), {"post": "yes"})

    assert updated[0] == {"review": review, "rating": 4, "title": "Better"}
    assert len(deleted) == 1 and not Review.objects.exists()


def test_book_search_finds_a_hyphenated_isbn13_and_an_isbn10(admin_client):
    BookFactory(isbn="9780306406157", title="Wanted Edition")
    BookFactory(title="Another Book")
    url = reverse("admin:catalog_book_changelist")

    for typed in ["978-0-306-40615-7", "0-306-40615-2", "0306406152", " 978 0306 406157 "]:
        page = admin_client.get(url, {"q": typed}).content.decode()
        assert "Wanted Edition" in page and "Another Book" not in page, typed


def test_deleting_a_book_with_history_offers_withdraw_and_deletes_nothing(admin_client):
    sold = BookFactory(title="Sold Once", stock=0)
    stock_apply(changes={sold.pk: 3}, reason="restock")
    mistake = BookFactory(title="Typo Entry", stock=0)

    response = admin_client.get(reverse("admin:catalog_book_delete", args=[sold.pk]), follow=True)
    admin_client.post(reverse("admin:catalog_book_delete", args=[mistake.pk]), {"post": "yes"})

    html = response.content.decode()
    assert "has orders or stock history" in html and "Withdraw it instead" in html
    assert "permission to delete" not in html.lower()
    assert Book.objects.filter(pk=sold.pk, is_active=True).exists()
    assert not Book.objects.filter(pk=mistake.pk).exists()
    actions = admin_client.get(reverse("admin:catalog_book_changelist")).content.decode()
    assert "withdraw_books" in actions and "delete_selected" not in actions
