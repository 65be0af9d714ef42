"""The contract's pagination envelope: count, page, page_size, total_pages, next, previous, results."""

import re
from collections.abc import Callable
from functools import cached_property
from typing import Any, cast

from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

_DIGITS = re.compile(r"[0-9]+")
# Beyond this many digits a number is only ever "too large": it is not converted (Python refuses
# int() of over 4300 digits, and nothing needs the exact value).
_MAX_DIGITS = 18
HUGE = 10**_MAX_DIGITS


def _positive_int(raw: str, name: str) -> int:
    """A positive integer in ASCII digits (leading zeros allowed); any larger than 10**18 is 10**18."""
    digits = raw.lstrip("0") if _DIGITS.fullmatch(raw) else ""
    if not digits:
        raise ValidationError({name: ["A positive integer is required."]}, code="invalid")
    return HUGE if len(digits) > _MAX_DIGITS else int(digits)


class KnownCountPaginator(Paginator):
    """A Paginator told its count when the caller knows it (`known_count`), so that it does not count again."""

    def __init__(self, object_list, per_page, *, known_count: int | None = None):
        super().__init__(object_list, per_page)
        self.known_count = known_count

    @cached_property
    def count(self) -> int:
        return self.known_count if self.known_count is not None else self.count_rows()

    def count_rows(self) -> int:
        """The rows counted: COUNT(*) for a queryset, the length of a list."""
        if hasattr(self.object_list, "query"):
            return cast("QuerySet[Any]", self.object_list).count()  # the stubs' pagination protocol has no `count`
        return len(self.object_list)


class FetchedRows:
    """Rows read by `fetch(limit, offset)` (a compiled statement), sliced as a queryset is: the
    paginators read a page of it as they read a page of a queryset (`page_of`)."""

    def __init__(self, fetch: Callable[[int, int], list]):
        self.fetch = fetch

    def __getitem__(self, window: slice) -> list:
        start = window.start or 0
        return self.fetch(window.stop - start, start)


class PageNumberPagination(pagination.PageNumberPagination):
    """`page` from 1, `page_size` up to 100 (larger is clamped); bad values are a 400, a page past the end a 404."""

    page_size_query_param = "page_size"
    max_page_size = 100
    django_paginator_class = KnownCountPaginator

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        return min(_positive_int(raw, self.page_size_query_param), self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        page_number = _positive_int(request.query_params.get(self.page_query_param, "1"), self.page_query_param)
        return self.page_of(queryset, self.django_paginator_class(queryset, page_size), page_number)

    def page_of(self, queryset, paginator: KnownCountPaginator, number: int) -> list:
        """Page `number` of `queryset` (a page past the end is a 404), kept in `self.page`.

        A first page is read with one row more than a page: with room to spare it is the whole list,
        and its length is the count (no COUNT query); a full one is counted when the envelope asks.
        """
        if number == 1 and (hasattr(queryset, "query") or isinstance(queryset, FetchedRows)):
            rows = list(queryset[: paginator.per_page + 1])
            if len(rows) <= paginator.per_page:
                paginator.known_count = len(rows)
            del rows[paginator.per_page :]
            self.page = Page(rows, 1, paginator)
            return rows
        try:
            self.page = paginator.page(number)
        except EmptyPage:
            raise NotFound("That page is past the end of the list.") from None
        return list(self.page)

    def get_paginated_response(self, data):
        page = self.page
        assert page is not None  # paginate_queryset ran
        return Response(
            {
                "count": page.paginator.count,
                "page": page.number,
                "page_size": page.paginator.per_page,
                "total_pages": page.paginator.num_pages,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number, from 1. A page past the end is a 404.",
                "schema": {"type": "integer", "minimum": 1, "default": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page, from 1; more than {self.max_page_size} is clamped to it.",
                "schema": {"type": "integer", "minimum": 1, "default": self.page_size},
            },
        ]

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "page", "page_size", "total_pages", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "example": 123},
                "page": {"type": "integer", "example": 2},
                "page_size": {"type": "integer", "example": 20},
                "total_pages": {"type": "integer", "example": 7},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }
