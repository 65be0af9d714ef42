import pytest
from django.core.exceptions import ValidationError as DjangoValidationError

from bookstore.integrity import UniqueError
from catalog import services, stock
from catalog.categories import category_subtree_ids
from catalog.exceptions import InsufficientStockError, InUseError
from catalog.isbn import InvalidISBNError, normalize_isbn
from catalog.models import Book, Category, Review, StockMovement
from catalog.tests.factories import AuthorFactory, BookFactory, CategoryFactory, ReviewFactory

# ISBN


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9780306406157", "9780306406157"),
        ("978-0-306-40615-7", "9780306406157"),
        (" 978 0 306 40615 7 ", "9780306406157"),
        ("0306406152", "9780306406157"),
        ("0-8044-2957-x", "9780804429573"),
        ("979-10-90636-07-1", "9791090636071"),
    ],
)
def test_normalize_isbn_accepts_isbn10_and_isbn13(raw, expected):
    assert normalize_isbn(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["9780306406158", "0306406153", "978030640615", "X306406152", "1234567890123", "９７８０３０６４０６１５７", ""],
)
def test_normalize_isbn_rejects_bad_checksums_lengths_and_characters(raw):
    with pytest.raises(InvalidISBNError):
        normalize_isbn(raw)


# Stock ledger


@pytest.mark.django_db
def test_stock_apply_writes_a_movement_per_book_in_one_go(user):
    a, b = BookFactory(stock=5), BookFactory(stock=1)

    stock.stock_apply(changes={a.pk: -2, b.pk: 3}, reason="sale", actor=user, order_reference="ORD1")

    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.stock, b.stock) == (3, 4)
    rows = {m.book_id: m for m in StockMovement.objects.all()}
    assert (rows[a.pk].delta, rows[a.pk].stock_after, rows[a.pk].order_reference) == (-2, 3, "ORD1")
    assert (rows[b.pk].delta, rows[b.pk].stock_after, rows[b.pk].actor) == (3, 4, user)


@pytest.mark.django_db
def test_stock_apply_refuses_to_go_below_zero_and_writes_nothing():
    book = BookFactory(stock=1)

    from django.db import transaction

    with pytest.raises(InsufficientStockError) as error, transaction.atomic():
        stock.stock_apply(changes={book.pk: -2}, reason="sale")

    assert error.value.shortages[0].available == 1
    book.refresh_from_db()
    assert book.stock == 1
    assert not StockMovement.objects.exists()


@pytest.mark.django_db
def test_stock_set_many_records_only_real_changes():
    a, b = BookFactory(stock=5), BookFactory(stock=2)

    changed = stock.stock_set_many(levels={a.pk: 5, b.pk: 9}, reason="import")

    assert changed == 1
    assert list(StockMovement.objects.values_list("book_id", "delta", "stock_after")) == [(b.pk, 7, 9)]


@pytest.mark.django_db
def test_book_create_writes_the_opening_stock_to_the_ledger(staff_user):
    author = AuthorFactory()

    book = services.book_create(
        actor=staff_user, authors=[author], stock=4, isbn="9780306406157", title="Ledger", price="9.99"
    )

    assert book.stock == 4 and book.slug == "ledger"
    assert list(book.authors.all()) == [author]
    assert StockMovement.objects.get(book=book).reason == "initial"


@pytest.mark.django_db
def test_ledger_sums_to_the_stock_after_several_changes(staff_user):
    book = services.book_create(actor=staff_user, stock=10, isbn="9780306406157", title="Sum", price="1.00")
    services.book_update(book=book, actor=staff_user, stock=3)
    stock.stock_apply(changes={book.pk: 4}, reason="restock")

    book.refresh_from_db()
    assert sum(book.stock_movements.values_list("delta", flat=True)) == book.stock == 7


# Withdraw, delete


@pytest.mark.django_db
def test_books_withdraw_and_restore():
    book = BookFactory()

    services.book_withdraw(book=book)
    assert not Book.objects.available().filter(pk=book.pk).exists()

    services.books_restore(books=Book.objects.filter(pk=book.pk))
    assert Book.objects.available().filter(pk=book.pk).exists()


@pytest.mark.django_db
def test_category_and_author_delete_refuse_while_books_remain():
    book = BookFactory()
    with pytest.raises(InUseError):
        services.category_delete(category=book.category)
    with pytest.raises(InUseError):
        services.author_delete(author=book.authors.get())


# Categories


@pytest.mark.django_db
def test_category_subtree_ids_by_id_or_slug():
    root = CategoryFactory(slug="root")
    child = CategoryFactory(parent=root)
    grandchild = CategoryFactory(parent=child)
    CategoryFactory()

    assert category_subtree_ids("root") == {root.pk, child.pk, grandchild.pk}
    assert category_subtree_ids(child.pk) == {child.pk, grandchild.pk}
    assert category_subtree_ids("missing") == set()


@pytest.mark.django_db
def test_category_clean_refuses_cycles():
    root = CategoryFactory()
    child = CategoryFactory(parent=root)
    root.parent = child

    with pytest.raises(DjangoValidationError):
        root.full_clean()


@pytest.mark.django_db
def test_category_cannot_be_its_own_parent_in_the_database():
    from django.db import IntegrityError, transaction

    category = CategoryFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.filter(pk=category.pk).update(parent=category.pk)


# Reviews


@pytest.mark.django_db
def test_verified_purchase_is_false_without_a_shipped_or_delivered_order():
    ReviewFactory()
    assert Review.objects.with_verified_purchase().get().verified_purchase is False


@pytest.mark.django_db
def test_one_review_per_user_and_book_in_the_database():
    from django.db import IntegrityError, transaction

    review = ReviewFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(book=review.book, user=review.user, rating=3)


@pytest.mark.django_db
def test_with_ratings_does_not_double_count_with_several_authors():
    book = BookFactory(authors=[AuthorFactory(), AuthorFactory(), AuthorFactory()])
    ReviewFactory(book=book, rating=5)
    ReviewFactory(book=book, rating=3)

    annotated = Book.objects.with_ratings().filter(authors__isnull=False).distinct().get()

    assert annotated.review_count == 2
    assert float(annotated.average_rating) == 4.0


@pytest.mark.django_db
def test_a_duplicate_that_passed_the_checks_is_a_400_unique_from_the_service():
    """What a request that lost a race meets (the view's checks passed, the unique index did not)."""
    review = ReviewFactory()
    book = BookFactory()

    with pytest.raises(UniqueError) as duplicate_review:
        services.review_create(book=review.book, user=review.user, rating=3)
    with pytest.raises(UniqueError) as duplicate_isbn:
        services.book_update(book=book, isbn=review.book.isbn)
    with pytest.raises(UniqueError) as duplicate_slug:
        services.category_create(name="Any", slug=book.category.slug)

    assert (duplicate_review.value.code, duplicate_review.value.attr) == ("unique", "non_field_errors")
    assert (duplicate_isbn.value.code, duplicate_isbn.value.attr) == ("unique", "isbn")
    assert (duplicate_slug.value.code, duplicate_slug.value.attr) == ("unique", "slug")
