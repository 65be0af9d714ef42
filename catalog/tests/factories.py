from decimal import Decimal

import factory

from catalog.models import Author, Book, Category, Review


def _isbn13(n: int) -> str:
    """A valid ISBN-13 (978 prefix and check digit) from a sequence number."""
    body = f"978{n:09d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


class AuthorFactory(factory.django.DjangoModelFactory):
    name = factory.Faker("name")
    bio = factory.Faker("paragraph")

    class Meta:
        model = Author


class CategoryFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    parent = None

    class Meta:
        model = Category


class BookFactory(factory.django.DjangoModelFactory):
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
        self.authors.set(extracted if extracted is not None else [AuthorFactory()])


class ReviewFactory(factory.django.DjangoModelFactory):
    book = factory.SubFactory(BookFactory)
    user = factory.SubFactory("accounts.tests.factories.UserFactory")
    rating = 4
    title = "Worth reading"
    body = factory.Faker("paragraph")

    class Meta:
        model = Review


def stock_force(book_id: int, quantity: int) -> None:
    """Sets a book's stock behind the ledger's back (as a sale in another session would), its
    `in_stock` flag with it."""
    from catalog.models import Stock

    Stock.objects.filter(book_id=book_id).update(quantity=quantity)
    Book.objects.filter(pk=book_id).update(in_stock=quantity > 0)
