"""Errors of the cart domain."""

from rest_framework.exceptions import ValidationError


def book_unavailable_error() -> ValidationError:
    """400 on `book_id`: the book does not exist or was withdrawn from the catalog."""
    return ValidationError({"book_id": ["No book in the catalog with this id."]}, code="does_not_exist")


def quantity_too_large_error(*, in_cart: int) -> ValidationError:
    """400 on `quantity`: a line holds at most 100 copies, counting what is already in the cart."""
    return ValidationError(
        {"quantity": [f"A cart line holds at most 100 copies ({in_cart} already in the cart)."]},
        code="max_value",
    )
