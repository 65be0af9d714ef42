from django.urls import path
from rest_framework.routers import SimpleRouter

from catalog import views

router = SimpleRouter(trailing_slash=False)
router.register("books", views.BookViewSet, basename="book")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("authors", views.AuthorViewSet, basename="author")
router.register("reviews", views.ReviewViewSet, basename="review")

urlpatterns = [
    path("books/<int:book_id>/reviews", views.BookReviewListView.as_view(), name="book-reviews"),
    *router.urls,
]
