"""HTTP glue of the catalog: public reads, staff writes, reviews by their authors."""

from typing import Any, cast

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response

from bookstore.cache import ReadAhead
from bookstore.filters import positive_path_id
from bookstore.openapi import FILE_TOO_LARGE_RESPONSE, conflict_response
from bookstore.serializers import Presenter
from catalog import caching, reads, services
from catalog.filters import MAX_SEARCH_LENGTH, AuthorFilter, BookFilter, BookOrderingFilter, CategoryFilter
from catalog.models import Author, Book, BookQuerySet, Category, Review
from catalog.pagination import BookPagination, list_count_key
from catalog.permissions import IsReviewAuthorOrStaff, IsStaffOrReadOnly
from catalog.search import search_page
from catalog.serializers import (
    AuthorSerializer,
    BookListSerializer,
    BookSerializer,
    BookSuggestionSerializer,
    BookWriteSerializer,
    CategorySerializer,
    CoverUploadSerializer,
    ReviewReportSerializer,
    ReviewSerializer,
)

SUGGESTIONS = 8


def _is_staff(request) -> bool:
    return bool(request.user and request.user.is_staff)


def _is_number(text: str) -> bool:
    """ASCII digits only: `str.isdigit` also says yes to "²" or "①", which `int()` refuses (a 500)."""
    return text.isascii() and text.isdigit()


@extend_schema_view(
    list=extend_schema(
        summary="List books",
        description="Active books, newest first (ranked by relevance when searching without an ordering). "
        "Staff may pass `is_active=false` to list withdrawn books.",
        parameters=[
            cast(BookOrderingFilter, BookFilter.base_filters["ordering"]).schema_parameter("ordering"),
            OpenApiParameter(
                "min_rating",
                {"type": "number", "minimum": 1, "maximum": 5},
                description="Lowest average rating, 1-5.",
            ),
            OpenApiParameter("min_price", {"type": "number", "minimum": 0}, description="Lowest price, included."),
            OpenApiParameter("max_price", {"type": "number", "minimum": 0}, description="Highest price, included."),
        ],
        responses=BookListSerializer,
    ),
    retrieve=extend_schema(summary="A book", description="A withdrawn book is 404 except to staff."),
    create=extend_schema(summary="Add a book (staff)", request=BookWriteSerializer, responses={201: BookSerializer}),
    update=extend_schema(
        summary="Replace a book (staff)", request=BookWriteSerializer, responses={200: BookSerializer}
    ),
    partial_update=extend_schema(
        summary="Change a book (staff)", request=BookWriteSerializer, responses={200: BookSerializer}
    ),
    destroy=extend_schema(summary="Withdraw a book (staff)", description="Soft delete: the book leaves the catalog."),
)
@positive_path_id()
@extend_validation_errors(["does_not_exist"], field_name="author_ids", actions=["create", "update", "partial_update"])
@extend_validation_errors(["does_not_exist"], field_name="category_id", actions=["create", "update", "partial_update"])
@extend_validation_errors(["invalid_image"], field_name="image", actions=["cover"])
@extend_validation_errors(["required", "invalid"], field_name="q", actions=["suggest"])
class BookViewSet(viewsets.ModelViewSet):
    permission_classes = [IsStaffOrReadOnly]
    filterset_class = BookFilter
    serializer_class = BookSerializer
    # Built once (DRF re-runs it with `.all()` for every request): the rating subqueries and the
    # authors' Prefetch are not rebuilt per request.
    queryset = Book.objects.with_listing_data()
    present_list = Presenter(BookListSerializer, many=True)
    present = Presenter(BookSerializer)
    present_suggestions = Presenter(BookSuggestionSerializer, many=True)
    pagination_class = BookPagination

    def get_queryset(self):
        books = cast(BookQuerySet, super().get_queryset())
        if self.action == "list":
            books = books.defer("description")
        return books if _is_staff(self.request) else books.available()

    def list(self, request, *args, **kwargs):
        if cached := self._cached(request):
            return cached
        if not _is_staff(request) and (plan := reads.book_list_plan(request)) is not None:
            # A shopper's list outside a search: no filterset, the page's statement compiled once per shape.
            paginator = cast(BookPagination, self.paginator)
            rows = paginator.paginate_rows(
                request,
                lambda limit, offset: reads.book_list_page(plan, limit, offset),
                lambda: self.filter_queryset(self.get_queryset()),  # counted (when the cache has no count) as before
                view=self,
            )
            return self.get_paginated_response(reads.book_list_data(rows, request=request))
        books = self.filter_queryset(self.get_queryset())
        if "search_relaxed" in books.query.annotations:  # a search's page: ranked instances (catalog.search)
            page = self.paginate_queryset(books)
            response = self.get_paginated_response(self.present_list(page, self.get_serializer_context()))
        else:  # BookListSerializer's answer from rows, not model instances (catalog.reads)
            paginator = cast(BookPagination, self.paginator)
            page = paginator.paginate_queryset(books, request, view=self, rows=reads.book_list_rows)
            response = self.get_paginated_response(reads.book_list_data(page, request=request))
        response.data.update(self._search_envelope(page))
        return response

    def _search_envelope(self, page) -> dict:
        """`search_relaxed` when searching, `facets` when asked for (see catalog.search)."""
        if not {"search", "facets"} & self.request.query_params.keys():
            return {}  # neither: no second filterset to build (a tenth of an uncached list's time)
        filterset = self.filterset_class(self.request.query_params, queryset=self.get_queryset(), request=self.request)
        filterset.is_valid()  # already validated by the filter backend
        extra: dict[str, Any] = {}
        if filterset.search_text:
            extra["search_relaxed"] = bool(page and getattr(page[0], "search_relaxed", False))
        if facets := filterset.facets_requested():
            extra["facets"] = filterset.facet_counts(self.get_queryset(), facets)
        return extra

    @extend_schema(
        summary="Book suggestions as you type",
        description="Up to 8 books for `q` (1 to 200 characters), with the matching of the book search "
        "(the last word also as a prefix), best first. A plain list, not paginated.",
        parameters=[OpenApiParameter("q", str, required=True, description="What the shopper has typed so far.")],
        responses={200: BookSuggestionSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], url_path="suggest", filter_backends=[], pagination_class=None)
    def suggest(self, request):
        text = request.query_params.get("q", "")
        if not text.strip():
            raise ValidationError({"q": ["This parameter is required (1 or more characters)."]}, code="required")
        if len(text) > MAX_SEARCH_LENGTH:
            raise ValidationError({"q": [f"At most {MAX_SEARCH_LENGTH} characters."]}, code="invalid")
        authors = Prefetch("authors", queryset=Author.objects.only("id", "name").order_by("name", "id"))
        matches = (
            Book.objects.available()
            .only("id", "title", "cover", "popularity", "created_at")
            .prefetch_related(authors)
            .with_ratings()  # ranked as the list: popularity, then rating
            .search(text, postings=True)  # the public catalog, no filter (catalog.search.PostingSearch)
        )
        books = search_page(matches, 0, SUGGESTIONS)  # ranked on narrow rows, then the 8 read
        return Response(self.present_suggestions(books, self.get_serializer_context()))

    def retrieve(self, request, *args, **kwargs):
        pk = str(self.kwargs["pk"])
        if not _is_number(pk):
            return Response(self.present(self.get_object(), self.get_serializer_context()))
        if cached := self._cached(request, book_id=int(pk)):
            return cached
        # BookSerializer's answer from two precompiled statements (catalog.reads: no ORM compile per request).
        data = reads.book_detail_data(int(pk), request=request, withdrawn=_is_staff(request))
        if data is None:
            raise Http404
        return Response(data)

    def cache_read_ahead(self, request) -> ReadAhead | None:
        """The cache entries a public read will look up: the throttle reads them in its round trip."""
        if request.method not in {"GET", "HEAD"} or _is_staff(request):
            return None
        if self.action == "list":
            return caching.reads_ahead(request, values=[list_count_key(request)])
        pk = str(self.kwargs.get("pk", ""))
        if self.action == "retrieve" and _is_number(pk):
            return caching.reads_ahead(request, book_id=int(pk))
        return None

    def _cached(self, request, book_id: int | None = None):
        # Staff see withdrawn books: their reads are never shared.
        return None if _is_staff(request) else caching.cached_response(request, book_id=book_id)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in {"GET", "HEAD"} and self.action in {"list", "retrieve"}:
            response = caching.finish(request, response)
        return response

    def filter_queryset(self, queryset):
        # Filters and ordering belong to the list; the detail of a withdrawn book stays visible to staff.
        if self.action != "list":
            return queryset
        if not _is_staff(self.request) and not self.request.query_params.keys() & BookFilter.base_filters.keys():
            # No filter named: the filterset would leave the available books in their default order
            # (staff's default, active books only, is the filterset's). Building and validating it
            # was a sixth of an uncached default list's time (bench/cpu.py, 100,000 books).
            return queryset
        return super().filter_queryset(queryset)

    def _read(self, book: Book, status_code=status.HTTP_200_OK) -> Response:
        fresh = Book.objects.with_listing_data().get(pk=book.pk)
        return Response(self.present(fresh, self.get_serializer_context()), status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = BookWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        book = services.book_create(actor=request.user, **serializer.to_service_kwargs())
        return self._read(book, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        book = self.get_object()
        serializer = BookWriteSerializer(
            book, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        services.book_update(book=book, actor=request.user, **serializer.to_service_kwargs())
        return self._read(book)

    def perform_destroy(self, instance):
        services.book_withdraw(book=instance)

    @extend_schema(
        summary="Upload a book's cover (staff)",
        request=CoverUploadSerializer,
        responses={200: BookSerializer, 413: FILE_TOO_LARGE_RESPONSE},
    )
    @action(detail=True, methods=["put"], parser_classes=[MultiPartParser], url_path="cover")
    def cover(self, request, pk=None):
        book = self.get_object()
        serializer = CoverUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.book_set_cover(
            book=book, image=serializer.validated_data["image"], image_format=serializer.image_format
        )
        return self._read(book)


@extend_schema_view(
    list=extend_schema(summary="List categories", description="Categories nest: `parent` lists the children of one."),
    retrieve=extend_schema(summary="A category"),
    create=extend_schema(summary="Add a category (staff)"),
    partial_update=extend_schema(summary="Change a category (staff)"),
    destroy=extend_schema(
        summary="Delete a category (staff)",
        responses={
            204: None,
            409: conflict_response("protected", description="The category still has books or sub-categories."),
        },
    ),
)
@positive_path_id()
@extend_validation_errors(["does_not_exist", "cycle"], field_name="parent_id", actions=["create", "partial_update"])
class CategoryViewSet(viewsets.ModelViewSet):
    permission_classes = [IsStaffOrReadOnly]
    serializer_class = CategorySerializer
    filterset_class = CategoryFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return Category.objects.all()

    def perform_create(self, serializer):
        serializer.instance = services.category_create(**serializer.validated_data)

    def perform_update(self, serializer):
        services.category_update(category=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.category_delete(category=instance)


@extend_schema_view(
    list=extend_schema(summary="List authors", description="`search` matches the name."),
    retrieve=extend_schema(summary="An author"),
    create=extend_schema(summary="Add an author (staff)"),
    partial_update=extend_schema(summary="Change an author (staff)"),
    destroy=extend_schema(
        summary="Delete an author (staff)",
        responses={
            204: None,
            409: conflict_response("protected", description="The author still has books."),
        },
    ),
)
@positive_path_id()
class AuthorViewSet(viewsets.ModelViewSet):
    permission_classes = [IsStaffOrReadOnly]
    serializer_class = AuthorSerializer
    filterset_class = AuthorFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return Author.objects.all()

    def perform_create(self, serializer):
        serializer.instance = services.author_create(**serializer.validated_data)

    def perform_update(self, serializer):
        services.author_update(author=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.author_delete(author=instance)


@extend_schema_view(
    get=extend_schema(
        summary="A book's reviews",
        description="Newest first. Hidden reviews are listed only to staff and to their author.",
    ),
    post=extend_schema(summary="Review a book", description="One review per user and book (a second is 400 `unique`)."),
)
@positive_path_id("book_id")
@extend_validation_errors(["unique"], field_name="non_field_errors", methods=["post"])
class BookReviewListView(generics.ListCreateAPIView):
    serializer_class = ReviewSerializer
    permission_classes = [IsAuthenticatedOrReadOnly]
    filter_backends = []

    def get_book(self) -> Book:
        if not hasattr(self, "_book"):
            books = (
                Book.objects.all()
                if _is_staff(self.request) and self.request.method == "GET"
                else Book.objects.available()
            )
            self._book = get_object_or_404(books.only("id"), pk=self.kwargs["book_id"])
        return self._book

    def get_queryset(self):
        return Review.objects.with_listing_data().visible_to(self.request.user).filter(book=self.get_book())

    def get_serializer_context(self):
        context = cast(dict[str, Any], super().get_serializer_context())  # a dict; the stubs say Mapping
        if getattr(self, "swagger_fake_view", False):
            return context
        if self.request is not None and self.request.method == "POST":
            context["book"] = self.get_book()
        return context

    def create(self, request, *args, **kwargs):
        book = self.get_book()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = services.review_create(book=book, user=request.user, **serializer.validated_data)
        review = Review.objects.with_listing_data().get(pk=review.pk)
        return Response(self.get_serializer(review).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    retrieve=extend_schema(summary="A review"),
    partial_update=extend_schema(summary="Change a review (its author or staff)"),
    destroy=extend_schema(summary="Delete a review (its author or staff)"),
)
@positive_path_id()
class ReviewViewSet(
    mixins.RetrieveModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = ReviewSerializer
    permission_classes = [IsReviewAuthorOrStaff]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        reviews = Review.objects.with_listing_data().visible_to(self.request.user)
        return reviews if _is_staff(self.request) else reviews.filter(book__is_active=True)

    def get_serializer_class(self):
        return ReviewReportSerializer if self.action == "report" else ReviewSerializer

    def perform_update(self, serializer):
        review = services.review_update(review=serializer.instance, **serializer.validated_data)
        # Re-read so the response carries the annotations.
        serializer.instance = Review.objects.with_listing_data().get(pk=review.pk)

    def perform_destroy(self, instance):
        services.review_delete(review=instance)

    @extend_schema(
        summary="Report a review",
        description="Once per user and review (again: 409 `already_reported`). A review reported by "
        "enough different customers is hidden until staff decide.",
        request=ReviewReportSerializer,
        responses={204: None, 409: conflict_response("already_reported", description="You reported it already.")},
    )
    @action(detail=True, methods=["post"], url_path="report", permission_classes=[IsAuthenticated])
    def report(self, request, pk=None):
        review = self.get_object()
        serializer = ReviewReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.review_report(review=review, user=request.user, reason=serializer.validated_data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)
