"""The book list's pagination: the contract's envelope, and for a search the count in the page's query."""

from django.core.paginator import Page
from django.db.models import Count, Window
from rest_framework.exceptions import NotFound

from bookstore.pagination import PageNumberPagination, _positive_int

TOTAL = "list_total"
MAX_OFFSET = 2**62


class BookPagination(PageNumberPagination):
    """A search's page carries its count (`COUNT(*) OVER ()`): the ranking already visits every
    match, so a separate COUNT would only repeat the search. Other lists paginate as usual.

    The envelope of a search adds `search_relaxed` (see the view), and `facets` when asked for.
    """

    def paginate_queryset(self, queryset, request, view=None):
        if not hasattr(queryset, "query") or "search_relaxed" not in queryset.query.annotations:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        page_size = self.get_page_size(request)
        number = _positive_int(request.query_params.get(self.page_query_param, "1"), self.page_query_param)
        start = (number - 1) * page_size
        if start > MAX_OFFSET:  # no list is that long (and PostgreSQL's OFFSET is a bigint)
            raise NotFound("That page is past the end of the list.")
        rows = list(queryset.annotate(**{TOTAL: Window(Count("pk"))})[start : start + page_size])
        if not rows and number > 1:
            raise NotFound("That page is past the end of the list.")
        paginator = self.django_paginator_class(queryset, page_size)
        paginator.count = getattr(rows[0], TOTAL) if rows else 0  # a cached_property: never queried
        self.page = Page(rows, number, paginator)
        return rows

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
