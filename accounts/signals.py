"""What accounts tells the apps above it, which it does not import (cart, orders, customers).

- `signed_in` (sender: `User`; `user`, `cart_token`), sent by each sign-in (register, token
  login, cookie login) before the response is built. A receiver returns a dict of fields for the
  sign-in's response (the cart's: `{"cart_merge": ...}`), or None; `signed_in_fields` collects
  them. A receiver must not raise: the sign-in has happened.
- `email_verified` (sender: `User`; `user`), sent once a user's address is verified (orders
  claim the guest orders placed with it).
- `account_closing` (sender: `User`; `user`), sent inside the closing transaction with the
  user's row locked, before the row is emptied: each app erases the personal data it holds
  (customers: orders' personal fields, addresses, carts). An error rolls the closing back.
"""

from typing import Any, cast

from django.dispatch import Signal

signed_in = Signal()
email_verified = Signal()
account_closing = Signal()


def signed_in_fields(*, user, cart_token: str | None) -> dict:
    """Sends `signed_in`; the fields its receivers return for the response (`cart_merge` is null without one)."""
    fields: dict = {"cart_merge": None}
    for _receiver, returned in signed_in.send(sender=type(user), user=user, cart_token=cart_token):
        # The stubs type a receiver's return as `str | None`; `signed_in` receivers return a dict or None.
        fields |= cast("dict[str, Any] | None", returned) or {}
    return fields
