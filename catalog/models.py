from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Avg, Count, Exists, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User
    from catalog.search import SearchPlan

# PostgreSQL search: the text search configuration of the vector and the query (no stemming:
# words are matched as they are, typos and prefixes are handled by catalog.search).
SEARCH_CONFIG = "simple"


class Author(models.Model):
    name = models.CharField(max_length=200, db_index=True)
    bio = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
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

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.parent_id is not None and self.pk is not None and self.parent_would_cycle(self.parent_id):
            raise ValidationError({"parent": "A category cannot be placed under itself or one of its sub-categories."})

    def parent_would_cycle(self, parent_id: int, *, parents: dict[int, int | None] | None = None) -> bool:
        """True when `parent_id` is this category or one of its descendants (walks up from the parent).

        `parents`: every category's parent id, by id (read here when not given).
        """
        if parents is None:
            parents = dict(Category.objects.values_list("pk", "parent_id"))
        seen: set[int] = set()
        current: int | None = parent_id
        while current is not None and current not in seen:
            if current == self.pk:
                return True
            seen.add(current)
            current = parents.get(current)
        return False


class BookQuerySet(models.QuerySet["Book"]):
    def available(self) -> "BookQuerySet":
        """Books in the public catalog (not withdrawn)."""
        return self.filter(is_active=True)

    def with_ratings(self) -> "BookQuerySet":
        """`average_rating` (or None) and `review_count` as correlated subqueries.

        Subqueries rather than a JOIN + GROUP BY so that joins made by filters (authors) never
        multiply the reviews, and the count query stays simple.
        """
        reviews = Review.objects.filter(book=OuterRef("pk"), status=Review.Status.PUBLISHED).order_by().values("book")
        return self.annotate(
            average_rating=Subquery(reviews.annotate(avg=Avg("rating")).values("avg")[:1]),
            review_count=Coalesce(Subquery(reviews.annotate(n=Count("pk")).values("n")[:1]), Value(0)),
        )

    def search(
        self,
        text: str,
        *,
        ranked: bool = True,
        relax_within: "BookQuerySet | None" = None,
        plan: "SearchPlan | None" = None,
        postings: bool = False,
    ) -> "BookQuerySet":
        """Books matching `text` (see `catalog.search`): every word, accents and bounded typos
        forgiven, the last word also as a prefix, or an ISBN; ranked unless `ranked` is false."""
        from catalog.search import search_books

        return search_books(self, text, ranked=ranked, relax_within=relax_within, plan=plan, postings=postings)

    def with_listing_data(self) -> "BookQuerySet":
        """Everything the book serializers read, in a constant number of queries (page + authors)."""
        return (
            self.select_related("category", "stock_record")
            .prefetch_related(Prefetch("authors", queryset=Author.objects.only("id", "name").order_by("name", "id")))
            .defer("search_vector")
            .with_ratings()
        )


class Book(models.Model):
    class Format(models.TextChoices):
        PAPERBACK = "paperback"
        HARDCOVER = "hardcover"
        EBOOK = "ebook"
        AUDIOBOOK = "audiobook"

    class Language(models.TextChoices):
        ARABIC = "ar"
        CHINESE = "zh"
        CZECH = "cs"
        DANISH = "da"
        DUTCH = "nl"
        ENGLISH = "en"
        FINNISH = "fi"
        FRENCH = "fr"
        GERMAN = "de"
        GREEK = "el"
        HEBREW = "he"
        HINDI = "hi"
        ITALIAN = "it"
        JAPANESE = "ja"
        KOREAN = "ko"
        NORWEGIAN = "no"
        POLISH = "pl"
        PORTUGUESE = "pt"
        RUSSIAN = "ru"
        SPANISH = "es"
        SWEDISH = "sv"
        TURKISH = "tr"
        UKRAINIAN = "uk"

    MAX_PRICE = Decimal("99999.99")
    MAX_STOCK = 1_000_000
    MAX_PAGE_COUNT = 100_000
    LOW_STOCK = 5

    isbn = models.CharField("ISBN-13", max_length=13, unique=True)
    title = models.CharField(max_length=300)
    subtitle = models.CharField(max_length=300, blank=True)
    slug = models.SlugField(max_length=320)
    authors = models.ManyToManyField(Author, related_name="books", blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="books")
    publisher = models.CharField(max_length=200, blank=True)
    published_date = models.DateField(null=True, blank=True)
    language = models.CharField(
        max_length=2, choices=Language.choices, default=Language.ENGLISH, help_text="ISO 639-1 code"
    )
    page_count = models.PositiveIntegerField(null=True, blank=True)
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.PAPERBACK)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=7, decimal_places=2)
    # Copies on hand live in `Stock` (a narrow row of its own, written by the ledger only); this
    # flag follows them across zero, so that the `in_stock` filter stays on this table's index.
    in_stock = models.BooleanField(
        default=False, editable=False, help_text="Stock above zero; set by the stock ledger (catalog.stock)."
    )
    cover = models.ImageField(upload_to="covers/", blank=True)
    is_active = models.BooleanField(default=True, help_text="Unset to withdraw the book from the catalog.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Weighted accent-free words: title (A), authors (B), subtitle and publisher (C), description
    # (D); kept in sync by catalog.search_index.book_search_vector_refresh, used on PostgreSQL only.
    # Its GIN index is created by migration 0002 (PostgreSQL only), not declared here.
    search_vector = SearchVectorField(null=True, editable=False)
    # Copies sold in the last 90 days: raised by sales in the stock ledger, recomputed by
    # `manage.py refresh_popularity` (which lets old sales age out).
    popularity = models.PositiveIntegerField(
        default=0, editable=False, help_text="Copies sold in the last 90 days (refresh_popularity)."
    )

    objects = BookQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="catalog_book_created_idx"),
            models.Index(fields=["price"], name="catalog_book_price_idx"),
            models.Index(fields=["title"], name="catalog_book_title_idx"),
            models.Index(fields=["published_date"], name="catalog_book_published_idx"),
            models.Index(fields=["language"], name="catalog_book_language_idx"),
            models.Index(fields=["format"], name="catalog_book_format_idx"),
            models.Index(fields=["in_stock"], name="catalog_book_in_stock_idx"),
            models.Index(fields=["is_active"], name="catalog_book_is_active_idx"),
            models.Index(fields=["-popularity", "-id"], name="catalog_book_popularity_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="catalog_book_price_positive"),
            models.CheckConstraint(condition=Q(price__lte=Decimal("99999.99")), name="catalog_book_price_max"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A new book gets its `Stock` row at its opening level (bulk creators write the rows themselves).
        adding = self._state.adding
        if adding:
            self.in_stock = self.stock > 0
        super().save(*args, **kwargs)
        if adding:
            self.stock_record = Stock.objects.create(book=self, quantity=self.stock)
            self.__dict__.pop("_stock", None)

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        # The stock is read again too (from its row, when next asked for): what was set is forgotten.
        self.__dict__.pop("_stock", None)
        if Book.stock_record.related.is_cached(self):
            Book.stock_record.related.delete_cached_value(self)
        super().refresh_from_db(*args, **kwargs)

    @property
    def stock(self) -> int:
        """Copies on hand: the value set on this object (a read's annotation, the ledger's result,
        a new book's opening level), else its `Stock` row (a query unless it was selected)."""
        if "_stock" in self.__dict__:
            return self._stock
        try:
            return self.stock_record.quantity
        except Stock.DoesNotExist:
            return 0

    @stock.setter
    def stock(self, value: int) -> None:
        # In memory only: an existing book's stock changes through catalog.stock.stock_apply; a new
        # book's opening level is its Stock row's, written by `save` (bulk creators write the rows).
        self._stock = value
        if self._state.adding:
            self.in_stock = value > 0


class Stock(models.Model):
    """A book's copies on hand, in a narrow row of its own (the stock record of django-oscar and Saleor).

    A sale rewrites this row only, never the wide, heavily indexed book row: the table has no
    index but its primary key and a fillfactor below 100 (migration 0006), so updates are HOT.
    Written by the ledger only (`catalog.stock.stock_apply` and the functions built on it), which
    also flips `Book.in_stock` when the quantity crosses zero.
    """

    book = models.OneToOneField(Book, primary_key=True, on_delete=models.CASCADE, related_name="stock_record")
    quantity = models.IntegerField(default=0, help_text="Change it through catalog.stock.stock_apply only.")

    class Meta:
        db_table = "catalog_stock"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="catalog_stock_quantity_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.book_id}"


class ReviewQuerySet(models.QuerySet["Review"]):
    def with_verified_purchase(self) -> "ReviewQuerySet":
        """Annotates `verified_purchase`: the reviewer has a shipped or delivered order with the book.

        The catalog must not import orders; the orders app fills this in through the reverse
        relation (`book__order_lines__order__user=OuterRef("user")`).
        """
        # Through Book's reverse relation `order_lines` (orders.OrderLine), without importing orders.
        bought = Book.objects.filter(
            pk=OuterRef("book_id"),
            order_lines__order__user=OuterRef("user_id"),
            order_lines__order__status__in=["shipped", "delivered"],
        )
        return self.annotate(verified_purchase=Exists(bought))

    def with_listing_data(self) -> "ReviewQuerySet":
        return self.select_related("user").with_verified_purchase()

    def published(self) -> "ReviewQuerySet":
        return self.filter(status=Review.Status.PUBLISHED)

    def visible_to(self, user: "User | AnonymousUser | None") -> "ReviewQuerySet":
        """Published reviews, plus the hidden ones for staff and for their own author."""
        if user is not None and user.is_authenticated:
            return self if user.is_staff else self.filter(Q(status=Review.Status.PUBLISHED) | Q(user=user))
        return self.published()

    def awaiting_moderation(self) -> "ReviewQuerySet":
        """Reviews with reports staff have not decided on yet."""
        open_reports = ReviewReport.objects.filter(review=OuterRef("pk"), resolved_at__isnull=True)
        return self.filter(Exists(open_reports))


class Review(models.Model):
    class Status(models.TextChoices):
        PUBLISHED = "published"
        HIDDEN = "hidden"

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="reviews")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True, max_length=10000)
    # Hidden reviews are seen by staff and their author only, and count in no rating (catalog.services).
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    hidden_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["book", "-created_at", "-id"], name="catalog_review_book_new_idx"),
            # A book's rating read from the index alone (index-only scans): the rating facet and
            # sort read it for every matching book.
            models.Index(
                fields=["book", "rating"], condition=Q(status="published"), name="catalog_review_published_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["book", "user"], name="catalog_review_one_per_user_and_book"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="catalog_review_rating_1_to_5"),
        ]

    def __str__(self) -> str:
        stars = "★" * self.rating + "☆" * (5 - self.rating)
        title = f"“{self.title}”" if self.title else "(no title)"
        return f"{stars} {title} on {self.book.title} by {self.user.display_name}"


class ReviewReport(models.Model):
    """A customer's report of a review (once per user and review); staff's decision resolves it."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="reports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "user"], name="catalog_review_report_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"Report on review {self.review_id}: {self.reason[:60]}"


class StockMovement(models.Model):
    """An append-only ledger line: every change of a book's stock, with why and by whom."""

    class Reason(models.TextChoices):
        INITIAL = "initial"
        RESTOCK = "restock"
        ADJUSTMENT = "adjustment"
        IMPORT = "import"
        SALE = "sale"
        CANCELLATION = "cancellation"
        RETURN = "return"  # a refunded line put back on the shelf (payments)

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

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.book_id} ({self.reason})"


class SearchWord(models.Model):
    """A word of the catalog's search vectors (PostgreSQL): where a query word's typos are looked up.

    Filled by `catalog.search_index.book_search_vector_refresh`; a word that no book uses any more
    stays (it can only propose a correction that then matches nothing) until
    `manage.py rebuild_search` prunes it.
    """

    word = models.CharField(max_length=100, primary_key=True)

    class Meta:
        db_table = "catalog_searchword"

    def __str__(self) -> str:
        return self.word


class SearchPosting(models.Model):
    """One word of an active book's search vector (PostgreSQL): the posting table that generates
    and counts a search's candidates in index order (`catalog.search`, `catalog.search_index`).

    A row carries what the ranking and the facets read, so that a one-word search's page, its
    count and its facets are index-only passes over the read index `catalog_searchposting_read`
    (`word, field DESC, title_equal DESC, popularity DESC, rating DESC NULLS LAST, created_at
    DESC, book_id DESC` INCLUDE `category_id, format, language, price`). On PostgreSQL the table
    is created by migration 0009 with `word` in the "C" collation (a prefix is a range of the
    index), that index and one on `book_id`, and no primary key constraint (a vector's words are
    unique); elsewhere it is a plain, unused table. Kept by
    `catalog.search_index.book_postings_refresh`, called by every write path of what a row carries.
    """

    pk = models.CompositePrimaryKey("book", "word")
    book = models.ForeignKey(Book, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+")
    word = models.TextField()
    field = models.SmallIntegerField(help_text="Where the word is: 3 title, 2 authors, 1 subtitle/publisher, 0 rest.")
    title_equal = models.BooleanField(help_text="The book's title is this word alone.")
    popularity = models.PositiveIntegerField()
    rating = models.DecimalField(max_digits=22, decimal_places=20, null=True)  # plain numeric on PostgreSQL
    created_at = models.DateTimeField()
    category_id = models.BigIntegerField(null=True)
    format = models.CharField(max_length=10)
    language = models.CharField(max_length=2)
    price = models.DecimalField(max_digits=7, decimal_places=2)

    class Meta:
        db_table = "catalog_searchposting"

    def __str__(self) -> str:
        return f"{self.word} {self.book_id}"
