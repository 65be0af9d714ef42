"""Query filters of the catalog lists; a malformed value or an unknown ordering is a 400."""

import re

import django_filters
from django import forms
from django.db.models import F
from django.db.models.functions import Lower
from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework.exceptions import ValidationError

from bookstore.filters import IdFilter
from catalog.models import Author, Book, Category

MAX_SEARCH_LENGTH = 200
_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


class StrictBooleanField(forms.Field):
    """true/false (also 1/0, yes/no); anything else is an error, never silently ignored."""

    values = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self.values[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError("Enter true or false.", code="invalid") from None


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class BookOrderingFilter(django_filters.OrderingFilter):
    """`ordering` with ties broken by id, and books without ratings last in either direction."""

    def schema_parameter(self, name: str) -> OpenApiParameter:
        """The parameter as the schema shows it: one comma-separated string (`-price,title`), not an
        array, which generated clients would send as a repeated parameter (a 400)."""
        item = "-?(" + "|".join(re.escape(field) for field in self.param_map) + ")"
        return OpenApiParameter(
            name,
            {"type": "string", "pattern": f"^{item}(,{item})*$"},
            description=self.label,
            examples=[OpenApiExample("Cheapest first, then by title", value="price,title")],
        )

    def get_ordering_value(self, param):
        descending = param.startswith("-")
        name = self.param_map[param[1:] if descending else param]
        expression = Lower("title") if name == "title" else F(name)
        nulls = {"nulls_last": True} if name in {"average_rating", "published_date"} else {}
        return expression.desc(**nulls) if descending else expression.asc(**nulls)

    def filter(self, qs, value):
        if value in ([], (), {}, "", None):
            return qs
        if any(not param or param == "-" for param in value):  # "price,", ",": an empty item is no ordering
            message = "Give a comma-separated list of orderings, none empty."
            raise ValidationError({"ordering": [message]}, code="invalid")
        ordering = [self.get_ordering_value(param) for param in value]
        tiebreak = F("id").desc() if value[0].startswith("-") else F("id").asc()
        return qs.order_by(*ordering, tiebreak)


class BookFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=MAX_SEARCH_LENGTH,
        label="Words of the title, subtitle or author names, or an ISBN. "
        "Ranked by relevance when no ordering is given.",
    )
    category = django_filters.CharFilter(
        method="filter_category", label="Category id or slug; books of its sub-categories are included."
    )
    author = IdFilter(field_name="authors", label="Author id.")
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte", min_value=0)
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte", min_value=0)
    in_stock = StrictBooleanFilter(method="filter_in_stock", label="true: stock above zero; false: sold out.")
    language = django_filters.ChoiceFilter(choices=Book.Language.choices)
    format = django_filters.ChoiceFilter(choices=Book.Format.choices)
    min_rating = django_filters.NumberFilter(
        field_name="average_rating", lookup_expr="gte", min_value=1, max_value=5, label="Minimum average rating (1-5)."
    )
    is_active = StrictBooleanFilter(
        method="filter_is_active",
        label="Staff only: false lists withdrawn books (default true). Ignored for other callers.",
    )
    ordering = BookOrderingFilter(
        fields=["price", "title", "created_at", "published_date", "average_rating"],
        label="A comma-separated list of price, title, created_at, published_date, average_rating, "
        "each optionally with '-' for descending (`-price,title`). "
        "Default: newest first (or relevance when searching).",
    )

    class Meta:
        model = Book
        fields = []

    def _caller_is_staff(self) -> bool:
        return bool(self.request is not None and self.request.user and self.request.user.is_staff)

    def filter_queryset(self, queryset):
        # Others only ever get available books (the view scopes them); staff get them by default.
        if self.form.cleaned_data.get("is_active") is None and self._caller_is_staff():
            queryset = queryset.filter(is_active=True)
        # Ranking is only wanted when the caller did not ask for an order.
        self._ranked = not self.form.cleaned_data.get("ordering")
        return super().filter_queryset(queryset)

    def filter_search(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.search(value, ranked=getattr(self, "_ranked", True))

    def filter_category(self, queryset, name, value):
        value = value.strip()
        if not _SLUG.match(value):
            raise ValidationError({"category": ["Enter a category id or slug."]}, code="invalid")
        id_or_slug = int(value) if value.isdigit() else value
        return queryset.filter(category_id__in=Category.objects.subtree_ids(id_or_slug))

    def filter_in_stock(self, queryset, name, value):
        return queryset.filter(stock__gt=0) if value else queryset.filter(stock=0)

    def filter_is_active(self, queryset, name, value):
        if value is None or not self._caller_is_staff():
            return queryset
        return queryset.filter(is_active=value)


class AuthorFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=MAX_SEARCH_LENGTH)

    class Meta:
        model = Author
        fields = []


class CategoryFilter(django_filters.FilterSet):
    parent = IdFilter(field_name="parent_id", label="Only the children of this category.")

    class Meta:
        model = Category
        fields = []
