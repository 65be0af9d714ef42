"""Orders are built the way customers build them: a cart, then `order_place`."""

from cart.tests.factories import CartFactory, CartItemFactory
from catalog.tests.factories import BookFactory
from orders import services
from orders.models import Order

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "line2": "",
    "city": "London",
    "region": "",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
    "phone": "+44 20 7946 0000",
}


def cart_with(user, *lines):
    """Fills `user`'s cart with `(book, quantity)` lines."""
    cart = CartFactory(user=user)
    for book, quantity in lines:
        CartItemFactory(cart=cart, book=book, quantity=quantity)
    return cart


def order_placed(*, user, lines=None, status: str | None = None) -> Order:
    """An order checked out through the service; `status` then jumps it to a later state (test set-up only)."""
    cart_with(user, *(lines or [(BookFactory(), 1)]))
    order = services.order_place(user=user, address=dict(ADDRESS))
    if status is not None:
        Order.objects.filter(pk=order.pk).update(status=status)
        order.refresh_from_db()
    return order
