from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class Author(models.Model):
    name = models.CharField(max_length=200, db_index=True)
    bio = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Category(models.Model):
    """A node of the category tree; a book in a sub-category is also in its ancestors."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("pk")), name="catalog_category_not_own_parent"),
        ]

    def __str__(self):
        return self.name


class BookQuerySet(models.QuerySet):
    def available(self):
        """Books in the public catalog (not withdrawn)."""
        return self.filter(is_active=True)


class Book(models.Model):
    class Format(models.TextChoices):
        PAPERBACK = "paperback"
        HARDCOVER = "hardcover"
        EBOOK = "ebook"
        AUDIOBOOK = "audiobook"

    MAX_PRICE = Decimal("99999.99")

    isbn = models.CharField("ISBN-13", max_length=13, unique=True)
    title = models.CharField(max_length=300)
    subtitle = models.CharField(max_length=300, blank=True)
    slug = models.SlugField(max_length=320)
    authors = models.ManyToManyField(Author, related_name="books", blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="books")
    publisher = models.CharField(max_length=200, blank=True)
    published_date = models.DateField(null=True, blank=True)
    language = models.CharField(max_length=2, default="en", help_text="ISO 639-1 code")
    page_count = models.PositiveIntegerField(null=True, blank=True)
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.PAPERBACK)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=7, decimal_places=2)
    stock = models.IntegerField(default=0, help_text="Change it through catalog.services.stock_apply only.")
    cover = models.ImageField(upload_to="covers/", blank=True)
    is_active = models.BooleanField(default=True, help_text="Unset to withdraw the book from the catalog.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BookQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="catalog_book_stock_not_negative"),
            models.CheckConstraint(condition=Q(price__gt=0), name="catalog_book_price_positive"),
        ]

    def __str__(self):
        return self.title

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


class Review(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="reviews")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True, max_length=10000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["book", "user"], name="catalog_review_one_per_user_and_book"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="catalog_review_rating_1_to_5"),
        ]

    def __str__(self):
        return f"{self.rating}/5 for {self.book_id} by {self.user_id}"


class StockMovement(models.Model):
    """An append-only ledger line: every change of a book's stock, with why and by whom."""

    class Reason(models.TextChoices):
        INITIAL = "initial"
        RESTOCK = "restock"
        ADJUSTMENT = "adjustment"
        IMPORT = "import"
        SALE = "sale"
        CANCELLATION = "cancellation"

    book = models.ForeignKey(Book, on_delete=models.PROTECT, related_name="stock_movements")
    delta = models.IntegerField()
    stock_after = models.IntegerField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order_reference = models.CharField(max_length=32, blank=True, db_index=True)
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(stock_after__gte=0), name="catalog_stockmovement_after_not_negative"),
        ]

    def __str__(self):
        return f"{self.delta:+d} {self.book_id} ({self.reason})"
