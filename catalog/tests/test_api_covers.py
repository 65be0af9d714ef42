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


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` × `height` pixels (what a decompression bomb looks like)."""
    import struct
    import zlib

    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc_at = ihdr + 4 + 13
    data[crc_at : crc_at + 4] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 4 + 13])))
    return bytes(data)


@pytest.mark.parametrize(("width", "height"), [(12000, 12000), (8000, 5001), (1_000_000, 41)])
def test_a_cover_of_more_than_40_megapixels_is_refused_before_decoding(staff_client, _media, width, height):
    book = BookFactory()
    bomb = SimpleUploadedFile("bomb.png", _png_claiming(width, height), content_type="image/png")

    response = staff_client.put(cover_url(book), {"image": bomb}, format="multipart")

    assert response.status_code == 400
    assert [(e["code"], e["attr"]) for e in response.json()["errors"]] == [("too_many_pixels", "image")]
    book.refresh_from_db()
    assert not book.cover
    assert not list(_media.rglob("*.png"))


@pytest.mark.parametrize(("fmt", "ext"), [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_a_stored_cover_is_re_encoded_without_its_metadata(staff_client, _media, fmt, ext):
    book = BookFactory()
    exif = Image.Exif()
    exif[0x010E] = "secret location"  # ImageDescription
    buffer = io.BytesIO()
    picture = Image.new("RGB", (40, 60), "blue")
    extra = {"exif": exif.tobytes()}
    if fmt == "PNG":
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_text("Comment", "secret location")
        extra["pnginfo"] = info
    picture.save(buffer, format=fmt, **extra)
    buffer.write(b"trailing bytes after the image")
    upload = SimpleUploadedFile(f"c.{ext}", buffer.getvalue(), content_type=f"image/{fmt.lower()}")

    response = staff_client.put(cover_url(book), {"image": upload}, format="multipart")

    assert response.status_code == 200, response.json()
    book.refresh_from_db()
    stored = (_media / book.cover.name).read_bytes()
    assert b"secret location" not in stored
    assert b"trailing bytes" not in stored
    with Image.open(io.BytesIO(stored)) as kept:
        assert (kept.format, kept.size) == (fmt, (40, 60))
        assert not kept.getexif()
