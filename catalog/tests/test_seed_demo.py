"""The demo catalog reads like a bookshop's: titles that fit their category and language, covers
that the API serves, valid ISBNs."""

import io
import re

import pytest
from django.core.management import call_command
from django.db import transaction
from PIL import Image

from catalog import demo
from catalog.isbn import isbn13_check_digit
from catalog.models import Book

pytestmark = pytest.mark.django_db

# Words that only a title in that language would use (and no English title uses).
FUNCTION_WORDS = {
    "fr": {"le", "la", "les", "l'", "du", "des", "de", "d'", "sans", "ma"},
    "de": {"der", "die", "das", "des", "am", "im", "von", "ohne"},
    "es": {"el", "la", "los", "las", "del", "de", "sin", "mi"},
    "it": {"il", "la", "le", "i", "l'", "del", "della", "degli", "di", "senza"},
}
ENGLISH_WORDS = {"the", "of", "and", "at", "for", "with", "to", "from", "by"}


def words(title: str) -> set[str]:
    return set(re.findall(r"[^\W\d_]+'?", title.lower()))


@pytest.fixture(scope="module")
def demo_store(django_db_setup, django_db_blocker):
    """One seeding (some seconds) for the module's tests, read-only, rolled back after them."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        yield list(Book.objects.select_related("category__parent").order_by("isbn"))
        transaction.set_rollback(True)


def test_each_category_has_a_title_pool_of_its_own_that_its_books_come_from(demo_store):
    english = {name: set(demo.title_pool(name, demo.ENGLISH)) for name in demo.SHELVES}
    for name, pool in english.items():
        others = set().union(*(titles for other, titles in english.items() if other != name))
        assert not pool & others, f"{name} shares titles with another category"
    for book in demo_store:
        assert book.title in demo.title_pool(book.category.name, book.language), book.title
        assert book.subtitle in demo.subtitle_pool(book.category.name, book.language), book.subtitle
    assert len({book.title for book in demo_store}) == len(demo_store)
    assert {book.category.name for book in demo_store} == set(demo.SHELVES)  # every shelf has books


def test_books_in_other_languages_have_titles_and_subtitles_in_them(demo_store):
    foreign = [book for book in demo_store if book.language != "en"]
    assert {book.language for book in foreign} >= {"fr", "de"}
    for book in foreign:
        title = words(book.title)
        assert title & FUNCTION_WORDS[book.language], (book.language, book.title)
        assert not title & ENGLISH_WORDS, (book.language, book.title)
        assert not words(book.subtitle) & ENGLISH_WORDS
    for book in demo_store:
        if book.language == "en":
            assert not words(book.title) & (FUNCTION_WORDS["fr"] | FUNCTION_WORDS["de"]) - {"i"}, book.title


def test_subtitles_fit_the_kind_of_book(demo_store):
    fiction = {"Fiction", "Children"}
    for book in demo_store:
        if book.category.parent.name not in fiction:
            assert "Novel" not in book.subtitle and "Roman" not in book.subtitle, (book.title, book.subtitle)
        if book.category.name == "Baking":
            assert book.subtitle in ("", *demo.SHELVES["Baking"].subtitles)
    picture_books = [book for book in demo_store if book.category.name == "Picture Books"]
    assert picture_books and all(book.page_count <= 40 for book in picture_books)
    assert all(book.format in ("hardcover", "paperback") for book in picture_books)


def test_isbns_are_valid_isbn13s(demo_store):
    for book in demo_store:
        assert re.fullmatch(r"97[89]\d{10}", book.isbn)
        assert isbn13_check_digit(book.isbn[:12]) == book.isbn[12]


def test_every_book_has_a_generated_png_cover(demo_store):
    assert all(book.cover for book in demo_store)
    book = next(b for b in demo_store if b.category.name == "Baking")
    with Image.open(book.cover.path) as cover:
        assert (cover.format, cover.size) == ("PNG", demo.COVER_SIZE)
        assert len(cover.getcolors(maxcolors=100_000) or []) > 2  # drawn on, not a blank page


def test_covers_are_the_same_on_every_run():
    first = demo.cover_png(title="Sourdough at Home", author="Ada Berg", section="Food & Drink")
    again = demo.cover_png(title="Sourdough at Home", author="Ada Berg", section="Food & Drink")
    other = demo.cover_png(title="Rye and Spelt at Home", author="Ada Berg", section="Food & Drink")
    assert first == again != other
