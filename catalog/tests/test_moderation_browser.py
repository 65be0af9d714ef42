"""Moderation in a real browser at 1366×768: a review a customer reported waits in the staff's
queue; staff hide it with a reason, and the shop's API no longer lists it."""

from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from bookstore.tests.browser import STAFF_PASSWORD, Steps, log_in, messages
from catalog.models import Review
from catalog.tests.factories import BookFactory, ReviewFactory


def public_review_titles(book) -> list[str]:
    response = APIClient().get(f"/api/v1/books/{book.pk}/reviews")
    assert response.status_code == 200
    return sorted(review["title"] for review in response.json()["results"])


def test_staff_hide_a_reported_review_from_the_queue_and_the_shop_stops_showing_it(page, staff, request):
    steps = Steps(page, request.node.name)
    book = BookFactory(title="Harbour Lights")
    spam = ReviewFactory(book=book, rating=5, title="Cheap watches here", body="Visit my shop for watches.")
    ReviewFactory(book=book, rating=4, title="A quiet, lovely book")  # nobody reported it
    reader = APIClient()
    reader.force_authenticate(UserFactory())
    reported = reader.post(f"/api/v1/reviews/{spam.pk}/report", {"reason": "Advertising"}, format="json")
    assert reported.status_code == 204
    assert public_review_titles(book) == ["A quiet, lovely book", "Cheap watches here"]  # one report hides nothing

    # The dashboard counts it and leads to the queue, which lists the reported review only.
    log_in(page, steps, staff.email, STAFF_PASSWORD)
    page.locator("#dashboard").wait_for()
    assert page.locator("[data-kpi=reviews-waiting]").inner_text().strip() == "1"
    page.click("#moderation-queue")
    steps.shot("queue")
    queue = page.locator("#result_list tbody tr").all_inner_texts()
    assert len(queue) == 1 and "Cheap watches here" in queue[0] and "Harbour Lights" in queue[0]

    # Hiding without a reason is refused; with one, it is hidden and leaves the queue.
    page.check(f"input[name=_selected_action][value='{spam.pk}']")
    page.select_option("select[name=action]", "hide_reviews")
    page.click("button[name=index]")
    page.get_by_text("Give a reason to hide reviews").wait_for()  # the page after the POST
    steps.shot("no-reason-refused")
    assert any("Give a reason" in text for text in messages(page, "error"))
    assert spam.reports.filter(resolved_at__isnull=True).count() == 1  # still waiting
    page.check(f"input[name=_selected_action][value='{spam.pk}']")
    page.select_option("select[name=action]", "hide_reviews")
    page.fill("#changelist-actions input[name=reason]", "Advertising, not a review.")
    steps.shot("hide-with-reason")
    page.click("button[name=index]")
    page.get_by_text("1 review(s) hidden.").wait_for()
    steps.shot("hidden")
    assert messages(page, "success") == ["1 review(s) hidden."]
    assert page.locator("#result_list tbody tr").count() == 0
    spam.refresh_from_db()
    assert (spam.status, spam.hidden_reason) == (Review.Status.HIDDEN, "Advertising, not a review.")
    assert not spam.reports.filter(resolved_at__isnull=True).exists()

    # The shop's API lists the other review only.
    assert public_review_titles(book) == ["A quiet, lovely book"]
