from decimal import Decimal

import pytest

from cart.models import Cart, CartItem
from cart.tests.factories import CartFactory, CartItemFactory
from catalog.models import Book
from catalog.tests.factories import BookFactory, stock_force

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart"
ITEMS = "/api/v1/cart/items"


def item_url(pk: int) -> str:
    return f"/api/v1/cart/items/{pk}"


def error_codes(response) -> list[tuple[str, str | None]]:
    return [(error["code"], error["attr"]) for error in response.json()["errors"]]


def test_get_cart_without_authentication_or_token_is_an_empty_cart_and_creates_nothing(api_client):
    response = api_client.get(CART)

    assert response.status_code == 200
    assert response.json() == {
        "items": [],
        "total_quantity": 0,
        "subtotal": "0.00",
        "currency": "USD",
        "updated_at": None,
        "cart_token": None,
        "notices": [],
    }
    assert "Cart-Token" not in response
    assert not Cart.objects.exists()


def test_get_cart_creates_an_empty_cart_on_first_use(user_client, user):
    assert not Cart.objects.filter(user=user).exists()

    response = user_client.get(CART)

    assert response.status_code == 200
    body = response.json()
    assert body["items"] == []
    assert body["total_quantity"] == 0
    assert body["subtotal"] == "0.00"
    assert body["currency"] == "USD"
    assert body["updated_at"]
    assert (body["cart_token"], body["notices"]) == (None, [])
    assert Cart.objects.filter(user=user).count() == 1


def test_add_item_returns_201_and_the_cart_in_the_contract_shape(user_client, user):
    book = BookFactory(price=Decimal("12.50"), stock=7)

    response = user_client.post(ITEMS, {"book_id": book.pk, "quantity": 2})

    assert response.status_code == 201
    body = response.json()
    line = CartItem.objects.get(cart__user=user)
    assert body["items"] == [
        {
            "id": line.pk,
            "book": {
                "id": book.pk,
                "title": book.title,
                "price": "12.50",
                "cover_url": None,
                "stock": 7,
                "in_stock": True,
            },
            "quantity": 2,
            "unit_price": "12.50",
            "line_total": "25.00",
            "available": True,
        }
    ]
    assert body["total_quantity"] == 2
    assert body["subtotal"] == "25.00"
    assert body["currency"] == "USD"


def test_add_item_quantity_defaults_to_one(user_client):
    book = BookFactory()

    response = user_client.post(ITEMS, {"book_id": book.pk})

    assert response.status_code == 201
    assert response.json()["items"][0]["quantity"] == 1


def test_add_item_accepts_a_trailing_slash(user_client):
    book = BookFactory()

    response = user_client.post(ITEMS + "/", {"book_id": book.pk})

    assert response.status_code == 201


def test_cover_url_is_absolute(user_client, user):
    book = BookFactory()
    Book.objects.filter(pk=book.pk).update(cover="covers/dune.jpg")
    CartItemFactory(cart=CartFactory(user=user), book=book)

    response = user_client.get(CART)

    assert response.json()["items"][0]["book"]["cover_url"] == "http://testserver/media/covers/dune.jpg"


def test_adding_the_same_book_again_adds_to_its_line(user_client, user):
    book = BookFactory(stock=10)

    user_client.post(ITEMS, {"book_id": book.pk, "quantity": 2})
    response = user_client.post(ITEMS, {"book_id": book.pk, "quantity": 3})

    assert response.status_code == 201
    assert [item["quantity"] for item in response.json()["items"]] == [5]
    assert CartItem.objects.get(cart__user=user).quantity == 5


def test_adding_more_than_the_stock_is_409_insufficient_stock(user_client, user):
    book = BookFactory(stock=3)

    response = user_client.post(ITEMS, {"book_id": book.pk, "quantity": 4})

    assert response.status_code == 409
    assert error_codes(response) == [("insufficient_stock", None)]
    assert response.json()["errors"][0]["meta"] == {"book_id": book.pk, "requested": 4, "available": 3}
    assert not CartItem.objects.filter(cart__user=user).exists()


def test_adding_to_a_line_beyond_the_stock_is_409_and_keeps_the_line(user_client, user):
    book = BookFactory(stock=5)
    user_client.post(ITEMS, {"book_id": book.pk, "quantity": 3})

    response = user_client.post(ITEMS, {"book_id": book.pk, "quantity": 3})

    assert response.status_code == 409
    assert error_codes(response) == [("insufficient_stock", None)]
    assert response.json()["errors"][0]["meta"] == {"book_id": book.pk, "requested": 6, "available": 5}
    assert CartItem.objects.get(cart__user=user).quantity == 3


def test_adding_to_a_line_beyond_100_copies_is_400(user_client, user):
    book = BookFactory(stock=500)
    user_client.post(ITEMS, {"book_id": book.pk, "quantity": 60})

    response = user_client.post(ITEMS, {"book_id": book.pk, "quantity": 50})

    assert response.status_code == 400
    assert error_codes(response) == [("max_value", "quantity")]
    assert CartItem.objects.get(cart__user=user).quantity == 60


@pytest.mark.parametrize(
    ("quantity", "code"), [(0, "min_value"), (-1, "min_value"), (101, "max_value"), ("lots", "invalid")]
)
def test_add_item_refuses_a_quantity_outside_1_to_100(user_client, user, quantity, code):
    book = BookFactory(stock=500)

    response = user_client.post(ITEMS, {"book_id": book.pk, "quantity": quantity})

    assert response.status_code == 400
    assert error_codes(response) == [(code, "quantity")]
    assert not CartItem.objects.filter(cart__user=user).exists()


def test_add_item_without_book_id_is_400(user_client):
    response = user_client.post(ITEMS, {"quantity": 1})

    assert response.status_code == 400
    assert error_codes(response) == [("required", "book_id")]


def test_adding_an_unknown_book_is_400_on_book_id(user_client):
    response = user_client.post(ITEMS, {"book_id": 999999})

    assert response.status_code == 400
    assert error_codes(response) == [("does_not_exist", "book_id")]


def test_adding_a_withdrawn_book_is_400_on_book_id(user_client, user):
    book = BookFactory(is_active=False, stock=10)

    response = user_client.post(ITEMS, {"book_id": book.pk})

    assert response.status_code == 400
    assert error_codes(response) == [("does_not_exist", "book_id")]
    assert not CartItem.objects.filter(cart__user=user).exists()


def test_patch_item_sets_the_quantity(user_client, user):
    line = CartItemFactory(cart=CartFactory(user=user), book=BookFactory(stock=10, price=Decimal("3.35")), quantity=1)

    response = user_client.patch(item_url(line.pk), {"quantity": 3})

    assert response.status_code == 200
    assert response.json()["items"][0]["quantity"] == 3
    assert response.json()["subtotal"] == "10.05"
    line.refresh_from_db()
    assert line.quantity == 3


@pytest.mark.parametrize(
    ("quantity", "code"), [(0, "min_value"), (101, "max_value"), ("lots", "invalid"), (None, "null")]
)
def test_patch_item_refuses_a_quantity_outside_1_to_100(user_client, user, quantity, code):
    line = CartItemFactory(cart=CartFactory(user=user), book=BookFactory(stock=500), quantity=2)

    response = user_client.patch(item_url(line.pk), {"quantity": quantity})

    assert response.status_code == 400
    assert error_codes(response) == [(code, "quantity")]
    line.refresh_from_db()
    assert line.quantity == 2


def test_patch_item_beyond_the_stock_is_409(user_client, user):
    line = CartItemFactory(cart=CartFactory(user=user), book=BookFactory(stock=4), quantity=2)

    response = user_client.patch(item_url(line.pk), {"quantity": 5})

    assert response.status_code == 409
    assert error_codes(response) == [("insufficient_stock", None)]
    line.refresh_from_db()
    assert line.quantity == 2


def test_patch_of_a_withdrawn_books_line_is_409(user_client, user):
    line = CartItemFactory(cart=CartFactory(user=user), book=BookFactory(stock=40, is_active=False), quantity=2)

    response = user_client.patch(item_url(line.pk), {"quantity": 3})

    assert response.status_code == 409
    assert error_codes(response) == [("insufficient_stock", None)]


def test_patch_of_another_users_line_is_404_and_changes_nothing(user_client, other_user):
    line = CartItemFactory(cart=CartFactory(user=other_user), quantity=1)

    response = user_client.patch(item_url(line.pk), {"quantity": 2})

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]
    line.refresh_from_db()
    assert line.quantity == 1


def test_delete_item_removes_the_line_and_returns_the_cart(user_client, user):
    cart = CartFactory(user=user)
    gone = CartItemFactory(cart=cart)
    kept = CartItemFactory(cart=cart)

    response = user_client.delete(item_url(gone.pk))

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [kept.pk]
    assert list(CartItem.objects.filter(cart=cart)) == [kept]


def test_delete_of_another_users_line_is_404_and_keeps_it(user_client, other_user):
    line = CartItemFactory(cart=CartFactory(user=other_user))

    response = user_client.delete(item_url(line.pk))

    assert response.status_code == 404
    assert CartItem.objects.filter(pk=line.pk).exists()


def test_delete_of_an_unknown_line_is_404(user_client):
    assert user_client.delete(item_url(123456)).status_code == 404


def test_delete_cart_empties_it(user_client, user, other_user):
    CartItemFactory.create_batch(2, cart=CartFactory(user=user))
    others = CartItemFactory(cart=CartFactory(user=other_user))

    response = user_client.delete(CART)

    assert response.status_code == 204
    assert response.content == b""
    assert not CartItem.objects.filter(cart__user=user).exists()
    assert CartItem.objects.filter(pk=others.pk).exists()
    assert user_client.get(CART).json()["items"] == []


def test_cart_shows_current_prices(user_client, user):
    book = BookFactory(price=Decimal("12.50"))
    user_client.post(ITEMS, {"book_id": book.pk, "quantity": 2})
    Book.objects.filter(pk=book.pk).update(price=Decimal("15.00"))

    body = user_client.get(CART).json()

    assert body["items"][0]["unit_price"] == "15.00"
    assert body["items"][0]["line_total"] == "30.00"
    assert body["subtotal"] == "30.00"


def test_cart_money_is_exact_to_the_cent(user_client, user):
    cart = CartFactory(user=user)
    CartItemFactory(cart=cart, book=BookFactory(price=Decimal("0.10"), stock=50), quantity=3)
    CartItemFactory(cart=cart, book=BookFactory(price=Decimal("19.99"), stock=50), quantity=3)
    CartItemFactory(cart=cart, book=BookFactory(price=Decimal("0.01"), stock=50), quantity=7)

    body = user_client.get(CART).json()

    assert [item["line_total"] for item in body["items"]] == ["0.30", "59.97", "0.07"]
    assert body["subtotal"] == "60.34"
    assert body["total_quantity"] == 13


def test_a_withdrawn_books_line_is_unavailable_and_left_out_of_the_totals(user_client, user):
    cart = CartFactory(user=user)
    kept = CartItemFactory(cart=cart, book=BookFactory(price=Decimal("10.00")), quantity=2)
    withdrawn = CartItemFactory(cart=cart, book=BookFactory(price=Decimal("7.00")), quantity=1)
    Book.objects.filter(pk=withdrawn.book_id).update(is_active=False)

    body = user_client.get(CART).json()

    assert [(item["id"], item["available"]) for item in body["items"]] == [(kept.pk, True), (withdrawn.pk, False)]
    assert body["items"][1]["line_total"] == "7.00"
    assert body["subtotal"] == "20.00"
    assert body["total_quantity"] == 2


def test_a_line_beyond_the_current_stock_is_unavailable_but_still_counted(user_client, user):
    line = CartItemFactory(cart=CartFactory(user=user), book=BookFactory(price=Decimal("5.00"), stock=10), quantity=3)
    stock_force(line.book_id, 2)

    body = user_client.get(CART).json()

    assert body["items"][0]["available"] is False
    assert body["items"][0]["book"]["stock"] == 2
    assert body["subtotal"] == "15.00"
    assert body["total_quantity"] == 3


def test_cart_get_runs_a_constant_number_of_queries(user_client, user, queries_of):
    cart = CartFactory(user=user)
    CartItemFactory(cart=cart)
    user_client.get(CART)  # the user's row is read once, then cached
    with_one_line = queries_of(lambda: user_client.get(CART))
    CartItemFactory.create_batch(9, cart=cart)

    with_ten_lines = queries_of(lambda: user_client.get(CART))

    assert len(with_ten_lines) == len(with_one_line) == 2  # the cart, its lines with their books


def test_cart_add_runs_a_constant_number_of_queries(user_client, user, queries_of):
    cart = CartFactory(user=user)
    CartItemFactory(cart=cart)
    first, second = BookFactory.create_batch(2)
    user_client.get(CART)
    with_one_line = queries_of(lambda: user_client.post(ITEMS, {"book_id": first.pk}))
    CartItemFactory.create_batch(8, cart=cart)

    with_ten_lines = queries_of(lambda: user_client.post(ITEMS, {"book_id": second.pk}))

    # lock and touch the cart, the lines' books with the added one, hold the added book (a
    # withdrawal waits for it), insert (BEGIN/COMMIT aside)
    statements = [sql for sql in with_ten_lines if sql not in {"BEGIN", "COMMIT"}]
    assert len(with_ten_lines) == len(with_one_line)
    assert len(statements) == 4, statements
