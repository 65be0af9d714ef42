from decimal import Decimal

import factory

from catalog.caching import catalog_changed
from catalog.models import Author, Book, Category, Review
from catalog.search_index import book_postings_refresh


class _Invalidating(factory.django.DjangoModelFactory):
    """Rows made as the services make them: the cached catalog reads that show them are invalidated
    (`catalog.caching`; the services call it, no signal does)."""

    class Meta:
        abstract = True

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        super()._after_postgeneration(instance, create, results)
        if create:
            catalog_changed(book_ids=cls._books_shown_on(instance))

    @classmethod
    def _books_shown_on(cls, instance) -> list[int]:
        return []


def _isbn13(n: int) -> str:
    """A valid ISBN-13 (978 prefix and check digit) from a sequence number."""
    body = f"978{n:09d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


class AuthorFactory(_Invalidating):
    name = factory.Faker("name")
    bio = factory.Faker("paragraph")

    class Meta:
        model = Author


class CategoryFactory(_Invalidating):
    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    parent = None

    class Meta:
        model = Category


class BookFactory(_Invalidating):
    isbn = factory.Sequence(lambda n: _isbn13(n + 1000))
    title = factory.Sequence(lambda n: f"Book number {n}")
    slug = factory.Sequence(lambda n: f"book-number-{n}")
    category = factory.SubFactory(CategoryFactory)
    publisher = "Example Press"
    language = "en"
    format = Book.Format.PAPERBACK
    description = factory.Faker("paragraph")
    price = Decimal("12.50")
    stock = 10

    class Meta:
        model = Book
        skip_postgeneration_save = True

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        if not create:
            return
        # a new book has no authors yet: `add` (one INSERT), not `set` (which reads the current ones first)
        self.authors.add(*(extracted if extracted is not None else [AuthorFactory()]))


class ReviewFactory(_Invalidating):
    book = factory.SubFactory(BookFactory)
    user = factory.SubFactory("accounts.tests.factories.UserFactory")
    rating = 4
    title = "Worth reading"
    body = factory.Faker("paragraph")

    class Meta:
        model = Review

    @classmethod
    def _books_shown_on(cls, instance) -> list[int]:
        return [instance.book_id]

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        super()._after_postgeneration(instance, create, results)
        if create:  # the rating the search postings carry, as the review services keep it
            book_postings_refresh(book_ids=[instance.book_id])


def stock_force(book_id: int, quantity: int) -> None:
    """Sets a book's stock behind the ledger's back (as a sale in another session would), its
    `in_stock` flag with it."""
    from catalog.models import Stock

    Stock.objects.filter(book_id=book_id).update(quantity=quantity)
    Book.objects.filter(pk=book_id).update(in_stock=quantity > 0)
