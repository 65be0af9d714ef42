"""The customer's own data: everything the store holds about them, and closing the account with erasure.

Erasure keeps the shop's books balanced: orders, their lines, stock movements and payments
stay, with every personal field of the order (name, address lines, city, postal code, phone,
email) replaced by `ERASED`; the country stays for the tax records. The user row stays too
(orders and reviews point at it), closed and emptied: no name, an address at the reserved
`.invalid` domain, no usable password. Addresses and carts are deleted; reviews stay, under the
"Reader N" name a user without a first name shows.
"""

from typing import Any

from django.db import transaction

from accounts.models import User
from accounts.services import refresh_tokens_revoke_all
from addresses.models import Address
from cart.models import Cart
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


@transaction.atomic
def customer_erase(*, user: User) -> None:
    """Closes the account at once and erases its personal data (see the module's docstring)."""
    user = User._base_manager.select_for_update().get(pk=user.pk)
    Order.objects.filter(user=user).update(**dict.fromkeys(ORDER_PERSONAL_FIELDS, ERASED))
    Address.objects.filter(user=user).delete()
    Cart.objects.filter(user=user).delete()
    refresh_tokens_revoke_all(user=user)
    user.email = f"erased-{user.pk}@erased.invalid"
    user.first_name = user.last_name = ""
    user.is_active = False  # refused at once, whatever access token it still holds (accounts.access)
    user.is_email_verified = False
    user.set_unusable_password()
    user.save()
