"""The customer's own data: everything the store holds about them, and closing the account with erasure.

Erasure keeps the shop's books balanced: orders, their lines, stock movements and payments
stay, with every personal field of the order (name, address lines, city, postal code, phone,
email) replaced by `ERASED`; the country stays for the tax records. Addresses and carts are
deleted; reviews stay, under the "Reader N" name a user without a first name shows. The user
row stays too (orders and reviews point at it), closed and emptied by
`accounts.services.user_close`, which sends the signal this module's `customer_data_erase`
receives.
"""

from typing import Any

from django.db import transaction

from accounts.models import User
from accounts.services import refresh_tokens_revoke_all, users_update
from addresses.models import Address
from cart.models import Cart
from catalog.exceptions import InUseError
from catalog.models import Review
from orders.models import Order

ERASED = "erased"
ORDER_PERSONAL_FIELDS = [
    "email",
    "shipping_full_name",
    "shipping_line1",
    "shipping_line2",
    "shipping_city",
    "shipping_region",
    "shipping_postal_code",
    "shipping_phone",
]


def customer_export(*, user: User) -> dict[str, Any]:
    """The caller's data as JSON-ready data: profile, addresses, orders with their lines, reviews, carts."""
    from accounts.serializers import ProfileSerializer
    from addresses.serializers import AddressSerializer
    from orders.serializers import OrderSerializer

    orders = Order.objects.filter(user=user).with_details().order_by("created_at", "id")
    carts = Cart.objects.for_user(user).with_lines()
    return {
        "profile": ProfileSerializer(user).data,
        "addresses": AddressSerializer(Address.objects.for_user(user), many=True).data,
        "orders": OrderSerializer(orders, many=True).data,
        "reviews": [
            {
                "id": review.pk,
                "book_id": review.book_id,
                "rating": review.rating,
                "title": review.title,
                "body": review.body,
                "created_at": review.created_at.isoformat(),
            }
            for review in Review.objects.filter(user=user).order_by("id")
        ],
        "carts": [
            {
                "items": [
                    {"book_id": line.book_id, "title": line.book.title, "quantity": line.quantity}
                    for line in cart.lines
                ],
                "updated_at": cart.updated_at.isoformat(),
            }
            for cart in carts
        ],
    }


def customer_data_erase(sender: type[User], *, user: User, **kwargs: Any) -> None:
    """`accounts.signals.account_closing`: the orders' personal fields, the addresses and the carts (see above)."""
    Order.objects.filter(user=user).update(**dict.fromkeys(ORDER_PERSONAL_FIELDS, ERASED))
    Address.objects.filter(user=user).delete()
    Cart.objects.filter(user=user).delete()


def customer_has_orders(*, user: User) -> bool:
    return Order.objects.filter(user=user).exists()


@transaction.atomic
def customer_deactivate(*, user: User) -> bool:
    """Closes the account (the back office's "Deactivate"): refused at once, whatever tokens it holds;
    its orders, addresses and reviews stay. Returns whether it was active."""
    changed = users_update(users=User.objects.filter(pk=user.pk, is_active=True), is_active=False)
    if changed:  # refused at once: the cached user stops counting (accounts.user_cache)
        refresh_tokens_revoke_all(user=user)
    user.is_active = False
    return bool(changed)


def customer_reactivate(*, user: User) -> bool:
    changed = users_update(users=User.objects.filter(pk=user.pk, is_active=False), is_active=True)
    user.is_active = True
    return bool(changed)


@transaction.atomic
def customer_delete(*, user: User) -> None:
    """Deletes an account without orders (made by mistake, or a test); one with orders raises `InUseError`."""
    locked = User._base_manager.select_for_update().filter(pk=user.pk).first()
    if locked is None:
        return
    if customer_has_orders(user=locked):
        raise InUseError("This customer has orders; deactivate the account instead.")
    locked.delete()
