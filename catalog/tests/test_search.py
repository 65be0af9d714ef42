import pytest

from catalog.models import Book
from catalog.services import book_search_vector_refresh
from catalog.tests.factories import AuthorFactory, BookFactory

pytestmark = pytest.mark.django_db

BOOKS = "/api/v1/books"


def search_ids(client, text, **params) -> list[int]:
    response = client.get(BOOKS, {"search": text, **params})
    assert response.status_code == 200, response.json()
    return [b["id"] for b in response.json()["results"]]


@pytest.fixture
def library():
    tolkien = AuthorFactory(name="J. R. R. Tolkien")
    herbert = AuthorFactory(name="Frank Herbert")
    books = {
        "hobbit": BookFactory(description="", title="The Hobbit", subtitle="There and Back Again", authors=[tolkien]),
        "dune": BookFactory(description="", title="Dune", subtitle="", authors=[herbert]),
        "essay": BookFactory(
            description="", title="Essays on Fantasy", subtitle="Including a chapter on the hobbit", authors=[]
        ),
        "cooking": BookFactory(description="", title="Cooking for One", authors=[AuthorFactory(name="Anna Cook")]),
    }
    book_search_vector_refresh()
    return books


# Both databases


def test_search_matches_title_subtitle_author_and_isbn(api_client, library):
    assert library["dune"].pk in search_ids(api_client, "dune")
    assert search_ids(api_client, "back again") == [library["hobbit"].pk]
    assert search_ids(api_client, "herbert") == [library["dune"].pk]
    assert search_ids(api_client, library["cooking"].isbn) == [library["cooking"].pk]


def test_search_is_case_insensitive(api_client, library):
    assert library["dune"].pk in search_ids(api_client, "DUNE")


def test_search_finds_nothing_for_unknown_words(api_client, library):
    assert search_ids(api_client, "zzyzzx") == []


def test_search_with_an_explicit_ordering_follows_the_ordering(api_client, library):
    ids = search_ids(api_client, "hobbit", ordering="title")
    assert ids == [library["essay"].pk, library["hobbit"].pk]


def test_search_ignores_withdrawn_books(api_client, library):
    library["dune"].is_active = False
    library["dune"].save()
    assert search_ids(api_client, "dune") == []


def test_search_combines_with_other_filters(api_client, library):
    assert search_ids(api_client, "hobbit", format="ebook") == []


# PostgreSQL: full-text ranking, typo tolerance, ISBN first


@pytest.mark.postgres
def test_title_match_ranks_above_subtitle_match(api_client, library):
    ids = search_ids(api_client, "hobbit")
    assert ids == [library["hobbit"].pk, library["essay"].pk]


@pytest.mark.postgres
def test_one_letter_typo_still_finds_the_book(api_client, library):
    assert search_ids(api_client, "hobit")[0] == library["hobbit"].pk
    assert search_ids(api_client, "dunne")[0] == library["dune"].pk


@pytest.mark.postgres
def test_a_typo_search_of_several_words_needs_each_word(api_client):
    both = BookFactory(description="", title="Shadow River")
    BookFactory(description="", title="Shadow Garden")
    BookFactory(description="", title="River Song")
    book_search_vector_refresh()

    assert search_ids(api_client, "shadow rievr") == [both.pk]  # a neighbour swap is one typo
    assert search_ids(api_client, "shadw river") == [both.pk]


@pytest.mark.postgres
def test_typo_in_an_author_name_still_finds_the_book(api_client, library):
    assert search_ids(api_client, "tolkein") == [library["hobbit"].pk]


@pytest.mark.postgres
def test_stemming_finds_plural_and_singular(api_client, library):
    assert search_ids(api_client, "essay") == [library["essay"].pk]


@pytest.mark.postgres
def test_exact_isbn_comes_first(api_client, library):
    decoy = BookFactory(description="", title=f"The {library['dune'].isbn} mystery")
    book_search_vector_refresh(book_ids=[decoy.pk])

    ids = search_ids(api_client, library["dune"].isbn)

    assert ids[0] == library["dune"].pk


@pytest.mark.postgres
def test_isbn_search_accepts_hyphens_and_isbn10(api_client):
    book = BookFactory(description="", isbn="9780306406157")
    book_search_vector_refresh(book_ids=[book.pk])

    assert search_ids(api_client, "0-306-40615-2") == [book.pk]
    assert search_ids(api_client, "978-0-306-40615-7") == [book.pk]


@pytest.mark.postgres
def test_search_vector_follows_api_edits_of_books_and_authors(staff_client, api_client, library):
    hobbit = library["hobbit"]
    staff_client.patch(f"{BOOKS}/{hobbit.pk}", {"title": "Farmer Giles of Ham"})
    assert search_ids(api_client, "farmer") == [hobbit.pk]

    author = hobbit.authors.get()
    staff_client.patch(f"/api/v1/authors/{author.pk}", {"name": "Ronald Tolkien"})
    assert search_ids(api_client, "ronald") == [hobbit.pk]


@pytest.mark.postgres
def test_search_vector_is_written_when_staff_create_a_book(staff_client, api_client):
    author = AuthorFactory(name="Octavia Butler")
    response = staff_client.post(
        BOOKS,
        {"isbn": "9780306406157", "title": "Kindred", "author_ids": [author.pk], "price": "10.00", "stock": 1},
    )
    assert response.status_code == 201
    assert search_ids(api_client, "octavia") == [response.json()["id"]]


@pytest.mark.parametrize("text", ["!!!", '"unbalanced', "a & b | c", "-", "' OR 1=1 --"])
def test_search_survives_odd_input(api_client, library, text):
    assert api_client.get(BOOKS, {"search": text}).status_code == 200


@pytest.mark.postgres
def test_imported_books_are_searchable_by_title_author_and_typo(api_client, tmp_path):
    import io

    from django.core.management import call_command

    path = tmp_path / "books.csv"
    path.write_text(
        "isbn,title,subtitle,authors,price\n"
        "9780306406157,The Left Hand of Darkness,A novel,Ursula Le Guin,9.99\n"
        "9780804429573,A Wizard of Earthsea,,Ursula Le Guin;Ruth Robbins,8.50\n"
    )
    call_command("import_books", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    left_hand = Book.objects.get(isbn="9780306406157")

    assert search_ids(api_client, "darkness") == [left_hand.pk]
    assert search_ids(api_client, "novel") == [left_hand.pk]
    assert len(search_ids(api_client, "ursula")) == 2
    assert search_ids(api_client, "Robins") == [Book.objects.get(isbn="9780804429573").pk]  # typo of an author
    assert search_ids(api_client, "darknes")[0] == left_hand.pk
