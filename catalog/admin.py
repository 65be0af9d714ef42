"""The catalog back office. Stock and search vectors change through the same services as the API."""

from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Prefetch
from django.utils.html import format_html

from bookstore.admin_mixins import ReadOnlyAdminMixin, ReadOnlyTabularInline
from catalog import search_index, services, stock
from catalog.covers import check_cover_image, cover_reencoded
from catalog.isbn import InvalidISBNError, normalize_isbn
from catalog.models import Author, Book, Category, Review, StockMovement

if TYPE_CHECKING:
    _BookForm = forms.ModelForm[Book]  # what the mixin is mixed into
else:
    _BookForm = object


class SeenStockMixin(_BookForm):
    """The stock level the staff member saw travels with the form (a hidden initial value).

    So a book whose stock they did not touch keeps what sales made of it meanwhile, and a
    stock edit made over a level that has since changed is refused instead of undoing those sales.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stock"].show_hidden_initial = True

    def clean_stock(self):
        stock = self.cleaned_data["stock"]
        if self.instance.pk and "stock" in self.changed_data:
            seen = self.fields["stock"].to_python(self.data.get(self.add_initial_prefix("stock")))
            if seen is not None and seen != self.instance.stock:
                raise forms.ValidationError(
                    f"The stock changed from {seen} to {self.instance.stock} while you were editing "
                    "(a sale or another edit). Check it and save again.",
                    code="stale_stock",
                )
        return stock


class BookStockListForm(SeenStockMixin, forms.ModelForm):
    """The changelist's row form (price and stock are list_editable)."""


class BookAdminForm(SeenStockMixin, forms.ModelForm):
    isbn = forms.CharField(max_length=20, label="ISBN", help_text="ISBN-13 or ISBN-10; stored as ISBN-13.")

    class Meta:
        model = Book
        fields = [
            "isbn", "title", "subtitle", "slug", "authors", "category", "publisher", "published_date", "language",
            "page_count", "format", "description", "price", "stock", "is_active", "cover",
        ]  # fmt: skip

    def clean_cover(self):
        cover = self.cleaned_data.get("cover")
        if cover and hasattr(cover, "content_type"):  # a new upload, not the stored file
            try:
                image_format = check_cover_image(cover)
                cover = cover_reencoded(cover, image_format)  # stored as the API stores it
            except ValueError as error:
                raise forms.ValidationError(str(error), code="invalid_image") from None
            cover.name = f"cover.{services.COVER_EXTENSIONS[image_format]}"
        return cover

    def clean_isbn(self):
        try:
            return normalize_isbn(self.cleaned_data["isbn"])
        except InvalidISBNError as error:
            raise forms.ValidationError(str(error), code="invalid") from None


class LowStockFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "stock_level"

    def lookups(self, request, model_admin):
        return [("out", "Out of stock"), ("low", f"Low (1-{Book.LOW_STOCK})"), ("ok", "In stock")]

    def queryset(self, request, queryset):
        if self.value() == "out":
            return queryset.filter(stock=0)
        if self.value() == "low":
            return queryset.filter(stock__gt=0, stock__lte=Book.LOW_STOCK)
        if self.value() == "ok":
            return queryset.filter(stock__gt=Book.LOW_STOCK)
        return queryset


class StockMovementInline(ReadOnlyTabularInline):
    """The book's stock ledger, newest first: read-only, append-only."""

    model = StockMovement
    max_num = 0
    ordering = ["-created_at", "-id"]
    fields = ("created_at", "delta", "stock_after", "reason", "actor", "order_reference", "note")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    form = BookAdminForm
    list_display = ["cover_thumbnail", "title", "isbn", "author_names", "category", "price", "stock", "is_active"]
    list_display_links = ["cover_thumbnail", "title"]
    list_editable = ["price", "stock"]
    list_filter = ["is_active", LowStockFilter, "format", "language", ("category", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["category"]
    list_per_page = 50
    search_fields = ["title", "isbn", "authors__name"]
    autocomplete_fields = ["authors", "category"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["cover_preview", "created_at", "updated_at"]
    actions = ["withdraw_books", "restore_books"]
    inlines = [StockMovementInline]
    fieldsets = [
        (None, {"fields": ["isbn", "title", "subtitle", "slug", "authors", "category"]}),
        ("Publication", {"fields": ["publisher", "published_date", "language", "page_count", "format", "description"]}),
        ("Sales", {"fields": ["price", "stock", "is_active"]}),
        ("Cover", {"fields": ["cover", "cover_preview"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .defer("search_vector")
            .prefetch_related(Prefetch("authors", queryset=Author.objects.only("id", "name")))
        )

    @admin.display(description="Cover")
    def cover_thumbnail(self, book):
        if not book.cover:
            return "—"
        return format_html('<img src="{}" alt="" style="height:48px;width:auto">', book.cover.url)

    @admin.display(description="Cover preview")
    def cover_preview(self, book):
        if not book.cover:
            return "—"
        return format_html('<img src="{}" alt="" style="max-height:240px;width:auto">', book.cover.url)

    @admin.display(description="Authors")
    def author_names(self, book):
        return ", ".join(author.name for author in book.authors.all())

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, form=BookStockListForm, **kwargs)

    def save_model(self, request, obj, form, change):
        # Stock changes go through the ledger: save everything else, then record the difference.
        # A form whose stock field the staff member left alone keeps the current level.
        # A withdrawal (active unticked) goes through the service too: the book leaves every cart.
        wanted_stock = obj.stock
        withdraw = change and "is_active" in form.changed_data and not obj.is_active
        if change:
            obj.stock = Book.objects.only("stock").get(pk=obj.pk).stock
        else:
            obj.stock = 0
        if withdraw:
            obj.is_active = True
        super().save_model(request, obj, form, change)
        if withdraw:
            services.book_withdraw(book=obj)
        if "stock" in form.changed_data and wanted_stock != obj.stock:
            stock.stock_set(
                book=obj,
                stock=wanted_stock,
                actor=request.user,
                reason=StockMovement.Reason.ADJUSTMENT if change else StockMovement.Reason.INITIAL,
                note="admin",
            )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        search_index.book_search_vector_refresh(book_ids=[form.instance.pk])

    @admin.action(description="Withdraw selected books from the catalog")
    def withdraw_books(self, request, queryset):
        count = services.books_withdraw(books=queryset)
        self.message_user(request, f"{count} book(s) withdrawn.", messages.SUCCESS)

    @admin.action(description="Restore selected books to the catalog")
    def restore_books(self, request, queryset):
        count = services.books_restore(books=queryset)
        self.message_user(request, f"{count} book(s) restored.", messages.SUCCESS)


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "book_count", "updated_at"]
    search_fields = ["name"]
    ordering = ["name", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(book_count=Count("books", distinct=True))

    @admin.display(description="Books", ordering="book_count")
    def book_count(self, author):
        return author.book_count

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "name" in form.changed_data:
            search_index.author_books_search_refresh(author_ids=[obj.pk])

    def has_delete_permission(self, request, obj=None):
        # An author with books (even withdrawn ones) stays, as in the API (409 there).
        if obj is not None and obj.books.exists():
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        kept = queryset.filter(books__isnull=False).distinct().count()
        queryset.filter(books__isnull=True).delete()
        if kept:
            self.message_user(request, f"{kept} author(s) still have books and were kept.", messages.WARNING)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "book_count"]
    ordering = ["name", "id"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(book_count=Count("books", distinct=True))

    @admin.display(description="Books", ordering="book_count")
    def book_count(self, category):
        return category.book_count


class RatingFilter(admin.SimpleListFilter):
    title = "rating"
    parameter_name = "rating_band"

    def lookups(self, request, model_admin):
        return [("low", "1-2 stars"), ("mid", "3 stars"), ("high", "4-5 stars")]

    def queryset(self, request, queryset):
        bands = {"low": (1, 2), "mid": (3, 3), "high": (4, 5)}
        value = self.value()
        if value in bands:
            low, high = bands[value]
            return queryset.filter(rating__gte=low, rating__lte=high)
        return queryset


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["book", "user", "rating", "title", "created_at"]
    list_filter = ["rating", RatingFilter, "created_at"]
    list_select_related = ["book", "user"]
    search_fields = ["title", "body", "book__title", "user__email"]
    autocomplete_fields = ["book", "user"]
    actions = ["remove_abusive"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("book__search_vector", "book__description")

    @admin.action(description="Remove selected reviews as abusive")
    def remove_abusive(self, request, queryset):
        count = services.reviews_remove(reviews=queryset)
        self.message_user(request, f"{count} review(s) removed.", messages.SUCCESS)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The whole stock ledger, read-only."""

    list_display = ["created_at", "book", "delta", "stock_after", "reason", "actor", "order_reference"]
    list_filter = ["reason", "created_at"]
    list_select_related = ["book", "actor"]
    search_fields = ["book__title", "book__isbn", "order_reference"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("book__search_vector", "book__description")
