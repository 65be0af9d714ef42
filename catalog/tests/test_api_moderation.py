"""Review moderation over HTTP: reports from customers, hidden reviews, and ratings of published ones."""

import pytest

from accounts.tests.factories import UserFactory
from bookstore.tests.clients import client_for
from catalog import services
from catalog.models import Review
from catalog.tests.factories import BookFactory, ReviewFactory

pytestmark = pytest.mark.django_db


def report(client, review, reason="Spam and links"):
    return client.post(f"/api/v1/reviews/{review.pk}/report", {"reason": reason}, format="json")


def test_a_report_is_204_once_then_409_already_reported(user_client):
    review = ReviewFactory()

    first, again = report(user_client, review), report(user_client, review, "Still spam")

    assert first.status_code == 204 and first.content == b""
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "already_reported"
    assert review.reports.count() == 1


def test_reporting_needs_a_login_and_a_reason(api_client, user_client):
    review = ReviewFactory()

    assert report(api_client, review).status_code == 401
    missing = user_client.post(f"/api/v1/reviews/{review.pk}/report", {}, format="json")
    assert missing.status_code == 400 and missing.json()["errors"][0]["attr"] == "reason"
    assert user_client.post("/api/v1/reviews/999999/report", {"reason": "x"}, format="json").status_code == 404
    assert review.reports.count() == 0


def test_a_review_reported_by_enough_users_is_hidden_from_everyone_but_staff_and_its_author(
    settings, api_client, staff_client
):
    settings.REVIEW_REPORTS_TO_HIDE = 3
    book = BookFactory()
    author = UserFactory()
    review = ReviewFactory(book=book, user=author, rating=1)
    ReviewFactory(book=book, rating=5)
    url = f"/api/v1/books/{book.pk}/reviews"

    for _ in range(2):
        assert report(client_for(UserFactory()), review).status_code == 204
    assert len(api_client.get(url).json()["results"]) == 2  # two reports: still published

    assert report(client_for(UserFactory()), review).status_code == 204

    assert [r["rating"] for r in api_client.get(url).json()["results"]] == [5]
    assert [r["rating"] for r in client_for(UserFactory()).get(url).json()["results"]] == [5]
    mine = client_for(author).get(url).json()["results"]
    assert {(r["rating"], r["status"]) for r in mine} == {(1, "hidden"), (5, "published")}
    assert len(staff_client.get(url).json()["results"]) == 2
    assert api_client.get(f"/api/v1/reviews/{review.pk}").status_code == 404
    assert client_for(author).get(f"/api/v1/reviews/{review.pk}").json()["status"] == "hidden"
    detail = api_client.get(f"/api/v1/books/{book.pk}").json()
    assert (detail["average_rating"], detail["review_count"]) == (5.0, 1)


def test_ratings_count_only_published_reviews(api_client):
    book = BookFactory()
    ReviewFactory(book=book, rating=2)
    hidden = ReviewFactory(book=book, rating=4)
    services.reviews_hide(reviews=Review.objects.filter(pk=hidden.pk), reason="Off topic")

    detail = api_client.get(f"/api/v1/books/{book.pk}").json()
    listing = api_client.get("/api/v1/books", {"min_rating": 3}).json()

    assert (detail["average_rating"], detail["review_count"]) == (2.0, 1)
    assert listing["count"] == 0

    services.reviews_restore(reviews=Review.objects.filter(pk=hidden.pk))
    detail = api_client.get(f"/api/v1/books/{book.pk}").json()
    assert (detail["average_rating"], detail["review_count"]) == (3.0, 2)


def test_reports_after_staff_restored_a_review_start_counting_again(settings):
    settings.REVIEW_REPORTS_TO_HIDE = 2
    review = ReviewFactory()
    for _ in range(2):
        services.review_report(review=review, user=UserFactory(), reason="Spam")
    review.refresh_from_db()
    assert review.status == "hidden" and "Reported by 2" in review.hidden_reason

    services.reviews_restore(reviews=Review.objects.filter(pk=review.pk))
    services.review_report(review=review, user=UserFactory(), reason="Spam")

    review.refresh_from_db()
    assert review.status == "published"  # staff decided; one new report is not enough
