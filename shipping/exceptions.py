"""Errors of shipping."""

from bookstore.exceptions import DomainError


class ShippingUnavailableError(DomainError):
    """400 on `shipping_method`: no such method, or it does not deliver to the address's country."""

    code = "shipping_unavailable"

    def __init__(self, *, method: str, country: str):
        super().__init__(
            f"The shipping method “{method}” does not deliver to {country}.",
            attr="shipping_method",
            meta={"shipping_method": method, "country": country},
        )
