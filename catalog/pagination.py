"""The book list's pagination: the contract's envelope, with counts that do not scan.

- A search's page carries its count (`COUNT(*) OVER ()`): the ranking already visits every
  match, so a separate COUNT would only repeat the search.
- A first page shorter than a page is the whole list: its length is the count.
- Any other list's count is kept in the shared cache per filter signature (the filters given,
  not the page, the page size, the ordering or unknown parameters), under the catalog's version
  (`catalog.caching`): exact, and counted again only after a write that can change which books a
  filter selects. Sales bump no version (a stock crossing zero does), so under traffic the count
  of a list is taken once, not on every page of every shopper.
"""

import hashlib
from typing import Any, cast

from django.core.paginator import Page
from django.db.models import Count, QuerySet, Window
from rest_framework.exceptions import NotFound

from bookstore.pagination import KnownCountPaginator, PageNumberPagination, _positive_int
from catalog import caching

TOTAL = "list_total"
MAX_OFFSET = 2**62
# Query parameters that do not change which books a list holds (nor their number).
NOT_SELECTING = {"page", "page_size", "ordering", "facets"}


class CountedPaginator(KnownCountPaginator):
    """A Paginator whose count is given (`known_count`), or else taken from the shared cache under
    `count_key` (counted, then stored, when the cache has none for the current catalog)."""

    def __init__(self, object_list, per_page, *, known_count: int | None = None, count_key: str | None = None):
        super().__init__(object_list, per_page, known_count=known_count)
        self.count_key = count_key

    def count_rows(self) -> int:
        books = cast("QuerySet[Any]", self.object_list)  # the stubs' pagination protocol has no `count`
        if self.count_key is None:
            return books.count()
        return caching.cached_value(self.count_key, books.count)


def count_key(request, filter_names) -> str:
    """The shared cache's name of a list's count: the filters given, whoever may see withdrawn books."""
    params = request.query_params
    signature = [(name, params.getlist(name)) for name in sorted(filter_names) if name in params]
    staff = bool(request.user and request.user.is_staff)
    digest = hashlib.blake2b(repr((staff, signature)).encode(), digest_size=16).hexdigest()
    return f"book-count:{digest}"


class BookPagination(PageNumberPagination):
    """The envelope of a search adds `search_relaxed` (see the view), and `facets` when asked for."""

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        number = _positive_int(request.query_params.get(self.page_query_param, "1"), self.page_query_param)
        start = (number - 1) * page_size
        if start > MAX_OFFSET:  # no list is that long (and PostgreSQL's OFFSET is a bigint)
            raise NotFound("That page is past the end of the list.")
        if "search_relaxed" in queryset.query.annotations:
            rows = list(queryset.annotate(**{TOTAL: Window(Count("pk"))})[start : start + page_size])
            if not rows and number > 1:
                raise NotFound("That page is past the end of the list.")
            paginator = CountedPaginator(queryset, page_size, known_count=getattr(rows[0], TOTAL) if rows else 0)
            self.page = Page(rows, number, paginator)
            return rows
        filter_names = set(view.filterset_class.base_filters) - NOT_SELECTING if view is not None else set()
        return self.page_of(
            queryset, CountedPaginator(queryset, page_size, count_key=count_key(request, filter_names)), number
        )

    def get_paginated_response_schema(self, schema):
        envelope = super().get_paginated_response_schema(schema)
        envelope["properties"]["search_relaxed"] = {
            "type": "boolean",
            "description": "Present when `search` is given: true when no book matched every word and the "
            "results are the books matching the most words.",
        }
        envelope["properties"]["facets"] = FACETS_SCHEMA
        return envelope


_COUNT = {"type": "integer", "minimum": 1}
_VALUE_COUNT = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["value", "count"],
        "properties": {"value": {"type": "string"}, "count": _COUNT},
    },
}
FACETS_SCHEMA = {
    "type": "object",
    "description": "Present when `facets` is given: the counts of the facets asked for, over the books "
    "the search and filters select, each facet ignoring its own filter; only non-zero counts.",
    "properties": {
        "category": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "slug", "count"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "slug": {"type": "string"},
                    "count": {**_COUNT, "description": "Books in the category or its sub-categories."},
                },
            },
        },
        "format": _VALUE_COUNT,
        "language": _VALUE_COUNT,
        "price": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["min", "max", "count"],
                "properties": {
                    "min": {"type": "string", "format": "decimal", "example": "10.00"},
                    "max": {"type": "string", "format": "decimal", "nullable": True, "example": "20.00"},
                    "count": _COUNT,
                },
            },
        },
        "rating": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["min", "count"],
                "properties": {
                    "min": {"type": "integer", "minimum": 1, "maximum": 4},
                    "count": {**_COUNT, "description": "Books rated at least `min`."},
                },
            },
        },
    },
}
