"""A cover kept across the add-book form's validation errors is the staff member's own, and only a kept cover."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import User
from catalog.models import Book

pytestmark = pytest.mark.django_db
ADD = "/admin/catalog/book/add/"


def _form(**overrides):
    data = {
        "isbn": "978-0-306-40615-8",  # a wrong check digit: the form comes back
        "title": "The Lamp Keeper",
        "slug": "the-lamp-keeper",
        "language": "en",
        "format": "paperback",
        "price": "18.40",
        "stock": "3",
        "is_active": "on",
        "stock_movements-TOTAL_FORMS": "0",
        "stock_movements-INITIAL_FORMS": "0",
        "stock_movements-MIN_NUM_FORMS": "0",
        "stock_movements-MAX_NUM_FORMS": "0",
    }
    return data | overrides


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 45), "navy").save(buffer, format="PNG")
    return SimpleUploadedFile("cover.png", buffer.getvalue(), content_type="image/png")


def _signed_in(client, email):
    client.force_login(User.objects.create_superuser(email=email, password="x-admin-pass-123"))
    return client


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_the_kept_cover_is_saved_with_the_corrected_form(client, media):
    staff = _signed_in(client, "clerk@example.com")
    refused = staff.post(ADD, _form(cover=_png()))
    assert refused.status_code == 200
    token = refused.context["adminform"].form["kept_cover"].value()
    assert token and "kept-cover-preview" in refused.content.decode()

    saved = staff.post(ADD, _form(isbn="978-0-306-40615-7", kept_cover=token))

    assert saved.status_code == 302
    book = Book.objects.get()
    with Image.open(media / book.cover.name) as cover:
        assert cover.size == (30, 45)
    assert not list((media / "covers" / "kept").iterdir())


def test_a_forged_or_another_staff_members_token_brings_no_cover(client, media, django_user_model):
    from django.test import Client

    other = _signed_in(Client(), "other@example.com")
    token = other.post(ADD, _form(cover=_png())).context["adminform"].form["kept_cover"].value()
    kept_name = next((media / "covers" / "kept").iterdir()).name
    staff = _signed_in(client, "clerk@example.com")

    theirs = staff.post(ADD, _form(isbn="978-0-306-40615-7", kept_cover=token))
    forged = staff.post(ADD, _form(isbn="978-1-86197-876-9", slug="forged", kept_cover=f"covers/kept/{kept_name}"))

    assert theirs.status_code == forged.status_code == 302
    assert [bool(book.cover) for book in Book.objects.all()] == [False, False]
