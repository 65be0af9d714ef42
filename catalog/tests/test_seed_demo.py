"""The demo catalog reads like a bookshop's: titles that fit their category and language, covers
that the API serves, valid ISBNs."""

import io
import itertools
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from PIL import Image

from catalog import demo
from catalog.isbn import isbn13_check_digit
from catalog.models import Book, Category, Review
from shipping.models import ShippingMethod, TaxRate

# One worker runs the module (`make test-fast` distributes by --dist loadgroup): the seeding is shared, not repeated.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo_store")]

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
def demo_seeding(django_db_setup, django_db_blocker):
    """One seeding (some seconds) for the module's tests, rolled back after them: what seed_demo printed.

    Each test runs in a savepoint of its own inside it, so a test that seeds again changes nothing the next one sees.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def demo_store(demo_seeding, django_db_blocker):
    """The demo's books, read-only."""
    with django_db_blocker.unblock():
        return list(Book.objects.select_related("category__parent").order_by("isbn"))


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


def test_seed_demo_fills_an_empty_store_and_prints_credentials(demo_seeding):
    from accounts.models import User

    text = demo_seeding
    assert "staff@bookstore.local" in text and "staff-demo-pass-2026" in text
    assert "reader@bookstore.local" in text and "reader-demo-pass-2026" in text
    assert Book.objects.count() >= 200
    assert Category.objects.filter(parent__isnull=False).exists()
    assert Review.objects.exists()
    staff = User.objects.get(email="staff@bookstore.local")
    assert staff.is_staff and staff.check_password("staff-demo-pass-2026")
    assert User.objects.get(email="reader@bookstore.local").check_password("reader-demo-pass-2026")
    # the ledger explains every stock level
    for book in Book.objects.all()[:50]:
        assert sum(book.stock_movements.values_list("delta", flat=True)) == book.stock


def test_seed_demo_is_idempotent_and_deterministic(demo_seeding):
    first = list(Book.objects.order_by("isbn").values_list("isbn", "title", "price", "stock_record__quantity"))

    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    assert "already" in out.getvalue()
    assert list(Book.objects.order_by("isbn").values_list("isbn", "title", "price", "stock_record__quantity")) == first


def test_seed_demo_places_weeks_of_orders_in_every_status_through_the_services(demo_seeding):
    from datetime import timedelta

    from django.utils import timezone

    from orders.models import Order
    from payments.models import Refund

    assert "Demo orders placed" in demo_seeding
    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == {"pending", "paid", "shipped", "delivered", "cancelled"}
    assert Refund.objects.exists()
    for order in Order.objects.filter(status__in=["shipped", "delivered"]):
        assert order.carrier and order.tracking_number
    assert all(order.payment.pk for order in Order.objects.select_related("payment"))
    oldest, newest = Order.objects.order_by("created_at").values_list("created_at", flat=True)[
        :: Order.objects.count() - 1
    ]
    assert timezone.now() - oldest > timedelta(days=21)
    assert timezone.now() - newest < timedelta(days=2)
    # the stock the orders took (and the cancellations and the restocked refund gave back) is all in the ledger
    for book in Book.objects.filter(order_lines__isnull=False).distinct():
        assert sum(book.stock_movements.values_list("delta", flat=True)) == book.stock_record.quantity


def test_seed_demo_orders_are_deterministic_and_placed_once(demo_seeding):
    from orders.models import Order

    first = list(Order.objects.order_by("pk").values_list("status", "total", "user__email", "tracking_number"))

    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    assert "Demo orders: already placed" in out.getvalue()
    assert list(Order.objects.order_by("pk").values_list("status", "total", "user__email", "tracking_number")) == first


def test_seed_demo_audiobooks_have_no_page_count_and_isbns_are_valid_and_not_in_sequence(demo_seeding):
    assert Book.objects.filter(format=Book.Format.AUDIOBOOK).exists()
    assert not Book.objects.filter(format=Book.Format.AUDIOBOOK, page_count__isnull=False).exists()
    assert not Book.objects.exclude(format=Book.Format.AUDIOBOOK).filter(page_count__isnull=True).exists()
    isbns = list(Book.objects.order_by("pk").values_list("isbn", flat=True))
    assert all(len(isbn) == 13 and isbn13_check_digit(isbn[:12]) == isbn[12] for isbn in isbns)
    assert len(set(isbns)) == len(isbns)
    steps = {int(b[:12]) - int(a[:12]) for a, b in itertools.pairwise(isbns)}
    assert steps != {1}


def test_seed_demo_adds_real_book_vat_rates_and_express_shipping_once(demo_seeding):
    call_command("seed_demo", stdout=io.StringIO())  # again: nothing doubled

    rates = {(r.country, r.kind): r.rate for r in TaxRate.objects.all()}
    assert rates[("GB", "print")] == rates[("GB", "digital")] == Decimal("0")
    assert rates[("DE", "print")] == Decimal("0.0700")
    assert rates[("FR", "print")] == rates[("FR", "digital")] == Decimal("0.0550")
    # Ireland zero-rated ebooks and audiobooks from 1 January 2024 (they were 9 % from 2019)
    assert rates[("IE", "print")] == rates[("IE", "digital")] == Decimal("0")
    assert rates[("DE", "digital")] == Decimal("0.0700")
    assert len(rates) == 12
    assert list(ShippingMethod.objects.delivering_to("FR").values_list("code", flat=True)) == ["standard", "express"]
    assert list(ShippingMethod.objects.delivering_to("US").values_list("code", flat=True)) == ["standard"]
