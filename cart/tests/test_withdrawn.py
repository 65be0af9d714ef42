"""A withdrawn book leaves every cart at once, and each such cart's next answer says so once."""

from decimal import Decimal

import pytest
from django.urls import reverse

from bookstore.tests.clients import client_for
from bookstore.tests.concurrency import run_together
from cart.models import CartItem
from cart.tests.factories import CartFactory, CartItemFactory
from catalog.models import Book
from catalog.tests.factories import BookFactory
from catalog.tests.test_admin import _book_form
from orders.tests.factories import ADDRESS

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart"
ITEMS = "/api/v1/cart/items"


def withdrawn_notice(book) -> dict:
    return {
        "code": "withdrawn",
        "book_id": book.pk,
        "detail": f"“{book.title}” was withdrawn from the catalog and removed from your cart.",
    }


@pytest.fixture
def carts_holding(user, other_user):
    """`user` and `other_user` each have `withdrawn` and `kept` in their carts."""
    withdrawn, kept = BookFactory(title="Gone Girl"), BookFactory(price=Decimal("10.00"))
    for shopper in (user, other_user):
        cart = CartFactory(user=shopper)
        CartItemFactory(cart=cart, book=withdrawn, quantity=2)
        CartItemFactory(cart=cart, book=kept, quantity=1)
    return withdrawn, kept


def test_every_cart_answer_carries_a_notices_list(user_client):
    assert user_client.get(CART).json()["notices"] == []
    assert user_client.post(ITEMS, {"book_id": BookFactory().pk}).json()["notices"] == []


def test_withdrawing_a_book_takes_it_out_of_every_cart_and_each_cart_says_so_once(
    staff_client, user_client, other_client, carts_holding
):
    withdrawn, kept = carts_holding

    assert staff_client.delete(f"/api/v1/books/{withdrawn.pk}").status_code == 204

    assert not CartItem.objects.filter(book=withdrawn).exists()
    for client in (user_client, other_client):
        body = client.get(CART).json()
        assert [item["book"]["id"] for item in body["items"]] == [kept.pk]
        assert (body["subtotal"], body["total_quantity"]) == ("10.00", 1)
        assert body["notices"] == [withdrawn_notice(withdrawn)]
        assert client.get(CART).json()["notices"] == []


def test_the_next_answer_of_a_cart_write_hands_the_notice_over(staff_client, user_client, carts_holding):
    withdrawn, _ = carts_holding
    staff_client.delete(f"/api/v1/books/{withdrawn.pk}")

    added = user_client.post(ITEMS, {"book_id": BookFactory().pk})

    assert added.status_code == 201
    assert added.json()["notices"] == [withdrawn_notice(withdrawn)]
    assert user_client.get(CART).json()["notices"] == []


def test_checkout_after_a_withdrawal_buys_what_is_left(staff_client, user_client, carts_holding):
    withdrawn, kept = carts_holding
    staff_client.delete(f"/api/v1/books/{withdrawn.pk}")

    response = user_client.post("/api/v1/orders", {"shipping_address": ADDRESS})

    assert response.status_code == 201, response.json()
    assert [item["book_id"] for item in response.json()["items"]] == [kept.pk]
    assert Book.objects.get(pk=withdrawn.pk).stock == withdrawn.stock


def test_a_book_withdrawn_twice_before_the_cart_is_read_is_listed_once(staff_client, user_client, user):
    book = BookFactory()
    for _ in range(2):
        CartItemFactory(cart=CartFactory(user=user), book=book)
        staff_client.delete(f"/api/v1/books/{book.pk}")
        Book.objects.filter(pk=book.pk).update(is_active=True)  # restored, and put in the cart again

    assert user_client.get(CART).json()["notices"] == [withdrawn_notice(book)]


def test_the_admin_withdraw_action_empties_the_carts_alike(admin_client, user_client, carts_holding):
    withdrawn, _ = carts_holding

    admin_client.post(
        reverse("admin:catalog_book_changelist"), {"action": "withdraw_books", "_selected_action": [withdrawn.pk]}
    )

    assert not CartItem.objects.filter(book=withdrawn).exists()
    assert user_client.get(CART).json()["notices"] == [withdrawn_notice(withdrawn)]


def test_unticking_active_in_the_admin_form_empties_the_carts_alike(admin_client, user_client, carts_holding):
    withdrawn, _ = carts_holding
    url = reverse("admin:catalog_book_change", args=[withdrawn.pk])
    data = _book_form(withdrawn)
    del data["is_active"]

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Book.objects.get(pk=withdrawn.pk).is_active is False
    assert not CartItem.objects.filter(book=withdrawn).exists()
    assert user_client.get(CART).json()["notices"] == [withdrawn_notice(withdrawn)]


def test_a_cart_read_without_notices_stays_within_two_queries(user_client, user, queries_of):
    CartItemFactory(cart=CartFactory(user=user))
    user_client.get(CART)

    assert len(queries_of(lambda: user_client.get(CART))) == 2  # the cart, its lines with their books


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_reads_hand_a_notice_over_once(staff_client, user, carts_holding):
    withdrawn, _ = carts_holding
    staff_client.delete(f"/api/v1/books/{withdrawn.pk}")

    responses = run_together([lambda c=c: c.get(CART) for c in [client_for(user) for _ in range(6)]])

    assert [r.status_code for r in responses] == [200] * 6
    assert sorted(len(r.json()["notices"]) for r in responses) == [0, 0, 0, 0, 0, 1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(5))
def test_an_add_racing_the_withdrawal_leaves_no_line_of_the_book(monkeypatch, round_):
    from accounts.tests.factories import UserFactory
    from bookstore.tests.concurrency import meet_before
    from cart import services as cart_services
    from catalog import services as catalog_services

    book = BookFactory(stock=10)
    shopper, staff = UserFactory(), UserFactory(is_staff=True)
    CartItemFactory(cart=CartFactory(user=shopper), book=BookFactory())
    meet_before(monkeypatch, (cart_services, "cart_add_item"), (catalog_services, "books_withdraw"), parties=2)

    added, withdrawn = run_together(
        [
            lambda: client_for(shopper).post(ITEMS, {"book_id": book.pk}),
            lambda: client_for(staff).delete(f"/api/v1/books/{book.pk}"),
        ]
    )

    assert withdrawn.status_code == 204
    assert not CartItem.objects.filter(book=book).exists()
    notices = client_for(shopper).get(CART).json()["notices"]
    if added.status_code == 201:  # the add went first: the shopper is told the book left
        assert [n["book_id"] for n in notices] == [book.pk]
    else:  # the withdrawal went first
        assert (added.status_code, added.json()["errors"][0]["attr"]) == (400, "book_id")
        assert notices == []
