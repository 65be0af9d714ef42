"""The book list's pagination: the contract's envelope, with counts that do not scan.

- A search's count is kept like any other list's (below); when the cache has none, the page's
  own query counts the matches (a scalar subquery on the match condition alone: a bitmap count,
  not the ranking), within the list's query budget.
- A first page shorter than a page is the whole list: its length is the count.
- Any other list's count is kept in the shared cache per filter signature (the filters given,
  not the page, the page size, the ordering or unknown parameters), under the catalog's version
  (`catalog.caching`): exact, and counted again only after a write that can change which books a
  filter selects. Sales bump no version (a stock crossing zero does), so under traffic the count
  of a list is taken once, not on every page of every shopper.
"""

import hashlib
from collections.abc import Callable
from typing import Any, cast

from django.core.paginator import Page
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound

from bookstore.pagination import FetchedRows, KnownCountPaginator, PageNumberPagination, _positive_int
from catalog import caching
from catalog.search import search_page

TOTAL = "list_total"
MAX_OFFSET = 2**62
# Query parameters that do not change which books a list holds (nor their number).
NOT_SELECTING = {"page", "page_size", "ordering", "facets"}


class CountedPaginator(KnownCountPaginator):
    """A Paginator whose count is given (`known_count`), or else taken from the shared cache under
    `count_key` (counted, then stored, when the cache has none for the current catalog)."""

    def __init__(
        self,
        object_list,
        per_page,
        *,
        known_count: int | None = None,
        count_key: str | None = None,
        counted: "QuerySet | Callable[[], QuerySet] | None" = None,
        request=None,
    ):
        super().__init__(object_list, per_page, known_count=known_count)
        self.count_key, self.request = count_key, request
        self.counted = object_list if counted is None else counted  # what `count` counts

    def count_rows(self) -> int:
        if callable(self.counted):  # the queryset to count, built only when the count is not kept
            counted = self.counted
            if self.count_key is None:
                return counted().count()
            return caching.cached_value(self.count_key, lambda: counted().count(), self.request)
        books = cast("QuerySet[Any]", self.counted)  # the stubs' pagination protocol has no `count`
        if self.count_key is None:
            return books.count()
        return caching.cached_value(self.count_key, books.count, self.request)


def list_count_key(request) -> str:
    """The cache name of the count of the book list that `request` asks for (see `count_key`)."""
    from catalog.filters import BookFilter

    return count_key(request, set(BookFilter.base_filters) - NOT_SELECTING)


def count_key(request, filter_names) -> str:
    """The shared cache's name of a list's count: the filters given, whoever may see withdrawn books."""
    params = request.query_params
    signature = [(name, params.getlist(name)) for name in sorted(filter_names) if name in params]
    staff = bool(request.user and request.user.is_staff)
    digest = hashlib.blake2b(repr((staff, signature)).encode(), digest_size=16).hexdigest()
    return f"book-count:{digest}"


class BookPagination(PageNumberPagination):
    """The envelope of a search adds `search_relaxed` (see the view), and `facets` when asked for."""

    def paginate_queryset(self, queryset, request, view=None, *, rows=None):
        """The page's books; with `rows` (outside a search), the page of `rows(queryset)` instead
        (e.g. `catalog.reads.book_list_rows`), while the count is still that of `queryset`."""
        page_size, number, key = self._page_asked(request, view)
        if "search_relaxed" in queryset.query.annotations:
            return self._search_page(queryset, request, number, page_size, key)
        listed = queryset if rows is None else rows(queryset)
        paginator = CountedPaginator(listed, page_size, count_key=key, counted=queryset, request=request)
        return self.page_of(listed, paginator, number)

    def paginate_rows(self, request, fetch: Callable[[int, int], list], counted: Callable[[], QuerySet], view) -> list:
        """The page's rows from `fetch(limit, offset)` (a list outside a search, `catalog.reads`),
        paged as `paginate_queryset` pages a queryset; `counted()` is the queryset counted when the
        shared cache has no count."""
        page_size, number, key = self._page_asked(request, view)
        rows = FetchedRows(fetch)
        return self.page_of(
            rows, CountedPaginator(rows, page_size, count_key=key, counted=counted, request=request), number
        )

    def _page_asked(self, request, view) -> tuple[int, int, str]:
        """The page size and number asked for (a 400 when malformed, a 404 past any list's end) and
        the count's cache name."""
        self.request = request
        page_size = self.get_page_size(request)
        number = _positive_int(request.query_params.get(self.page_query_param, "1"), self.page_query_param)
        if (number - 1) * page_size > MAX_OFFSET:  # no list is that long (and PostgreSQL's OFFSET is a bigint)
            raise NotFound("That page is past the end of the list.")
        filter_names = set(view.filterset_class.base_filters) - NOT_SELECTING if view is not None else set()
        return page_size, number, count_key(request, filter_names)

    def _search_page(self, queryset, request, number: int, page_size: int, key: str) -> list:
        """A search's page (`catalog.search.search_page`), with its count from the shared cache, or
        else counted in the page's own query."""
        start = (number - 1) * page_size
        fetched: dict[str, list] = {}

        def count_with_the_page() -> int:
            rows = fetched["rows"] = list(search_page(queryset, start, start + page_size, count=True))
            if rows:
                return getattr(rows[0], TOTAL)
            return 0 if number == 1 else queryset.count()  # past the end: the count alone

        total = caching.cached_value(key, count_with_the_page, request)
        rows = fetched["rows"] if "rows" in fetched else list(search_page(queryset, start, start + page_size))
        if not rows and number > 1:
            raise NotFound("That page is past the end of the list.")
        self.page = Page(rows, number, CountedPaginator(queryset, page_size, known_count=total))
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
