"""The add-book form in a real browser: a chosen cover survives a validation error on another field.

A browser re-sends nothing it was not given: the file input comes back empty after the form is
shown again with its errors, so the cover has to be kept by the server (see `BookAdminForm`).
"""

from urllib.parse import urlsplit

from PIL import Image
from rest_framework.test import APIClient

from bookstore.tests.browser import STAFF_PASSWORD, Steps, log_in, messages
from catalog.models import Book


def test_a_cover_chosen_before_a_validation_error_is_kept_and_saved(page, staff, media_root, tmp_path, request):
    steps = Steps(page, request.node.name)
    cover = tmp_path / "lighthouse.png"
    Image.new("RGB", (60, 90), (30, 90, 160)).save(cover, format="PNG")
    log_in(page, steps, staff.email, STAFF_PASSWORD)

    page.goto("/admin/catalog/book/add/")
    page.fill("#id_isbn", "978-0-306-40615-8")  # a wrong check digit
    page.locator("#id_title").press_sequentially("The Lamp Keeper")
    page.fill("#id_price", "18.40")
    page.fill("#id_stock", "3")
    page.set_input_files("#id_cover", cover)
    page.click("button[name=_save]")

    # The form is back with the ISBN's error; the cover is still there, shown, without choosing it again.
    page.locator(".field-isbn .errorlist, .field-isbn ul").first.wait_for()
    steps.shot("isbn-refused-cover-kept")
    assert not Book.objects.exists()
    kept = page.locator("#kept-cover-preview")
    kept.wait_for()
    assert kept.evaluate("img => img.complete && [img.naturalWidth, img.naturalHeight]") == [60, 90]

    page.fill("#id_isbn", "978-0-306-40615-7")
    page.click("button[name=_save]")
    steps.shot("book-added-with-cover")
    assert any("The Lamp Keeper" in text and "added successfully" in text for text in messages(page, "success"))
    book = Book.objects.get()
    assert (media_root / book.cover.name).is_file()
    with Image.open(media_root / book.cover.name) as stored:
        assert (stored.format, stored.size) == ("PNG", (60, 90))

    # The shop shows it: the API's cover URL serves the image.
    cover_url = APIClient().get(f"/api/v1/books/{book.pk}").json()["cover_url"]
    served = page.request.get(urlsplit(cover_url).path)  # the API client's host is "testserver"
    assert served.status == 200 and served.headers["content-type"] == "image/png"
    assert served.body() == (media_root / book.cover.name).read_bytes()
    assert not list((media_root / "covers" / "kept").iterdir())  # the copy kept for the form is gone
