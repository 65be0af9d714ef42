"""The search postings (catalog.search.PostingSearch) answer exactly as the GIN path does, and
every write path keeps them current (PostgreSQL)."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog import search
from catalog.models import Book, SearchPosting
from catalog.search_index import book_search_vector_refresh
from catalog.tests.factories import AuthorFactory, BookFactory, CategoryFactory, ReviewFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

BOOKS = "/api/v1/books"
SUGGEST = "/api/v1/books/suggest"
WORDS = ["dragon", "dragons", "dragonfly", "drag", "dragoon", "dagon", "draco", "fire", "élan", "elan", "ice", "dune"]
FACETS = "category,format,language,price,rating"


@pytest.fixture
def catalog():
    """60 books over a few shared words, with ties everywhere: popularity mostly 0, most ratings
    absent or equal, half the books created at one instant, several titles that are one word."""
    rng = random.Random(16)
    fiction = CategoryFactory(name="Fiction", slug="fiction")
    fantasy = CategoryFactory(name="Fantasy", slug="fantasy", parent=fiction)
    poetry = CategoryFactory(name="Poetry", slug="poetry")
    authors = [AuthorFactory(name=name) for name in ("Ann Dragon", "Bo Fire", "Cy Élan", "Di Draco")]
    books = []
    for n in range(60):
        words = rng.sample(WORDS, rng.choice([1, 1, 2, 3]))
        books.append(
            BookFactory(
                title=" ".join(w.capitalize() for w in words),
                subtitle=rng.choice(["", "", "of the " + rng.choice(WORDS)]),
                publisher=rng.choice(["Example Press", "Dragonfly Books"]),
                description=rng.choice(["", "a tale", "a tale of " + " and ".join(rng.sample(WORDS, 2))]),
                authors=rng.sample(authors, rng.choice([0, 1, 1, 2])),
                category=rng.choice([fiction, fantasy, poetry, None]),
                format=rng.choice(["paperback", "hardcover", "ebook"]),
                language=rng.choice(["en", "fr"]),
                price=rng.choice(["5.00", "9.99", "10.00", "15.00", "20.00", "49.99", "50.00", "80.00"]),
            )
        )
    instant = timezone.now() - timedelta(days=3)
    Book.objects.filter(pk__in=[b.pk for b in books[::2]]).update(created_at=instant)
    for book in books[::3]:
        Book.objects.filter(pk=book.pk).update(popularity=rng.choice([1, 1, 4]))
    for book in rng.sample(books, 20):
        for _ in range(rng.choice([1, 1, 2])):
            ReviewFactory(book=book, rating=rng.choice([3, 4, 4, 5]))
    book_search_vector_refresh()
    return books


def both(client, url, params) -> tuple[tuple, tuple, bool]:
    """The answer with the postings, then the GIN path's (each read fresh, not from the cache)."""
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        with_postings = client.get(url, params)
    used = any("catalog_searchposting" in q["sql"] for q in queries.captured_queries)  # before the next request
    cache.clear()
    search.POSTINGS = False
    try:
        without = client.get(url, params)
    finally:
        search.POSTINGS = True
    assert with_postings.status_code == without.status_code, (with_postings.json(), without.json())
    return (with_postings.status_code, with_postings.json()), (without.status_code, without.json()), used


QUERIES = [
    "dragon",
    "drag",
    "dra",
    "d",
    "dragn",
    "dargon",  # a swap
    "dragons",
    "dragonfly",
    "dragonflys",  # nine letters: corrections of one and two typos (the GIN path answers)
    "Dragón",
    "élan",
    "elan",
    "fire",
    "ice",
    "dune",
    "ann",
    "dragon fire",
    "fire dragon",
    "dragon zzzz",  # relaxed
    "zzzz",
    "9780000010006",
]
PARAMS = [
    {},
    {"page_size": 5},
    {"page_size": 5, "page": 2},
    {"page_size": 5, "page": 3},
    {"page_size": 3, "page": 4},
    {"ordering": "price"},
    {"ordering": "-popularity", "page_size": 5, "page": 2},
    {"facets": FACETS},
    {"facets": FACETS, "page_size": 5, "page": 2},
    {"facets": FACETS, "format": "ebook"},
    {"facets": FACETS, "category": "fiction", "min_price": "10"},
    {"facets": FACETS, "min_rating": "4", "language": "fr"},
    {"facets": FACETS, "in_stock": "true"},
]


@pytest.mark.parametrize("text", QUERIES)
def test_the_postings_give_the_gin_paths_page_count_and_facets(api_client, catalog, text):
    one_word = len(search.query_words(text)) == 1 and not text.isdigit()
    for params in PARAMS:
        with_postings, without, used = both(api_client, BOOKS, {"search": text, **params})
        assert with_postings == without, (text, params)
        if one_word and text != "dragonflys" and not set(params) - {"page", "page_size", "ordering", "facets"}:
            assert used, (text, params)


@pytest.mark.parametrize("text", QUERIES)
def test_suggestions_from_the_postings_are_the_gin_paths(api_client, catalog, text):
    with_postings, without, used = both(api_client, SUGGEST, {"q": text})
    assert with_postings == without


def test_a_one_word_search_has_candidates_and_ties_to_break(api_client, catalog):
    """The catalog does exercise the ties the proof relies on."""
    body = api_client.get(BOOKS, {"search": "drag", "page_size": 100}).json()
    assert body["count"] > 20
    ids = [b["id"] for b in body["results"]]
    popularity = dict(Book.objects.filter(pk__in=ids).values_list("pk", "popularity"))
    assert sum(1 for pk in ids if popularity[pk] == 0) > 10
    assert SearchPosting.objects.filter(word="dragon", title_equal=True).exists()


def test_a_posting_per_word_of_each_active_book(catalog):
    book = catalog[0]
    vector_words = set(Book.objects.filter(pk=book.pk).values_list("search_vector", flat=True)[0].split())
    words = set(SearchPosting.objects.filter(book=book).values_list("word", flat=True))
    assert {w.split(":")[0].strip("'") for w in vector_words} == words
    assert SearchPosting.objects.values("book").distinct().count() == len(catalog)
    assert Decimal(0) not in set(SearchPosting.objects.values_list("price", flat=True))
