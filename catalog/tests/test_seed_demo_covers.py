"""The demo covers are served where the API says they are, as an uploaded cover is (a module of
its own: a live server empties the database after it, which the other seed tests' shared one cannot have)."""

import io
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from catalog.models import Book


# A live server and a second seeding (and the database emptied after it): the slow tier.
@pytest.mark.slow
def test_the_api_serves_the_demo_covers(live_server):
    call_command("seed_demo", stdout=io.StringIO())
    book = Book.objects.filter(category__name="Baking").order_by("isbn").first()
    assert book is not None

    cover_url = APIClient().get(f"/api/v1/books/{book.pk}").json()["cover_url"]
    path = urlsplit(cover_url).path
    assert path.startswith(settings.MEDIA_URL)
    with urlopen(f"{live_server.url}{path}") as served:
        assert served.headers["Content-Type"] == "image/png"
        assert served.read() == book.cover.read()
