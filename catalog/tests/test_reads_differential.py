"""The catalog's hand-written reads (catalog.reads, the list without a filterset, the throttle's
read-ahead) answer every list and detail URL exactly as the ORM instances through the serializers
and the filterset did before them: status, bytes, ETag, the cached hit, 304 and HEAD."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from rest_framework import viewsets
from rest_framework.response import Response

from catalog import views
from catalog.models import Book, Review, Stock
from catalog.tests.factories import AuthorFactory, BookFactory, CategoryFactory, ReviewFactory

# A differential sweep (every URL of LIST_QUERIES, three callers, two hosts, hit/304/HEAD): fuzz-like,
# 10-13 s, so the whole suite runs it and the laptop loop (`make test-fast`) does not.
pytestmark = [pytest.mark.django_db, pytest.mark.slow]

BOOKS = "/api/v1/books"
LIST_QUERIES = [
    "", "?page=2&page_size=2", "?page_size=3", "?page_size=abc", "?page=0", "?page=99", "?page=abc",
    "?page_size=1000", "?page_size=0", "?page_size=-1", "?unknown=1", "?n=7&page_size=1&page=3",
    "?ordering=", "?ordering=price", "?ordering=-price,title", "?ordering=bogus", "?ordering=price,",
    "?ordering=-average_rating", "?ordering=published_date", "?ordering=-popularity",
    "?category=", "?category={category}", "?category=fic", "?category=bad%20slug", "?category=999999",
    "?author=", "?author={author}", "?author=abc", "?author=0",
    "?min_price=", "?min_price=1", "?min_price=-1", "?min_price=abc", "?max_price=50",
    "?in_stock=", "?in_stock=true", "?in_stock=false", "?in_stock=maybe",
    "?language=ja", "?language=xx", "?format=json", "?format=audiobook", "?format=",
    "?min_rating=", "?min_rating=2", "?min_rating=9",
    "?is_active=false", "?is_active=true", "?is_active=", "?is_active=nope",
    "?facets=format", "?facets=bogus", "?facets=", "?search=", "?search=zzz", "?search=alpha",
    # Combinations the list plans without a filterset (catalog.reads.book_list_plan), and ones it leaves to it.
    "?category={category}&min_price=1&max_price=50&page_size=1&page=2", "?category=sub&ordering=-price,title",
    "?author={author}&in_stock=true&ordering=title", "?min_rating=1.5&language=ja", "?in_stock=YES&format=paperback",
    "?min_price=10.50&max_price=10.5", "?page=2&page_size=1&ordering=price", "?category=fic&page=9",
    "?author={author}&page=2&page_size=1", "?min_price=1&min_price=2", "?min_price=1e1", "?category=%20fic",
    "?ordering=price,price", "?ordering=price,%20title", "?author=007", "?min_rating=5&ordering=-average_rating",
]  # fmt: skip
OTHER_HOST = {"HTTP_HOST": "localhost:8443", "wsgi.url_scheme": "https"}  # covers' and links' absolute URLs


def before_list(self, request, *args, **kwargs):
    if cached := self._cached(request):
        return cached
    page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
    response = self.get_paginated_response(self.present_list(page, self.get_serializer_context()))
    response.data.update(self._search_envelope(page))
    return response


def before_retrieve(self, request, *args, **kwargs):
    pk = str(self.kwargs["pk"])
    if pk.isascii() and pk.isdigit() and (cached := self._cached(request, book_id=int(pk))):
        return cached
    return Response(self.present(self.get_object(), self.get_serializer_context()))


def before_filter_queryset(self, queryset):
    return viewsets.ModelViewSet.filter_queryset(self, queryset) if self.action == "list" else queryset


def catalog() -> list[str]:
    """Varied books (nulls, a sub-category, authors in and out of order, a cover, no stock row, a
    withdrawn one, ratings that round, a hidden review) and the URLs to read them by."""
    fiction = CategoryFactory(name="Fiction", slug="fic")
    sub = CategoryFactory(name="Sub", slug="sub", parent=fiction)
    zed, abe = AuthorFactory(name="Zed"), AuthorFactory(name="abe")
    rated = BookFactory(category=fiction, authors=[zed, abe], price=Decimal("10.50"), language="ja", title="alpha")
    sold_out = BookFactory(
        category=sub,
        authors=[abe],
        price=Decimal("99.99"),
        title="Beta",
        stock=0,
        published_date=datetime.date(2000, 1, 1),
    )
    bare = BookFactory(category=None, authors=[], price=Decimal("0.01"), cover="covers/x y.png", page_count=None)
    withdrawn = BookFactory(title="gamma")
    Book.objects.filter(pk=withdrawn.pk).update(is_active=False)
    Stock.objects.filter(book=bare).delete()
    for rating in (1, 2, 2):
        ReviewFactory(book=rated, rating=rating)
    ReviewFactory(book=sold_out, rating=5, status=Review.Status.HIDDEN)
    BookFactory.create_batch(3)
    urls = [BOOKS + query.format(category=fiction.pk, author=zed.pk) for query in LIST_QUERIES]
    urls += [f"{BOOKS}/{book.pk}" for book in (rated, sold_out, bare, withdrawn)]
    return [*urls, f"{BOOKS}/{rated.pk}?x=1", f"{BOOKS}/0", f"{BOOKS}/abc", f"{BOOKS}/{withdrawn.pk + 100}"]


def answers(client, url: str, headers: dict, *, cached: bool) -> tuple:
    cache.clear()
    first = client.get(url, **headers)
    seen: tuple = (first.status_code, first.content, first.get("ETag"))
    if cached:  # the stored answer, its 304, and HEAD
        hit = client.get(url, **headers)
        etag = hit.get("ETag") or '"none"'
        again = client.get(url, HTTP_IF_NONE_MATCH=etag, **headers)
        head = client.head(url, **headers)
        seen += (hit.status_code, hit.content, etag, again.status_code, head.status_code, head.get("ETag"))
    return seen


@pytest.mark.parametrize(
    ("caller", "cached"), [("anonymous", False), ("anonymous", True), ("user", True), ("staff", False)]
)
def test_every_catalog_read_answers_as_the_orm_and_serializers_did(
    caller, cached, api_client, user_client, staff_client, monkeypatch
):
    client = {"anonymous": api_client, "user": user_client, "staff": staff_client}[caller]
    urls = catalog()
    now = {(url, host): answers(client, url, headers, cached=cached) for url in urls for host, headers in
           (("", {}), ("other", OTHER_HOST))}  # fmt: skip
    monkeypatch.setattr(views.BookViewSet, "list", before_list)
    monkeypatch.setattr(views.BookViewSet, "retrieve", before_retrieve)
    monkeypatch.setattr(views.BookViewSet, "filter_queryset", before_filter_queryset)

    before = {(url, host): answers(client, url, headers, cached=cached) for url in urls for host, headers in
              (("", {}), ("other", OTHER_HOST))}  # fmt: skip

    assert {status[0] for status in now.values()} >= {200, 400, 404}
    differing = [key for key in now if now[key] != before[key]]
    assert not differing, [(key, before[key][:2], now[key][:2]) for key in differing[:3]]
