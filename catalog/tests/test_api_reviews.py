import pytest

from catalog.models import Review
from catalog.tests.factories import BookFactory, ReviewFactory

pytestmark = pytest.mark.django_db


def reviews_url(book) -> str:
    return f"/api/v1/books/{book.pk}/reviews"


def review_url(review) -> str:
    return f"/api/v1/reviews/{review.pk}"


def test_reviews_list_is_public_newest_first_in_the_contract_shape(api_client, user):
    book = BookFactory()
    older = ReviewFactory(book=book, rating=3)
    newer = ReviewFactory(book=book, user=user, rating=5, title="Great")
    ReviewFactory()  # another book's

    response = api_client.get(reviews_url(book))

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [newer.pk, older.pk]
    assert results[0] == {
        "id": newer.pk,
        "book_id": book.pk,
        "user": {"id": user.pk, "display_name": user.display_name},
        "rating": 5,
        "title": "Great",
        "body": newer.body,
        "verified_purchase": False,
        "status": "published",
        "created_at": results[0]["created_at"],
        "updated_at": results[0]["updated_at"],
    }
    assert "email" not in str(results)


def test_anonymous_cannot_post_a_review(api_client):
    book = BookFactory()
    assert api_client.post(reviews_url(book), {"rating": 4}).status_code == 401
    assert not Review.objects.exists()


def test_customer_posts_a_review(user_client, user):
    book = BookFactory()

    response = user_client.post(reviews_url(book), {"rating": 4, "title": "Nice", "body": "Liked it."})

    assert response.status_code == 201, response.json()
    assert response.json()["user"]["id"] == user.pk
    assert response.json()["verified_purchase"] is False
    review = Review.objects.get()
    assert (review.book, review.user, review.rating) == (book, user, 4)


def test_a_second_review_of_the_same_book_is_a_400_unique(user_client, user):
    book = BookFactory()
    ReviewFactory(book=book, user=user)

    response = user_client.post(reviews_url(book), {"rating": 2})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "unique"
    assert Review.objects.count() == 1


@pytest.mark.parametrize("rating", [0, 6, "abc", None])
def test_rating_outside_one_to_five_is_a_400(user_client, rating):
    response = user_client.post(reviews_url(BookFactory()), {"rating": rating})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "rating"


def test_rating_outside_one_to_five_is_refused_by_the_database():
    from django.db import IntegrityError, transaction

    review = ReviewFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.filter(pk=review.pk).update(rating=6)


def test_reviewing_a_withdrawn_or_missing_book_is_a_404(user_client):
    book = BookFactory(is_active=False)
    assert user_client.post(reviews_url(book), {"rating": 4}).status_code == 404
    assert user_client.get(reviews_url(book)).status_code == 404
    assert user_client.post("/api/v1/books/999999/reviews", {"rating": 4}).status_code == 404


def test_author_edits_and_deletes_their_review(user_client, user):
    review = ReviewFactory(user=user, rating=2)

    response = user_client.patch(review_url(review), {"rating": 5})
    assert response.status_code == 200
    assert response.json()["rating"] == 5
    assert "verified_purchase" in response.json()

    assert user_client.delete(review_url(review)).status_code == 204
    assert not Review.objects.filter(pk=review.pk).exists()


def test_other_customer_cannot_edit_or_delete_a_review(other_client, user):
    review = ReviewFactory(user=user, rating=2)

    assert other_client.patch(review_url(review), {"rating": 5}).status_code == 403
    assert other_client.delete(review_url(review)).status_code == 403
    review.refresh_from_db()
    assert review.rating == 2


def test_anonymous_cannot_edit_a_review_but_can_read_it(api_client):
    review = ReviewFactory()
    assert api_client.get(review_url(review)).status_code == 200
    assert api_client.patch(review_url(review), {"rating": 1}).status_code == 401
    assert api_client.delete(review_url(review)).status_code == 401


def test_staff_may_edit_and_delete_any_review(staff_client):
    review = ReviewFactory(rating=2)
    assert staff_client.patch(review_url(review), {"body": "Edited by staff"}).status_code == 200
    assert staff_client.delete(review_url(review)).status_code == 204
    assert not Review.objects.exists()


def test_review_cannot_be_moved_to_another_user_or_book(user_client, user, other_user):
    review = ReviewFactory(user=user)
    other_book = BookFactory()

    user_client.patch(review_url(review), {"user": other_user.pk, "book_id": other_book.pk, "rating": 3})

    review.refresh_from_db()
    assert (review.user, review.book_id) == (user, review.book_id)
    assert review.book != other_book


def test_reviews_list_runs_a_constant_number_of_queries(api_client, django_assert_max_num_queries):
    book = BookFactory()
    for _ in range(5):
        ReviewFactory(book=book)

    with django_assert_max_num_queries(3):  # book + count + page
        response = api_client.get(reviews_url(book))
    assert len(response.json()["results"]) == 5
