import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def image_file(fmt="PNG", name="cover.png", size=(20, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def cover_url(book) -> str:
    return f"/api/v1/books/{book.pk}/cover"


@pytest.mark.parametrize(("fmt", "ext"), [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_staff_uploads_a_cover_and_gets_an_absolute_url(staff_client, _media, fmt, ext):
    book = BookFactory()

    response = staff_client.put(cover_url(book), {"image": image_file(fmt, f"x.{ext}")}, format="multipart")

    assert response.status_code == 200, response.json()
    url = response.json()["cover_url"]
    assert url.startswith("http://testserver/media/covers/") and url.endswith(f".{ext}")
    book.refresh_from_db()
    assert (_media / book.cover.name).exists()


def test_new_cover_replaces_the_old_file(staff_client, _media):
    book = BookFactory()
    staff_client.put(cover_url(book), {"image": image_file()}, format="multipart")
    book.refresh_from_db()
    first = _media / book.cover.name

    staff_client.put(cover_url(book), {"image": image_file()}, format="multipart")

    book.refresh_from_db()
    assert not first.exists()
    assert (_media / book.cover.name).exists()


def test_text_file_renamed_as_an_image_is_a_400(staff_client):
    book = BookFactory()
    fake = SimpleUploadedFile("cover.jpg", b"this is not an image at all", content_type="image/jpeg")

    response = staff_client.put(cover_url(book), {"image": fake}, format="multipart")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "image"
    book.refresh_from_db()
    assert not book.cover


def test_image_of_another_format_is_a_400(staff_client):
    response = staff_client.put(cover_url(BookFactory()), {"image": image_file("GIF", "c.gif")}, format="multipart")
    assert response.status_code == 400


def test_cover_over_five_megabytes_is_a_413(staff_client):
    book = BookFactory()
    big = SimpleUploadedFile("big.png", image_file().read() + b"\0" * (5 * 1024 * 1024), content_type="image/png")

    response = staff_client.put(cover_url(book), {"image": big}, format="multipart")

    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "file_too_large"


def test_missing_image_is_a_400(staff_client):
    response = staff_client.put(cover_url(BookFactory()), {}, format="multipart")
    assert response.status_code == 400


def test_customers_cannot_upload_covers(api_client, user_client):
    book = BookFactory()
    assert api_client.put(cover_url(book), {"image": image_file()}, format="multipart").status_code == 401
    assert user_client.put(cover_url(book), {"image": image_file()}, format="multipart").status_code == 403


def test_json_body_for_a_cover_is_a_415(staff_client):
    response = staff_client.put(cover_url(BookFactory()), {"image": "x"}, format="json")
    assert response.status_code == 415
