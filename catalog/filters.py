"""Query filters of the catalog lists; a malformed value or an unknown ordering is a 400."""

import re

import django_filters
from django import forms
from django.db import connections
from django.db.models import F, Q
from django.db.models.functions import Lower
from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework.exceptions import ValidationError

from bookstore.filters import IdFilter
from catalog.categories import category_subtree_ids
from catalog.models import Author, Book, Category
from catalog.search import FACETS, SearchPlan, book_facets, facets_sql

MAX_SEARCH_LENGTH = 200
_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
# The filters each facet ignores (its own).
FACET_FILTERS = {
    "category": ["category"],
    "format": ["format"],
    "language": ["language"],
    "price": ["min_price", "max_price"],
    "rating": ["min_rating"],
}


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
    # django-filter takes any form field here; the stubs narrow it to BooleanFilter's own.
    field_class = StrictBooleanField  # type: ignore[assignment]


class BookOrderingFilter(django_filters.OrderingFilter):
    """`ordering` with ties broken by id, and books without ratings last in either direction."""

    def schema_parameter(self, name: str) -> OpenApiParameter:
        """The parameter as the schema shows it: one comma-separated string (`-price,title`), not an
        array, which generated clients would send as a repeated parameter (a 400)."""
        item = "-?(" + "|".join(re.escape(field) for field in self.param_map or {}) + ")"
        return OpenApiParameter(
            name,
            {"type": "string", "pattern": f"^{item}(,{item})*$"},
            description=self.label or "",
            examples=[OpenApiExample("Cheapest first, then by title", value="price,title")],
        )

    def get_ordering_value(self, param):
        descending = param.startswith("-")
        name = (self.param_map or {})[param[1:] if descending else param]
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
        label="Words of the title, author names, subtitle, publisher or description, or an ISBN: "
        "accents and case ignored, one typo in a word of 5-8 letters and two from 9, the last word "
        "also as a prefix. Ranked by relevance when no ordering is given.",
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
        fields=["price", "title", "created_at", "published_date", "average_rating", "popularity"],
        label="A comma-separated list of price, title, created_at, published_date, average_rating, "
        "popularity (copies sold in the last 90 days), each optionally with '-' for descending "
        "(`-price,title`). Default: newest first (or relevance when searching).",
    )
    facets = django_filters.CharFilter(
        method="filter_facets",
        max_length=100,
        label="Comma-separated facets to count in the same response: " + ", ".join(FACETS) + ".",
    )

    class Meta:
        model = Book
        fields: list[str] = []

    def _caller_is_staff(self) -> bool:
        return bool(self.request is not None and self.request.user and self.request.user.is_staff)

    def filter_queryset(self, queryset):
        # Others only ever get available books (the view scopes them); staff get them by default.
        if self.form.cleaned_data.get("is_active") is None and self._caller_is_staff():
            queryset = queryset.filter(is_active=True)
        # The search comes last: whether no book matches every word is decided among the books
        # that all the other filters select. Ranking only when the caller asked for no order.
        queryset = self._apply(queryset, exclude={"search"})
        return self.search_queryset(
            queryset, ranked=not self.form.cleaned_data.get("ordering"), postings=self._postings_serve(own=())
        )

    def _apply(self, queryset, *, exclude=(), only=None):
        for name, value in self.form.cleaned_data.items():
            if name in exclude or (only is not None and name not in only):
                continue
            queryset = self.filters[name].filter(queryset, value)
        return queryset

    @property
    def search_text(self) -> str:
        return (self.form.cleaned_data.get("search") or "").strip()

    def search_queryset(self, queryset, *, ranked: bool, relax_within=None, postings: bool = False):
        if not self.search_text:
            return queryset
        return queryset.search(
            self.search_text,
            ranked=ranked,
            relax_within=relax_within,
            plan=self._search_plan(queryset.db),
            postings=postings,
        )

    def _postings_serve(self, *, own) -> bool:
        """Whether the search postings may answer (`catalog.search.PostingSearch`): the public
        catalog, with no filter but the search, `ordering`, `facets` and the filters in `own`."""
        if self._caller_is_staff():
            return False
        free = {"search", "ordering", "facets", *own}
        return not any(
            value not in (None, "", []) for name, value in self.form.cleaned_data.items() if name not in free
        )

    def _search_plan(self, using: str) -> SearchPlan | None:
        """The text's typo corrections, looked up once per request (the list, then its facets)."""
        if connections[using].vendor != "postgresql":
            return None
        plans = getattr(self.request, "_search_plans", None)
        if plans is None:
            plans = {}
            if self.request is not None:
                self.request._search_plans = plans  # type: ignore[attr-defined]  # a memo for this request
        key = (using, self.search_text)
        if key not in plans:
            plans[key] = SearchPlan.build(self.search_text, using=using)
        return plans[key]

    def filter_search(self, queryset, name, value):
        return queryset  # applied last, by filter_queryset

    def filter_facets(self, queryset, name, value):
        self.clean_facets()  # an unknown facet is a 400; the counts are the view's (facet_counts)
        return queryset

    def clean_facets(self) -> list[str]:
        raw = self.form.cleaned_data.get("facets") or ""
        names = [part.strip() for part in raw.split(",") if part.strip()]
        unknown = [name for name in names if name not in FACETS]
        if unknown:
            raise ValidationError(
                {"facets": [f"Unknown facet {unknown[0]!r}; choose from {', '.join(FACETS)}."]}, code="invalid"
            )
        return list(dict.fromkeys(names))

    def facets_requested(self) -> list[str]:
        """The facet names asked for (validated: an unknown one is a 400)."""
        return self.clean_facets()

    def facet_counts(self, queryset, names: list[str]) -> dict:
        """The facets of this request: over the books its search and filters select, each facet
        ignoring its own filter (one query)."""
        return book_facets(self.facet_base(queryset), self._facet_conditions(), names)

    def facet_base(self, queryset):
        """The books of the search and the filters that no facet owns."""
        own = {name for filters in FACET_FILTERS.values() for name in filters}
        common = self._apply(queryset, exclude={"search", "ordering", *own})
        everything = self._apply(common, only=own)
        return self.search_queryset(
            common, ranked=False, relax_within=everything, postings=self._postings_serve(own=own)
        )

    def facet_sql(self, queryset, names: list[str]) -> tuple[str, list]:
        """The facets' SQL (for EXPLAIN in the bench)."""
        return facets_sql(self.facet_base(queryset), self._facet_conditions(), names)

    def _facet_conditions(self) -> dict:
        data = self.form.cleaned_data
        conditions: dict = dict.fromkeys(FACETS)
        if data.get("category"):
            value = data["category"].strip()  # validated by filter_category
            conditions["category"] = Q(
                category_id__in=category_subtree_ids(int(value) if value.isdigit() else value, self.request)
            )
        if data.get("format"):
            conditions["format"] = Q(format=data["format"])
        if data.get("language"):
            conditions["language"] = Q(language=data["language"])
        price = Q()
        if data.get("min_price") is not None:
            price &= Q(price__gte=data["min_price"])
        if data.get("max_price") is not None:
            price &= Q(price__lte=data["max_price"])
        conditions["price"] = price or None
        if data.get("min_rating") is not None:
            conditions["rating"] = Q(average_rating__gte=data["min_rating"])
        return conditions

    def filter_category(self, queryset, name, value):
        value = value.strip()
        if not _SLUG.match(value):
            raise ValidationError({"category": ["Enter a category id or slug."]}, code="invalid")
        id_or_slug = int(value) if value.isdigit() else value
        # In order: the statement's parameters do not depend on a set's iteration (catalog.reads binds them so).
        return queryset.filter(category_id__in=sorted(category_subtree_ids(id_or_slug, self.request)))

    def filter_in_stock(self, queryset, name, value):
        return queryset.filter(in_stock=value)

    def filter_is_active(self, queryset, name, value):
        if value is None or not self._caller_is_staff():
            return queryset
        return queryset.filter(is_active=value)


class AuthorFilter(django_filters.FilterSet):
    unnamed_filters_nothing = True  # bookstore.filters.FilterBackend

    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=MAX_SEARCH_LENGTH)

    class Meta:
        model = Author
        fields: list[str] = []


class CategoryFilter(django_filters.FilterSet):
    unnamed_filters_nothing = True  # bookstore.filters.FilterBackend

    parent = IdFilter(field_name="parent_id", label="Only the children of this category.")

    class Meta:
        model = Category
        fields: list[str] = []
