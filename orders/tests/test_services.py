from decimal import Decimal

import pytest

from cart.models import CartItem
from catalog.exceptions import InsufficientStockError
from catalog.models import Book, StockMovement
from catalog.tests.factories import BookFactory, stock_force
from orders import services
from orders.exceptions import EmptyCartError, IdempotencyKeyReusedError, InvalidTransitionError
from orders.models import Order
from orders.tests.factories import ADDRESS, cart_with, order_placed
from shipping.models import ShippingMethod

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("subtotal", "shipping"),
    [("0.01", "4.99"), ("34.99", "4.99"), ("35.00", "0.00"), ("35.01", "0.00"), ("1000.00", "0.00")],
)
def test_standard_shipping_is_flat_below_the_threshold_and_free_from_it(subtotal, shipping):
    """The migration made `standard` from SHIPPING_FLAT_RATE (4.99) and FREE_SHIPPING_THRESHOLD (35.00)."""
    standard = ShippingMethod.objects.get(code="standard")

    assert standard.everywhere
    assert standard.cost_for(subtotal=Decimal(subtotal)) == Decimal(shipping)


def test_request_fingerprint_ignores_key_order_but_not_values():
    reordered = dict(reversed(list(ADDRESS.items())))

    assert services.request_fingerprint(address=reordered) == services.request_fingerprint(address=ADDRESS)
    assert services.request_fingerprint(address=ADDRESS | {"city": "Bath"}) != services.request_fingerprint(
        address=ADDRESS
    )


def test_order_place_rejects_an_empty_cart(user):
    with pytest.raises(EmptyCartError):
        services.order_place(user=user, address=ADDRESS)

    assert not Order.objects.exists()


def test_order_place_with_a_short_line_writes_nothing(user):
    plenty, scarce = BookFactory(stock=9), BookFactory(stock=9)
    cart_with(user, (plenty, 1), (scarce, 5))
    stock_force(scarce.pk, 4)

    with pytest.raises(InsufficientStockError) as raised:
        services.order_place(user=user, address=ADDRESS)

    assert [(s.book_id, s.requested, s.available) for s in raised.value.shortages] == [(scarce.pk, 5, 4)]
    assert Book.objects.get(pk=plenty.pk).stock == 9
    assert not StockMovement.objects.exists()
    assert CartItem.objects.filter(cart__user=user).count() == 2


def test_order_place_names_withdrawn_and_short_books_together(user):
    withdrawn, short, fine = BookFactory(stock=9), BookFactory(stock=9), BookFactory(stock=9)
    cart_with(user, (withdrawn, 1), (short, 3), (fine, 1))
    Book.objects.filter(pk=withdrawn.pk).update(is_active=False)
    stock_force(short.pk, 2)

    with pytest.raises(InsufficientStockError) as raised:
        services.order_place(user=user, address=ADDRESS)

    assert [(s.book_id, s.available) for s in raised.value.shortages] == [(withdrawn.pk, 0), (short.pk, 2)]


def test_order_place_replays_a_key_with_the_same_body_and_refuses_another(user):
    cart_with(user, (BookFactory(), 1))
    first = services.order_place(user=user, address=ADDRESS, idempotency_key="abc")

    again = services.order_place(user=user, address=dict(ADDRESS), idempotency_key="abc")
    with pytest.raises(IdempotencyKeyReusedError):
        services.order_place(user=user, address=ADDRESS | {"phone": ""}, idempotency_key="abc")

    assert again.pk == first.pk
    assert Order.objects.count() == 1


def test_order_cancel_twice_is_refused_the_second_time(user, staff_user):
    book = BookFactory(stock=3)
    order = order_placed(user=user, lines=[(book, 3)])

    services.order_cancel(order=order, actor=staff_user)
    with pytest.raises(InvalidTransitionError):
        services.order_cancel(order=order, actor=staff_user)

    assert Book.objects.get(pk=book.pk).stock == 3


def test_order_set_status_refuses_skipping_a_step(user, staff_user):
    order = order_placed(user=user)

    with pytest.raises(InvalidTransitionError):
        services.order_set_status(order=order, status=Order.Status.SHIPPED, actor=staff_user)

    assert Order.objects.get(pk=order.pk).status == "pending"


def test_order_can_move_to_follows_the_arrows():
    order = Order(status=Order.Status.PAID)

    assert order.can_move_to(Order.Status.SHIPPED)
    assert order.can_cancel()
    assert not order.can_move_to(Order.Status.DELIVERED)
    assert not Order(status=Order.Status.SHIPPED).can_cancel()
