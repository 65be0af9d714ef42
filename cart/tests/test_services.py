import pytest

from cart import services
from cart.models import Cart, CartItem
from cart.tests.factories import CartFactory, CartItemFactory
from catalog.exceptions import InsufficientStockError
from catalog.models import Book
from catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db


def test_cart_get_creates_the_cart_once(user):
    first = services.cart_get(user=user)
    second = services.cart_get(user=user)

    assert first.pk == second.pk
    assert Cart.objects.filter(user=user).count() == 1


def test_cart_add_item_names_the_book_when_stock_is_short(user):
    book = BookFactory(stock=1, title="Dune")

    with pytest.raises(InsufficientStockError) as raised:
        services.cart_add_item(user=user, book_id=book.pk, quantity=2)

    [shortage] = raised.value.shortages
    assert (shortage.book_id, shortage.title, shortage.requested, shortage.available) == (book.pk, "Dune", 2, 1)


def test_cart_update_item_counts_a_withdrawn_book_as_out_of_stock(user):
    line = CartItemFactory(cart=CartFactory(user=user), book=BookFactory(stock=9), quantity=1)
    Book.objects.filter(pk=line.book_id).update(is_active=False)

    with pytest.raises(InsufficientStockError) as raised:
        services.cart_update_item(user=user, item_id=line.pk, quantity=2)

    assert raised.value.shortages[0].available == 0


def test_cart_clear_touches_only_the_users_cart(user, other_user):
    CartItemFactory(cart=CartFactory(user=user))
    others = CartItemFactory(cart=CartFactory(user=other_user))

    services.cart_clear(user=user)

    assert list(CartItem.objects.all()) == [others]


def test_cart_add_item_moves_updated_at(user):
    cart = CartFactory(user=user)
    before = cart.updated_at

    services.cart_add_item(user=user, book_id=BookFactory().pk, quantity=1)

    cart.refresh_from_db()
    assert cart.updated_at > before
