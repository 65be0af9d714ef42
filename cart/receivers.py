"""What the cart does when accounts tells it something (`accounts.signals`)."""

from cart.serializers import clean_cart_token
from cart.services import cart_merge


def cart_merge_on_sign_in(sender, *, user, cart_token, **kwargs) -> dict:
    """`signed_in`: the anonymous cart of the sign-in's `cart_token` joins the user's; the response reports it."""
    return {"cart_merge": cart_merge(user=user, token=clean_cart_token(cart_token))}
