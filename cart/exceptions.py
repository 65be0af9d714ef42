"""Errors of the cart domain."""

from bookstore.exceptions import FieldError, NotFoundError


class BookUnavailableError(FieldError):
    """400 on `book_id`: the book does not exist or was withdrawn from the catalog."""

    attr = "book_id"
    code = "does_not_exist"
    default_detail = "No book in the catalog with this id."


class QuantityTooLargeError(FieldError):
    """400 on `quantity`: a line holds at most 100 copies, counting what is already in the cart."""

    code = "max_value"

    def __init__(self, *, in_cart: int, limit: int):
        super().__init__(
            f"A cart line holds at most {limit} copies ({in_cart} already in the cart).",
            attr="quantity",
            meta={"in_cart": in_cart, "max_quantity": limit},
        )


class CartLineNotFoundError(NotFoundError):
    default_detail = "No such line in your cart."


class CartNotFoundError(NotFoundError):
    default_detail = "No cart for this Cart-Token: it is unknown, expired or already merged."
