from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Author, Book, Review, StockMovement
from catalog.tests.factories import AuthorFactory, BookFactory, CategoryFactory, ReviewFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["book", "author", "category", "review", "stockmovement"])
def test_admin_changelists_and_search_render_for_staff(admin_client, model):
    book = BookFactory(title="Admin Book")
    ReviewFactory(book=book)
    from catalog.stock import stock_apply

    stock_apply(changes={book.pk: 1}, reason="restock")
    url = reverse(f"admin:catalog_{model}_changelist")

    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "Admin"}).status_code == 200


def test_book_changelist_shows_columns_and_filters(admin_client):
    BookFactory(title="Visible Book", authors=[AuthorFactory(name="Some Author")], stock=2)

    response = admin_client.get(reverse("admin:catalog_book_changelist"), {"stock_level": "low"})

    content = response.content.decode()
    assert "Visible Book" in content and "Some Author" in content
    assert (
        admin_client.get(reverse("admin:catalog_book_changelist"), {"stock_level": "out"})
        .content.decode()
        .count("Visible Book")
        == 0
    )


def test_book_search_by_author_and_isbn(admin_client):
    book = BookFactory(title="Findable", authors=[AuthorFactory(name="Zadie Smith")])
    BookFactory(title="Other")
    url = reverse("admin:catalog_book_changelist")

    assert "Findable" in admin_client.get(url, {"q": "Zadie"}).content.decode()
    assert "Other" not in admin_client.get(url, {"q": book.isbn}).content.decode()


def test_book_changelist_has_no_n_plus_one(admin_client, django_assert_max_num_queries):
    for _ in range(30):
        BookFactory(authors=[AuthorFactory(), AuthorFactory()])
    url = reverse("admin:catalog_book_changelist")
    admin_client.get(url)  # warm the session/user caches

    with django_assert_max_num_queries(12):
        assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize("model", ["author", "category", "review"])
def test_other_changelists_have_no_n_plus_one(admin_client, django_assert_max_num_queries, model):
    for _ in range(20):
        ReviewFactory(book=BookFactory(category=CategoryFactory(parent=CategoryFactory())), user=admin_client.user)
    url = reverse(f"admin:catalog_{model}_changelist")

    with django_assert_max_num_queries(12):
        assert admin_client.get(url).status_code == 200


def test_book_change_form_renders_with_stock_ledger(admin_client):
    book = BookFactory(stock=0)
    from catalog.stock import stock_apply

    stock_apply(changes={book.pk: 5}, reason="restock", note="delivery 42")

    response = admin_client.get(reverse("admin:catalog_book_change", args=[book.pk]))

    assert response.status_code == 200
    assert "delivery 42" in response.content.decode()
    assert admin_client.get(reverse("admin:catalog_book_add")).status_code == 200


def test_customer_cannot_open_the_admin(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:catalog_book_changelist"))
    assert response.status_code == 302


def _book_form(book, **overrides):
    data = {
        "isbn": book.isbn,
        "title": book.title,
        "subtitle": "",
        "slug": book.slug,
        "authors": [a.pk for a in book.authors.all()],
        "category": book.category_id or "",
        "publisher": "",
        "published_date": "",
        "language": "en",
        "page_count": "",
        "format": "paperback",
        "description": "",
        "price": str(book.price),
        "stock": str(book.stock),
        "is_active": "on",
        "stock_movements-TOTAL_FORMS": "0",
        "stock_movements-INITIAL_FORMS": "0",
        "stock_movements-MIN_NUM_FORMS": "0",
        "stock_movements-MAX_NUM_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_admin_stock_edit_goes_through_the_ledger(admin_client):
    book = BookFactory(stock=10)

    response = admin_client.post(reverse("admin:catalog_book_change", args=[book.pk]), _book_form(book, stock="3"))

    assert response.status_code == 302, response.content.decode()[:2000]
    book.refresh_from_db()
    assert book.stock == 3
    movement = StockMovement.objects.get(book=book)
    assert (movement.delta, movement.stock_after, movement.reason, movement.actor) == (
        -7,
        3,
        "adjustment",
        admin_client.user,
    )


def test_admin_edit_keeps_a_sale_made_while_the_form_was_open(admin_client):
    from catalog.stock import stock_apply

    book = BookFactory(stock=10)
    seen = _book_form(book, description="New blurb", **{"initial-stock": "10"})
    stock_apply(changes={book.pk: -3}, reason="sale")  # a customer buys meanwhile

    response = admin_client.post(reverse("admin:catalog_book_change", args=[book.pk]), seen)

    assert response.status_code == 302
    book.refresh_from_db()
    assert (book.description, book.stock) == ("New blurb", 7)
    assert list(book.stock_movements.values_list("reason", flat=True)) == ["sale"]


def test_admin_stock_edit_over_a_changed_level_is_refused(admin_client):
    from catalog.stock import stock_apply

    book = BookFactory(stock=10)
    seen = _book_form(book, stock="12", **{"initial-stock": "10"})
    stock_apply(changes={book.pk: -3}, reason="sale")

    response = admin_client.post(reverse("admin:catalog_book_change", args=[book.pk]), seen)

    assert response.status_code == 200  # redisplayed with the error
    assert "The stock changed from 10 to 7 while you were editing" in response.content.decode()
    book.refresh_from_db()
    assert book.stock == 7


def test_admin_normalises_isbn10_and_rejects_bad_checksum(admin_client):
    book = BookFactory()
    url = reverse("admin:catalog_book_change", args=[book.pk])

    assert admin_client.post(url, _book_form(book, isbn="0-306-40615-3")).status_code == 200  # form redisplayed
    admin_client.post(url, _book_form(book, isbn="0-306-40615-2"))
    book.refresh_from_db()
    assert book.isbn == "9780306406157"


def test_admin_inline_list_edit_of_price_and_stock(admin_client):
    book = BookFactory(stock=1, price=Decimal("10.00"))
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(book.pk),
        "form-0-price": "12.00",
        "form-0-stock": "8",
        "_save": "Save",
    }

    response = admin_client.post(reverse("admin:catalog_book_changelist"), data)

    assert response.status_code == 302
    book.refresh_from_db()
    assert (book.price, book.stock) == (Decimal("12.00"), 8)
    assert StockMovement.objects.get(book=book).delta == 7


def test_admin_withdraw_and_restore_actions(admin_client):
    books = [BookFactory(), BookFactory()]
    url = reverse("admin:catalog_book_changelist")
    ids = [str(b.pk) for b in books]

    admin_client.post(url, {"action": "withdraw_books", "_selected_action": ids})
    assert Book.objects.filter(is_active=False).count() == 2

    admin_client.post(url, {"action": "restore_books", "_selected_action": ids[:1]})
    assert list(Book.objects.filter(is_active=True)) == [books[0]]


def test_admin_remove_abusive_reviews_action(admin_client):
    abusive, fine = ReviewFactory(), ReviewFactory()

    admin_client.post(
        reverse("admin:catalog_review_changelist"), {"action": "remove_abusive", "_selected_action": [abusive.pk]}
    )

    assert list(Review.objects.all()) == [fine]


def test_admin_rating_filter(admin_client):
    ReviewFactory(rating=1, title="Awful")
    ReviewFactory(rating=5, title="Superb")

    content = admin_client.get(reverse("admin:catalog_review_changelist"), {"rating_band": "low"}).content.decode()

    assert "Awful" in content and "Superb" not in content


def test_admin_cannot_delete_an_author_with_books(admin_client):
    author = AuthorFactory()
    BookFactory(authors=[author])

    response = admin_client.get(reverse("admin:catalog_author_delete", args=[author.pk]))

    assert response.status_code == 403
    assert Author.objects.filter(pk=author.pk).exists()


def test_admin_author_autocomplete(admin_client):
    AuthorFactory(name="Chimamanda Adichie")
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"term": "Chima", "app_label": "catalog", "model_name": "book", "field_name": "authors"},
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["text"] == "Chimamanda Adichie"


def test_admin_refuses_a_cover_that_is_not_jpeg_png_or_webp(admin_client, settings, tmp_path):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    book = BookFactory()
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="GIF")  # Django's ImageField alone would accept it
    fake = SimpleUploadedFile("cover.png", buffer.getvalue(), content_type="image/png")

    response = admin_client.post(reverse("admin:catalog_book_change", args=[book.pk]), _book_form(book, cover=fake))

    assert response.status_code == 200  # the form comes back with an error
    book.refresh_from_db()
    assert not book.cover


def test_admin_add_book_writes_the_opening_stock_to_the_ledger(admin_client):
    author, category = AuthorFactory(), CategoryFactory()
    book = BookFactory(category=category)  # a form template; the new book gets another ISBN
    data = _book_form(book, isbn="978-0-306-40615-7", title="Added", slug="added", stock="6", authors=[author.pk])

    response = admin_client.post(reverse("admin:catalog_book_add"), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    book = Book.objects.get(isbn="9780306406157")
    assert (book.title, book.stock, list(book.authors.all())) == ("Added", 6, [author])
    movement = StockMovement.objects.get(book=book)
    assert (movement.delta, movement.reason, movement.actor) == (6, "initial", admin_client.user)


def test_admin_stores_a_cover_re_encoded_and_refuses_a_bomb(admin_client, settings, tmp_path):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from catalog.tests.test_api_covers import _png_claiming

    settings.MEDIA_ROOT = tmp_path
    book = BookFactory()
    buffer = io.BytesIO()
    Image.new("RGB", (10, 12), "green").save(buffer, format="JPEG")
    upload = SimpleUploadedFile("c.jpg", buffer.getvalue() + b"appended secret", content_type="image/jpeg")
    bomb = SimpleUploadedFile("b.png", _png_claiming(12000, 12000), content_type="image/png")
    url = reverse("admin:catalog_book_change", args=[book.pk])

    refused = admin_client.post(url, _book_form(book, cover=bomb))
    stored = admin_client.post(url, _book_form(book, cover=upload))

    assert refused.status_code == 200 and "40 megapixels" in refused.content.decode()
    assert stored.status_code == 302
    book.refresh_from_db()
    content = (tmp_path / book.cover.name).read_bytes()
    assert b"appended secret" not in content
    with Image.open(io.BytesIO(content)) as kept:
        assert (kept.format, kept.size) == ("JPEG", (10, 12))
