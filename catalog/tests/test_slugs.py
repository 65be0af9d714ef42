"""One way to make slugs: the API, the CSV import and the seed give a title or a name the same one."""

import io

import pytest
from django.core.management import call_command

from catalog.models import Book, Category
from catalog.slugs import book_slug, category_slug, first_free
from catalog.tests.factories import AuthorFactory, CategoryFactory


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Dune: Messiah!", "dune-messiah"),
        ("  L'Étranger  ", "letranger"),
        ("東京物語", "book"),
        ("", "book"),
        ("A" * 400, "a" * 320),
    ],
)
def test_a_book_slug_is_ascii_words_cut_to_the_column_with_a_fallback(title, expected):
    assert book_slug(title) == expected
    assert len(book_slug(title)) <= Book._meta.get_field("slug").max_length


def test_a_category_slug_leaves_room_for_its_number_within_the_column():
    base = category_slug("poetry " * 40)
    numbered = first_free(base, taken={base, *(f"{base}-{n}" for n in range(2, 99))})

    assert numbered == f"{base}-99"
    assert len(numbered) <= Category._meta.get_field("slug").max_length
    assert category_slug("Science Fiction") == "science-fiction"
    assert category_slug("…") == "category"


def test_first_free_numbers_from_two():
    assert first_free("poetry", taken=set()) == "poetry"
    assert first_free("poetry", taken={"poetry", "poetry-2"}) == "poetry-3"


@pytest.mark.django_db
def test_the_api_and_the_import_give_a_title_and_a_category_the_same_slugs(staff_client, tmp_path):
    CategoryFactory(name="Taken", slug="science-fiction")
    created = staff_client.post(
        "/api/v1/books",
        {"isbn": "978-0-306-40615-7", "title": "Dune: Messiah!", "author_ids": [AuthorFactory().pk], "price": "9.99"},
    )
    category = staff_client.post("/api/v1/categories", {"name": "Science Fiction"})
    path = tmp_path / "books.csv"
    path.write_text("isbn,title,price,category\n0-8044-2957-X,Dune: Messiah!,3.00,Space Opera\n", encoding="utf-8")
    call_command("import_books", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    assert created.json()["slug"] == Book.objects.get(isbn="9780804429573").slug == "dune-messiah"
    assert category.json()["slug"] == "science-fiction-2"
    assert Category.objects.get(name="Space Opera").slug == "space-opera"
