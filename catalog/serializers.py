"""Input validation and output shapes of the catalog API."""

from decimal import Decimal

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from bookstore.fields import MoneyField, StrictCharField, StrictTextModelSerializer, StrictTextSerializer
from bookstore.filters import MAX_ID
from catalog.covers import (
    CoverTooLargeError,
    CoverTooManyPixelsError,
    NotACoverImageError,
    check_cover_image,
    cover_reencoded,
)
from catalog.exceptions import FileTooLargeError
from catalog.isbn import InvalidISBNError, normalize_isbn
from catalog.models import Author, Book, Category, Review


class ISBNField(StrictCharField):
    """Accepts ISBN-10 or ISBN-13 (a string) with hyphens or spaces; yields ISBN-13 digits (validators see that)."""

    default_error_messages = {"invalid": 'Enter the ISBN as a string of digits, such as "978-0-306-40615-7".'}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return normalize_isbn(value)
        except InvalidISBNError as error:
            raise serializers.ValidationError(str(error), code="invalid") from None


class AuthorBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "name"]


class CategoryBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]


class BookListSerializer(serializers.ModelSerializer):
    """A book in lists: everything but the description."""

    # Reads expect `Book.objects.with_listing_data()` (the ratings and the authors' prefetch).

    authors = AuthorBriefSerializer(many=True, read_only=True)
    category = CategoryBriefSerializer(read_only=True, allow_null=True)
    currency = serializers.SerializerMethodField()
    stock = serializers.IntegerField(read_only=True, help_text="Copies in stock now.")
    in_stock = serializers.BooleanField(read_only=True)
    cover_url = serializers.SerializerMethodField()
    average_rating = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        min_value=Decimal("1"),
        max_value=Decimal("5"),
        coerce_to_string=False,
        read_only=True,
        allow_null=True,
        help_text="Mean of the ratings, rounded to 2 places; null without reviews.",
    )
    review_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Book
        fields = [
            "id",
            "isbn",
            "title",
            "subtitle",
            "slug",
            "authors",
            "category",
            "publisher",
            "published_date",
            "language",
            "page_count",
            "format",
            "price",
            "currency",
            "stock",
            "in_stock",
            "cover_url",
            "average_rating",
            "review_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_currency(self, book) -> str:
        return settings.STORE_CURRENCY

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_cover_url(self, book) -> str | None:
        if not book.cover:
            return None
        url = book.cover.url
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class BookSerializer(BookListSerializer):
    """A book in full, as the detail returns it."""

    class Meta(BookListSerializer.Meta):
        fields = [*BookListSerializer.Meta.fields[:12], "description", *BookListSerializer.Meta.fields[12:]]
        read_only_fields = fields


class BookWriteSerializer(StrictTextModelSerializer):
    """What staff send to create or change a book; the answer is the book in full."""

    isbn = ISBNField(
        validators=[UniqueValidator(queryset=Book.objects.all(), message="A book with this ISBN already exists.")],
        help_text="ISBN-13 or ISBN-10 (converted to ISBN-13); hyphens and spaces are ignored.",
    )
    slug = serializers.SlugField(
        max_length=320, required=False, allow_blank=True, help_text="Made from the title when empty."
    )
    # Ids stay within a 64-bit integer: a larger one is a 400, not a database overflow (500).
    author_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=50,
        help_text="Ids of the authors.",
    )
    category_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True)
    price = MoneyField(max_digits=7, min_value=Decimal("0.01"), max_value=Book.MAX_PRICE)
    stock = serializers.IntegerField(min_value=0, max_value=Book.MAX_STOCK, required=False)
    page_count = serializers.IntegerField(min_value=1, max_value=Book.MAX_PAGE_COUNT, required=False, allow_null=True)

    class Meta:
        model = Book
        fields = [
            "isbn",
            "title",
            "subtitle",
            "slug",
            "author_ids",
            "category_id",
            "publisher",
            "published_date",
            "language",
            "page_count",
            "format",
            "description",
            "price",
            "stock",
        ]

    def validate_author_ids(self, value: list[int]) -> list[Author]:
        wanted = list(dict.fromkeys(value))
        authors = {author.pk: author for author in Author.objects.filter(pk__in=wanted)}
        missing = [pk for pk in wanted if pk not in authors]
        if missing:
            raise serializers.ValidationError(
                f"No author with id {', '.join(map(str, missing))}.", code="does_not_exist"
            )
        return [authors[pk] for pk in wanted]

    def validate_category_id(self, value: int | None) -> Category | None:
        if value is None:
            return None
        category = Category.objects.filter(pk=value).first()
        if category is None:
            raise serializers.ValidationError(f"No category with id {value}.", code="does_not_exist")
        return category

    def to_service_kwargs(self) -> dict:
        """The validated data in `book_create`/`book_update` terms."""
        data = dict(self.validated_data)
        if "author_ids" in data:
            data["authors"] = data.pop("author_ids")
        if "category_id" in data:
            data["category"] = data.pop("category_id")
        return data


class CoverUploadSerializer(serializers.Serializer):
    image = serializers.FileField(
        help_text="A JPEG, PNG or WebP image of at most 5 MB and 40 megapixels; stored re-encoded, without metadata."
    )

    def validate_image(self, image):
        """The upload checked (size, pixel count, a real image) and re-encoded: what is stored."""
        try:
            self.image_format = check_cover_image(image)
            return cover_reencoded(image, self.image_format)
        except CoverTooLargeError as error:
            raise FileTooLargeError(str(error), attr="image") from None
        except CoverTooManyPixelsError as error:
            raise serializers.ValidationError(str(error), code="too_many_pixels") from None
        except NotACoverImageError as error:
            raise serializers.ValidationError(str(error), code="invalid_image") from None


class CategorySerializer(StrictTextModelSerializer):
    parent_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True)
    slug = serializers.SlugField(
        max_length=140,
        required=False,
        validators=[
            UniqueValidator(queryset=Category.objects.all(), message="A category with this slug already exists.")
        ],
        help_text="Made from the name when not given.",
    )

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent_id", "description"]

    def validate_parent_id(self, value: int | None) -> int | None:
        if value is None:
            return None
        if not Category.objects.filter(pk=value).exists():
            raise serializers.ValidationError(f"No category with id {value}.", code="does_not_exist")
        if self.instance is not None and self.instance.parent_would_cycle(value):
            raise serializers.ValidationError(
                "A category cannot be placed under itself or one of its sub-categories.", code="cycle"
            )
        return value

    # The slug made from the name, and the checks repeated under lock, are `category_create`/`category_update`'s.


class AuthorSerializer(StrictTextModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "name", "bio"]


class ReviewUserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    display_name = serializers.CharField(read_only=True)


class ReviewSerializer(StrictTextModelSerializer):
    """A review as read and written."""

    # Reads expect `Review.objects.with_listing_data()`.

    book_id = serializers.IntegerField(read_only=True)
    user = ReviewUserSerializer(read_only=True)
    rating = serializers.IntegerField(min_value=1, max_value=5)
    verified_purchase = serializers.BooleanField(read_only=True)

    class Meta:
        model = Review
        fields = [
            "id", "book_id", "user", "rating", "title", "body", "verified_purchase", "status",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "book_id", "status", "created_at", "updated_at"]

    def validate(self, attrs):
        book, user = self.context.get("book"), self.context["request"].user
        if self.instance is None and book is not None and Review.objects.filter(book=book, user=user).exists():
            raise serializers.ValidationError("You have already reviewed this book.", code="unique")
        return attrs


class ReviewReportSerializer(StrictTextSerializer):
    """Why a customer reports a review."""

    reason = serializers.CharField(max_length=500, help_text="What is wrong with the review, in a few words.")


class BookSuggestionSerializer(serializers.ModelSerializer):
    """A book as `books/suggest` lists it (as-you-type boxes)."""

    authors = AuthorBriefSerializer(many=True, read_only=True)
    cover_url = serializers.SerializerMethodField()
    get_cover_url = BookListSerializer.get_cover_url

    class Meta:
        model = Book
        fields = ["id", "title", "authors", "cover_url"]
        read_only_fields = fields
