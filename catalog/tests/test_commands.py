import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Author, Book, Category, StockMovement
from catalog.tests.factories import AuthorFactory, BookFactory

pytestmark = pytest.mark.django_db

HEADER = (
    "isbn,title,subtitle,authors,category,publisher,published_date,language,page_count,format,price,stock,description\n"
)


def run_import(tmp_path, text: str, *args) -> tuple[str, str]:
    path = tmp_path / "books.csv"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_books", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


GOOD_CSV = HEADER + (
    "978-0-306-40615-7,The Good Book,A subtitle,Ann Author;Bob Writer,Fiction/Fantasy,"
    "Pub,2020-01-02,en,300,hardcover,12.50,5,Nice\n"
    "0-8044-2957-X,Second Book,,Ann Author,Fiction,Pub,,fr,,ebook,3.00,,\n"
)


def test_import_creates_books_authors_nested_categories_and_ledger(tmp_path):
    out, err = run_import(tmp_path, GOOD_CSV)

    assert err == ""
    assert "Created 2 and updated 0 book(s)" in out
    good = Book.objects.get(isbn="9780306406157")
    assert (good.title, good.subtitle, good.price, good.stock, good.format, good.page_count) == (
        "The Good Book",
        "A subtitle",
        Decimal("12.50"),
        5,
        "hardcover",
        300,
    )
    assert sorted(good.authors.values_list("name", flat=True)) == ["Ann Author", "Bob Writer"]
    assert (good.category.name, good.category.parent.name) == ("Fantasy", "Fiction")
    second = Book.objects.get(isbn="9780804429573")  # from ISBN-10
    assert (second.stock, second.language, second.category.name) == (0, "fr", "Fiction")
    assert Author.objects.filter(name="Ann Author").count() == 1
    assert Category.objects.count() == 2
    movement = StockMovement.objects.get()
    assert (movement.book, movement.delta, movement.stock_after, movement.reason) == (good, 5, 5, "import")


def test_import_updates_existing_books_by_isbn_and_records_the_stock_difference(tmp_path):
    author = AuthorFactory(name="Ann Author")
    book = BookFactory(isbn="9780306406157", title="Old title", stock=10, authors=[AuthorFactory(name="Someone")])
    before = book.updated_at

    out, _ = run_import(tmp_path, GOOD_CSV)

    assert "Created 1 and updated 1 book(s)" in out
    book.refresh_from_db()
    assert (book.title, book.stock, book.price) == ("The Good Book", 5, Decimal("12.50"))
    assert (book.published_date, book.format, book.category.name) == (datetime.date(2020, 1, 2), "hardcover", "Fantasy")
    assert book.updated_at > before
    assert author in book.authors.all() and not book.authors.filter(name="Someone").exists()
    movement = StockMovement.objects.get(book=book)
    assert (movement.delta, movement.stock_after, movement.reason) == (-5, 5, "import")


def test_import_is_idempotent(tmp_path):
    run_import(tmp_path, GOOD_CSV)
    out, _ = run_import(tmp_path, GOOD_CSV)

    assert "Created 0 and updated 2 book(s), 0 stock change(s)" in out
    assert Book.objects.count() == 2
    assert StockMovement.objects.count() == 1


def test_import_reports_bad_rows_with_line_numbers_and_keeps_going(tmp_path):
    text = HEADER + (
        "9780306406158,Bad checksum,,,,,,,,,1.00,1,\n"
        "9780306406157,Good,,,,,,,,,2.00,1,\n"
        "9781861972712,Bad values,,,,,2020-13-01,xx,,scroll,-1,-3,\n"
        "9780306406157,Same ISBN again,,,,,,,,,2.00,1,\n"
        '9780804429573,"Multi\nline title",,,,,,,,,1e30,1,\n'
        "9781861972712,No price,,,,,,,,,,1,\n"
        "9780140449136,Fine too,,,,,,,,,4.00,,\n"
    )

    out, err = run_import(tmp_path, text)

    assert "Created 2 and updated 0 book(s)" in out
    assert "5 row(s) rejected" in out
    assert "line 2: isbn: This ISBN-13 has a wrong check digit." in err
    assert "line 4: language:" in err and "line 4: format:" in err and "line 4: price:" in err
    assert "line 4: stock:" in err and "line 4: published_date:" in err
    assert "line 5: isbn: same ISBN as line 3" in err
    assert "line 6: price:" in err
    assert "line 8: price: This field is required." in err
    assert set(Book.objects.values_list("isbn", flat=True)) == {"9780306406157", "9780140449136"}


def test_import_dry_run_writes_nothing(tmp_path):
    out, _ = run_import(tmp_path, GOOD_CSV, "--dry-run")

    assert "Would create 2" in out and "nothing was written" in out
    assert not Book.objects.exists()
    assert not Author.objects.exists()
    assert not StockMovement.objects.exists()


def test_import_in_small_batches_gives_the_same_result(tmp_path):
    rows = "".join(
        f"{isbn},Book {i},,Shared Author;Author {i},Cat/Sub,,,,,,{i + 1}.00,{i},\n"
        for i, isbn in enumerate(["9780306406157", "9780804429573", "9780140449136", "9781861972712"])
    )

    out, _ = run_import(tmp_path, HEADER + rows, "--batch-size", "1", "--progress", "always")

    assert "Created 4" in out
    assert Author.objects.filter(name="Shared Author").count() == 1
    assert Category.objects.count() == 2
    assert StockMovement.objects.count() == 3  # the book with stock 0 has no movement


def test_import_refuses_a_file_without_required_columns(tmp_path):
    with pytest.raises(CommandError, match="price"):
        run_import(tmp_path, "isbn,title\n9780306406157,X\n")


def test_import_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError):
        call_command("import_books", str(tmp_path / "nope.csv"), stdout=io.StringIO(), stderr=io.StringIO())


def test_import_queries_do_not_grow_with_the_number_of_rows(tmp_path, django_assert_max_num_queries):
    from catalog.isbn import isbn13_check_digit

    rows = []
    for i in range(200):
        body = f"979{i:09d}"
        rows.append(f"{body}{isbn13_check_digit(body)},Book {i},,Author {i % 7},Cat/Sub {i % 3},,,,,,9.99,{i % 4},\n")
    path = tmp_path / "many.csv"
    path.write_text(HEADER + "".join(rows))

    with django_assert_max_num_queries(40):
        call_command("import_books", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert Book.objects.count() == 200


# The fast row check agrees with the serializer: same data when it accepts, the serializer decides otherwise.

VALID_ROW = {
    "isbn": "978-0-306-40615-7",
    "title": "The Good Book",
    "subtitle": "Sub",
    "authors": "Ann Author; Bob Writer;Ann Author",
    "category": "Fiction / Fantasy",
    "publisher": "Pub",
    "published_date": "2020-01-02",
    "language": "fr",
    "page_count": "300",
    "format": "hardcover",
    "price": "12.5",
    "stock": "007",
    "description": "Nice",
}


WELL_FORMED = [
    {},
    {"isbn": "0-8044-2957-X"},
    {"price": "99999.99", "stock": "1000000", "page_count": "100000"},
    {"price": "0.01", "stock": "0", "page_count": "1"},
    {"price": "10"},
    {"authors": "", "category": ""},
    {"title": "x" * 300, "publisher": "p" * 200, "description": "d" * 20_000},
    {"title": "Ünïcode — ťitle 書"},
]
UNUSUAL = [  # unusual or bad values: the serializer decides (the fast check must not accept a bad one)
    {"isbn": "978-0-306-40615-8"},
    {"isbn": "12345"},
    {"title": "x" * 301},
    {"publisher": "p" * 201},
    {"title": "nul\x00inside"},
    {"description": "surrogate \ud800"},
    {"price": "0.00"},
    {"price": "100000"},
    {"price": "1.005"},
    {"price": "1e3"},
    {"price": "-1"},
    {"price": "NaN"},
    {"stock": "1000001"},
    {"stock": "-1"},
    {"stock": "1.0"},
    {"page_count": "0"},
    {"page_count": "100001"},
    {"published_date": "2020-02-30"},
    {"published_date": "2020-1-2"},
    {"published_date": "02/01/2020"},
    {"language": "xx"},
    {"language": "EN"},
    {"format": "scroll"},
    {"authors": "a" * 201},
    {"category": "c" * 121},
    {"category": "/".join(["c" * 100] * 7)},
]


def _checked(change):
    from catalog.importing import BookImportRowSerializer, FastRowCheck

    validator = BookImportRowSerializer()
    row = {**VALID_ROW, **change}
    data = {key: value.strip() for key, value in row.items() if value.strip()}
    data.setdefault("authors", "")
    data.setdefault("category", "")
    return validator, row, data, FastRowCheck.of(validator).clean(data)


@pytest.mark.parametrize("change", WELL_FORMED)
def test_the_fast_row_check_gives_what_the_serializer_gives(change):
    validator, _, data, fast = _checked(change)

    expected = dict(validator.run_validation(data))
    assert fast == expected
    assert {name: type(value) for name, value in fast.items()} == {
        name: type(value) for name, value in expected.items()
    }


@pytest.mark.parametrize("change", UNUSUAL)
def test_the_serializer_decides_the_rows_the_fast_check_cannot(change):
    from rest_framework import serializers

    from catalog.importing import clean_row

    validator, row, data, fast = _checked(change)
    try:
        expected = dict(validator.run_validation(data))
    except serializers.ValidationError as error:
        assert fast is None
        with pytest.raises(serializers.ValidationError) as raised:
            clean_row(row, validator)
        assert raised.value.detail == error.detail
    else:  # e.g. "1e3" as a price, "1.0" as a stock
        assert fast is None or fast == expected
        assert clean_row(row, validator) == expected


def test_the_fast_row_check_takes_rows_without_optional_columns():
    from catalog.importing import BookImportRowSerializer, FastRowCheck

    validator = BookImportRowSerializer()
    data = {"isbn": "9780306406157", "title": "T", "price": "1.00"}
    assert FastRowCheck.of(validator).clean(data) == dict(validator.run_validation(data))


def test_import_keeps_tabs_backslashes_and_line_breaks_in_text(tmp_path):
    """PostgreSQL's import copies rows in COPY's text format, where these characters are escapes."""
    description = 'Line one\nline two\twith a tab, C:\\path\\N and a \\\\ pair, \r\n"quoted"'
    quoted = description.replace('"', '""')
    csv_text = (
        HEADER + f'978-0-306-40615-7,"Tab\there",Back\\slash,Ann Author,Fiction,Pub,,en,,ebook,3.00,2,"{quoted}"\n'
    )
    _, err = run_import(tmp_path, csv_text)

    assert err == ""
    book = Book.objects.get(isbn="9780306406157")
    assert (book.title, book.subtitle) == ("Tab\there", "Back\\slash")
    assert book.description == description
    assert book.stock == 2


@pytest.mark.postgres
def test_an_imported_book_is_found_by_a_typo_as_soon_as_the_import_ends(tmp_path, api_client):
    run_import(tmp_path, HEADER + "978-0-306-40615-7,Cryptonomicon,,Neal Stephenson,Fiction,Pub,,en,,ebook,3.00,2,\n")

    found = api_client.get("/api/v1/books", {"search": "cryptonomicn"}).json()

    assert [book["isbn"] for book in found["results"]] == ["9780306406157"]
