"""The catalog back office. Stock and search vectors change through the same services as the API."""

from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.checks import ModelAdminChecks
from django.core.files.storage import default_storage
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.forms import ActionForm

from bookstore.admin_mixins import ReadOnlyAdminMixin, ReadOnlyTabularInline
from catalog import services
from catalog.covers import check_cover_image, cover_keep, cover_kept, cover_kept_drop, cover_reencoded
from catalog.exceptions import InUseError, StockChangedError
from catalog.isbn import InvalidISBNError, looks_like_isbn, normalize_isbn
from catalog.models import Author, Book, Category, Review, ReviewReport, StockMovement

if TYPE_CHECKING:
    _BookForm = forms.ModelForm[Book]  # what the mixin is mixed into
else:
    _BookForm = object


class SeenStockMixin(forms.ModelForm):
    """The stock level the staff member saw travels with the form (a hidden initial value).

    So a book whose stock they did not touch keeps what sales made of it meanwhile, and a
    stock edit made over a level that has since changed is refused instead of undoing those sales.
    The stock is not a column of the book (it is its `Stock` row): the field is declared here,
    and `BookAdmin.save_model` hands it to the ledger.
    """

    stock = forms.IntegerField(min_value=0, max_value=Book.MAX_STOCK, initial=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("stock", self.instance.stock)
        self.fields["stock"].show_hidden_initial = True

    seen_stock: int | None = None

    def clean_stock(self):
        # The rule itself is the service's (`expected_stock`, checked under the row lock); this
        # early check only keeps the staff member's edits on the form when it already fails here.
        stock = self.cleaned_data["stock"]
        if self.instance.pk and "stock" in self.changed_data:
            seen = self.fields["stock"].to_python(self.data.get(self.add_initial_prefix("stock")))
            self.seen_stock = seen
            if seen is not None and seen != self.instance.stock:
                raise forms.ValidationError(
                    f"The stock changed from {seen} to {self.instance.stock} while you were editing "
                    "(a sale or another edit). Check it and save again.",
                    code="stale_stock",
                )
        return stock


class BookStockListForm(SeenStockMixin):
    """The changelist's row form (price and stock are list_editable)."""


class BookAdminForm(SeenStockMixin):
    isbn = forms.CharField(max_length=20, label="ISBN", help_text="ISBN-13 or ISBN-10; stored as ISBN-13.")

    class Meta:
        model = Book
        fields = [
            "isbn", "title", "subtitle", "slug", "authors", "category", "publisher", "published_date", "language",
            "page_count", "format", "description", "price", "is_active", "cover",
        ]  # fmt: skip

    # A cover chosen on a try that failed elsewhere (a wrong ISBN...) is kept for the next one: the
    # browser sends no file again, so the form carries a token for it (`catalog.covers.cover_keep`).
    kept_cover = forms.CharField(required=False, widget=forms.HiddenInput)

    cover_format: str | None = None
    kept_cover_name = ""
    user_id: int | None = None  # the staff member's, set by `BookAdmin.get_form`: a kept cover is theirs

    def clean_cover(self):
        cover = self.cleaned_data.get("cover")
        if cover and hasattr(cover, "content_type"):  # a new upload, not the stored file
            try:
                image_format = check_cover_image(cover)
                cover = cover_reencoded(cover, image_format)  # stored as the API stores it
            except ValueError as error:
                raise forms.ValidationError(str(error), code="invalid_image") from None
            cover.name = f"cover.{services.COVER_EXTENSIONS[image_format]}"
            self.cover_format = image_format
        elif cover is not False:  # no new file and "clear" not ticked: the one kept from the last try, if any
            kept = cover_kept(self.data.get(self.add_prefix("kept_cover"), ""), user_id=self.user_id)
            if kept is not None:
                cover, self.cover_format, self.kept_cover_name = kept
                cover.name = f"cover.{services.COVER_EXTENSIONS[self.cover_format]}"
        return cover

    def full_clean(self):
        super().full_clean()
        if self.is_bound and self.errors and self.cover_format:
            self._keep_cover()

    def _keep_cover(self) -> None:
        """The form comes back with errors: keep its good cover for the next try, and show it."""
        if not self.kept_cover_name:
            token, self.kept_cover_name = cover_keep(
                self.cleaned_data["cover"], self.cover_format or "", user_id=self.user_id
            )
            data = self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)  # a request's is immutable
            data[self.add_prefix("kept_cover")] = token
            self.data = data
        # on the field's BoundField, made while cleaning with the help text the field had then
        self["cover"].help_text = format_html(
            'Kept from your last try; choose another file to replace it.<br><img id="kept-cover-preview" '
            'src="{}" alt="The cover you chose" style="max-height:160px;width:auto;margin-top:.5rem">',
            default_storage.url(self.kept_cover_name),
        )

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
            return queryset.filter(in_stock=False)
        if self.value() == "low":
            return queryset.filter(in_stock=True, stock_record__quantity__lte=Book.LOW_STOCK)
        if self.value() == "ok":
            return queryset.filter(stock_record__quantity__gt=Book.LOW_STOCK)
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


class BookAdminChecks(ModelAdminChecks):
    """`stock` is list_editable although it is no column of the book: the changelist's form
    (`BookStockListForm`) declares it, and Django's check asks for a model field."""

    def _check_list_editable_item(self, obj, field_name, label):
        return [] if field_name == "stock" else super()._check_list_editable_item(obj, field_name, label)  # type: ignore[misc]  # a private check the stubs leave out


@admin.register(Book)
class BookAdmin(ModelAdmin):
    checks_class = BookAdminChecks
    form = BookAdminForm
    list_display = ["cover_thumbnail", "title", "isbn", "author_names", "category", "price", "stock", "is_active"]
    list_display_links = ["cover_thumbnail", "title"]
    list_editable = ["price", "stock"]
    list_filter = ["is_active", LowStockFilter, "format", "language", ("category", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["category", "stock_record"]
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
        ("Cover", {"fields": ["cover", "kept_cover", "cover_preview"]}),
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

    def get_search_results(self, request, queryset, search_term):
        # An ISBN as staff type it (hyphens, spaces, ISBN-10) finds the book, as the API's search does.
        isbn = looks_like_isbn(search_term.strip())
        if isbn:
            return queryset.filter(isbn=isbn), False
        return super().get_search_results(request, queryset, search_term)

    def get_actions(self, request):
        # A sold or stocked book stays on record (orders and the stock ledger refer to it): it is
        # withdrawn, not deleted. Books without history are deleted from their own page.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        book = self.get_object(request, object_id)
        if book is not None and services.book_has_history(book=book):
            self.message_user(
                request,
                f"“{book.title}” has orders or stock history, so it stays on record and was not deleted. "
                "Withdraw it instead (untick “Is active” or use the “Withdraw” action): it leaves the "
                "catalog and every cart, and its orders keep it.",
                messages.WARNING,
            )
            return HttpResponseRedirect(reverse("admin:catalog_book_change", args=[book.pk]))
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        services.book_delete(book=obj)

    def delete_queryset(self, request, queryset):
        _delete_each(self, request, queryset, services.book_delete, "book", "have orders or stock history")

    # Written through the catalog's services, as the API writes (one path per entity): fields and
    # authors by `book_create`/`book_update`, the stock through the ledger with the level the staff
    # member saw (`expected_stock`), a withdrawal by `book_withdraw` (the book leaves every cart).
    SERVICE_MANAGED = {"authors", "stock", "is_active", "cover", "kept_cover"}

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            fields = {
                name: data[name] for name in form._meta.fields if name in data and name not in self.SERVICE_MANAGED
            }
            book = services.book_create(
                actor=request.user,
                authors=data.get("authors", ()),
                stock=data.get("stock") or 0,
                stock_note="admin",
                is_active=data.get("is_active", True),
                **fields,
            )
            _adopt(obj, book)
        else:
            changed = set(form.changed_data)
            fields = {name: data[name] for name in changed - self.SERVICE_MANAGED if name in data}
            if "cover" in changed and not data["cover"]:
                fields["cover"] = None  # "clear" ticked
            stock_kwargs = {}
            if "stock" in changed:
                stock_kwargs = {"stock": data["stock"], "expected_stock": form.seen_stock, "stock_note": "admin"}
            services.book_update(
                book=obj,
                actor=request.user,
                authors=data["authors"] if "authors" in changed else None,
                **stock_kwargs,
                **fields,
            )
            if "is_active" in changed:
                if data["is_active"]:
                    services.books_restore(books=Book.objects.filter(pk=obj.pk))
                else:
                    services.book_withdraw(book=obj)
        if getattr(form, "cover_format", None):
            services.book_set_cover(book=obj, image=data["cover"], image_format=form.cover_format)
            if form.kept_cover_name:  # stored as the book's cover now: the copy kept for the form goes
                cover_kept_drop(form.kept_cover_name)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user_id = request.user.pk  # a class of its own per call (modelform_factory)
        return form

    def save_related(self, request, form, formsets, change):
        # The authors were set by the service (no `form.save_m2m()`); the inlines are read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except StockChangedError as error:  # a sale came in after the form's own check; nothing was saved
            self.message_user(request, error.detail, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except StockChangedError as error:
            self.message_user(request, error.detail, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    @admin.action(description="Withdraw selected books from the catalog")
    def withdraw_books(self, request, queryset):
        count = services.books_withdraw(books=queryset)
        self.message_user(request, f"{count} book(s) withdrawn.", messages.SUCCESS)

    @admin.action(description="Restore selected books to the catalog")
    def restore_books(self, request, queryset):
        count = services.books_restore(books=queryset)
        self.message_user(request, f"{count} book(s) restored.", messages.SUCCESS)


@admin.register(Author)
class AuthorAdmin(ModelAdmin):
    list_display = ["name", "book_count", "updated_at"]
    search_fields = ["name"]
    ordering = ["name", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(book_count=Count("books", distinct=True))

    @admin.display(description="Books", ordering="book_count")
    def book_count(self, author):
        return author.book_count

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            services.author_update(author=obj, **fields)
        else:
            _adopt(obj, services.author_create(**fields))

    def has_delete_permission(self, request, obj=None):
        # An author with books (even withdrawn ones) stays, as in the API (409 there).
        if obj is not None and obj.books.exists():
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.author_delete(author=obj)

    def delete_queryset(self, request, queryset):
        _delete_each(self, request, queryset, services.author_delete, "author", "still have books")


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
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

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            fields = {name: data[name] for name in form.changed_data if name != "parent"}
            if "parent" in form.changed_data:
                fields["parent_id"] = data["parent"].pk if data["parent"] else None
            services.category_update(category=obj, **fields)
        else:
            category = services.category_create(
                name=data["name"],
                slug=data.get("slug", ""),
                parent_id=data["parent"].pk if data.get("parent") else None,
                description=data.get("description", ""),
            )
            _adopt(obj, category)

    def has_delete_permission(self, request, obj=None):
        # A category with books or sub-categories stays, as in the API (409 there).
        if obj is not None and (obj.books.exists() or obj.children.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.category_delete(category=obj)

    def delete_queryset(self, request, queryset):
        _delete_each(
            self, request, queryset, services.category_delete, "category", "still have books or sub-categories"
        )


def _adopt(obj, created) -> None:
    """The admin goes on with the form's instance (log entry, redirect): make it the row the service created."""
    obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db


def _delete_each(model_admin, request, queryset, delete, what: str, why: str) -> None:
    """Deletes through the service one by one; the ones it protects stay, and the staff member is told."""
    kept = 0
    for obj in queryset:
        try:
            delete(**{what: obj})
        except InUseError:
            kept += 1
    if kept:
        model_admin.message_user(request, f"{kept} {what}(s) {why} and were kept.", messages.WARNING)


class RatingFilter(admin.SimpleListFilter):
    """One rating filter: exact stars or a band (the field's own filter was a second "By rating")."""

    title = "rating"
    parameter_name = "rating_band"
    BANDS = {"low": (1, 2), "mid": (3, 3), "high": (4, 5), **{str(n): (n, n) for n in range(1, 6)}}

    def lookups(self, request, model_admin):
        return [
            ("low", "1-2 stars"),
            ("mid", "3 stars"),
            ("high", "4-5 stars"),
            *((str(n), "★" * n + "☆" * (5 - n)) for n in range(5, 0, -1)),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value in self.BANDS:
            low, high = self.BANDS[value]
            return queryset.filter(rating__gte=low, rating__lte=high)
        return queryset


class ModerationFilter(admin.SimpleListFilter):
    """The moderation queue: reviews customers reported that staff have not decided on."""

    title = "moderation"
    parameter_name = "moderation"

    def lookups(self, request, model_admin):
        return [("reported", "Reported, waiting for a decision"), ("hidden", "Hidden"), ("published", "Published")]

    def queryset(self, request, queryset):
        if self.value() == "reported":
            return queryset.filter(pk__in=Review.objects.awaiting_moderation().values("pk"))
        if self.value() in {"hidden", "published"}:
            return queryset.filter(status=self.value())
        return queryset


class ReviewActionForm(ActionForm):  # unfold's: Django's own renders without a Run button in unfold's action bar
    reason = forms.CharField(required=False, max_length=300, label="Reason (to hide)")


class ReviewReportInline(ReadOnlyTabularInline):
    model = ReviewReport
    fields = ["created_at", "user", "reason", "resolved_at"]
    readonly_fields = fields
    show_change_link = False


@admin.register(Review)
class ReviewAdmin(ModelAdmin):
    list_display = ["__str__", "status", "open_reports", "hidden_reason", "created_at"]
    list_filter = [ModerationFilter, RatingFilter, "created_at"]
    list_select_related = ["book", "user"]
    search_fields = ["title", "body", "book__title", "user__email"]
    autocomplete_fields = ["book", "user"]
    readonly_fields = ["status", "hidden_reason"]
    actions = ["hide_reviews", "restore_reviews", "remove_abusive"]
    action_form = ReviewActionForm
    inlines = [ReviewReportInline]

    def get_queryset(self, request):
        open_reports = Count("reports", filter=Q(reports__resolved_at__isnull=True))
        return (
            super()
            .get_queryset(request)
            .defer("book__search_vector", "book__description")
            .annotate(open_report_count=open_reports)
        )

    @admin.display(description="Open reports", ordering="open_report_count")
    def open_reports(self, review):
        return review.open_report_count

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.review_update(review=obj, **{name: data[name] for name in form.changed_data})
        else:
            review = services.review_create(
                book=data["book"], user=data["user"], rating=data["rating"], title=data["title"], body=data["body"]
            )
            _adopt(obj, review)

    def delete_model(self, request, obj):
        services.review_delete(review=obj)

    def delete_queryset(self, request, queryset):
        services.reviews_remove(reviews=queryset)

    @admin.action(description="Hide selected reviews (give a reason)")
    def hide_reviews(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "Give a reason to hide reviews (the box beside the action).", messages.ERROR)
            return
        count = services.reviews_hide(reviews=queryset, reason=reason)
        self.message_user(request, f"{count} review(s) hidden.", messages.SUCCESS)

    @admin.action(description="Publish selected reviews again")
    def restore_reviews(self, request, queryset):
        count = services.reviews_restore(reviews=queryset)
        self.message_user(request, f"{count} review(s) published.", messages.SUCCESS)

    @admin.action(description="Remove selected reviews as abusive")
    def remove_abusive(self, request, queryset):
        count = services.reviews_remove(reviews=queryset)
        self.message_user(request, f"{count} review(s) removed.", messages.SUCCESS)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """The whole stock ledger, read-only."""

    list_display = ["created_at", "book", "delta", "stock_after", "reason", "actor", "order_reference"]
    list_filter = ["reason", "created_at"]
    list_select_related = ["book", "actor"]
    search_fields = ["book__title", "book__isbn", "order_reference"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("book__search_vector", "book__description")
