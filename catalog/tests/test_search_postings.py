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
    for _ in range(60):
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
    with_postings, without, _used = both(api_client, SUGGEST, {"q": text})
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


# Upkeep: every write path of what a posting carries changes what search, facets and suggest answer.


@pytest.fixture
def zebras():
    fiction = CategoryFactory(name="Fiction", slug="fiction")
    author = AuthorFactory(name="Uma Stripe")
    books = [
        BookFactory(title=f"Zebra {n}", description="", authors=[author], category=fiction, price="12.00")
        for n in ("one", "two", "three")
    ]
    book_search_vector_refresh()
    return books


def answer(client, **params) -> dict:
    """The posting path's answer, checked against the GIN path's (which reads the books' rows)."""
    url = SUGGEST if "q" in params else BOOKS
    with_postings, without, used = both(client, url, params)
    assert with_postings == without, params
    assert used or "q" in params, params
    return with_postings[1]


def ids(body) -> list[int]:
    return [b["id"] for b in (body["results"] if isinstance(body, dict) else body)]


def test_staff_edits_of_carried_fields_reach_the_facets(staff_client, api_client, zebras):
    book = zebras[0]
    poetry = CategoryFactory(name="Poetry", slug="poetry")
    patch = {"price": "60.00", "category_id": poetry.pk, "format": "ebook", "language": "fr"}
    assert staff_client.patch(f"{BOOKS}/{book.pk}", patch, format="json").status_code == 200

    facets = answer(api_client, search="zebra", facets=FACETS)["facets"]
    assert {(c["slug"], c["count"]) for c in facets["category"]} == {("fiction", 2), ("poetry", 1)}
    assert {(f["value"], f["count"]) for f in facets["format"]} == {("paperback", 2), ("ebook", 1)}
    assert {(f["value"], f["count"]) for f in facets["language"]} == {("en", 2), ("fr", 1)}
    assert {(p["min"], p["count"]) for p in facets["price"]} == {("10.00", 2), ("50.00", 1)}


def test_texts_and_author_names_edited_by_staff_are_searched(staff_client, api_client, zebras):
    book = zebras[1]
    staff_client.patch(f"{BOOKS}/{book.pk}", {"title": "Okapi"}, format="json")
    assert ids(answer(api_client, search="okapi")) == [book.pk]
    assert book.pk not in ids(answer(api_client, search="zebra"))
    author = book.authors.get()
    staff_client.patch(f"/api/v1/authors/{author.pk}", {"name": "Ivo Quagga"}, format="json")
    assert len(ids(answer(api_client, search="quagga"))) == 3
    assert ids(answer(api_client, search="stripe")) == []
    assert ids(answer(api_client, q="quag")) != []


def test_withdrawn_restored_and_deleted_books_leave_and_rejoin_the_search(staff_client, api_client, zebras):
    withdrawn, deleted = zebras[0], zebras[2]
    assert staff_client.delete(f"{BOOKS}/{withdrawn.pk}").status_code == 204  # withdraws
    assert answer(api_client, search="zebra")["count"] == 2
    assert withdrawn.pk not in ids(answer(api_client, q="zeb"))
    from catalog import services

    services.books_restore(books=Book.objects.filter(pk=withdrawn.pk))  # the admin's action and form
    assert answer(api_client, search="zebra")["count"] == 3

    services.book_delete(book=Book.objects.get(pk=deleted.pk))
    assert answer(api_client, search="zebra")["count"] == 2
    assert not SearchPosting.objects.filter(book_id=deleted.pk).exists()


def test_review_moderation_changes_the_rating_the_search_ranks_and_counts_by(user_client, api_client, zebras):
    from catalog import services
    from catalog.models import Review

    last = zebras[0]  # the oldest: last among equals
    assert ids(answer(api_client, search="zebra"))[-1] == last.pk
    response = user_client.post(f"{BOOKS}/{last.pk}/reviews", {"rating": 5}, format="json")
    assert response.status_code == 201, response.json()
    body = answer(api_client, search="zebra", facets="rating")
    assert ids(body)[0] == last.pk  # rated, before the unrated
    assert body["facets"]["rating"][-1] == {"min": 4, "count": 1}
    assert ids(answer(api_client, q="zebr"))[0] == last.pk

    review = Review.objects.get(pk=response.json()["id"])
    services.reviews_hide(reviews=Review.objects.filter(pk=review.pk), reason="Spam")
    assert ids(answer(api_client, search="zebra"))[-1] == last.pk
    services.reviews_restore(reviews=Review.objects.filter(pk=review.pk))
    assert ids(answer(api_client, search="zebra"))[0] == last.pk
    services.review_update(review=review, rating=1)
    assert answer(api_client, search="zebra", facets="rating")["facets"]["rating"] == [{"min": 1, "count": 1}]
    services.review_delete(review=review)
    assert answer(api_client, search="zebra", facets="rating")["facets"]["rating"] == []
    ReviewFactory(book=last, rating=4)
    services.reviews_remove(reviews=Review.objects.filter(book=last))
    assert ids(answer(api_client, search="zebra"))[-1] == last.pk


def test_the_popularity_refresh_reorders_the_search(api_client, zebras):
    from catalog.stock import books_popularity_refresh, stock_apply

    last = zebras[0]
    stock_apply(changes={last.pk: -2}, reason="sale")
    assert ids(answer(api_client, search="zebra"))[-1] == last.pk  # counted at the next refresh
    books_popularity_refresh()
    assert ids(answer(api_client, search="zebra"))[0] == last.pk
    assert ids(answer(api_client, q="zebra"))[0] == last.pk
    books_popularity_refresh(now=timezone.now() + timedelta(days=91))  # the sale ages out
    assert ids(answer(api_client, search="zebra"))[-1] == last.pk


def test_imported_books_new_and_updated_are_in_the_postings(api_client, tmp_path, zebras):
    import io

    from django.core.management import call_command

    path = tmp_path / "books.csv"
    path.write_text(
        "isbn,title,subtitle,authors,price,format\n"
        f"{zebras[0].isbn},Zebra one,,Uma Stripe,70.00,hardcover\n"
        "9780306406157,Zebra crossing,,Ursula Le Guin,9.99,ebook\n"
    )
    call_command("import_books", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    body = answer(api_client, search="zebra", facets="format,price")
    assert body["count"] == 4
    assert {(f["value"], f["count"]) for f in body["facets"]["format"]} == {
        ("paperback", 2),
        ("hardcover", 1),
        ("ebook", 1),
    }
    assert ids(answer(api_client, search="ursula")) == [Book.objects.get(isbn="9780306406157").pk]
    assert answer(api_client, q="crossi") != []


def test_a_full_rebuild_rewrites_every_posting(zebras):
    SearchPosting.objects.filter(book=zebras[0]).delete()
    SearchPosting.objects.filter(book=zebras[1]).update(price=Decimal("1.00"))
    book_search_vector_refresh(book_ids=None)  # rebuild_search, the seed, the bench generator
    assert SearchPosting.objects.filter(book=zebras[0]).exists()
    assert set(SearchPosting.objects.values_list("price", flat=True)) == {Decimal("12.00")}
