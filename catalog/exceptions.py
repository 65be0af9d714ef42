"""Errors of the catalog domain, each with a stable code for clients."""

from dataclasses import dataclass

from rest_framework import status
from rest_framework.exceptions import APIException, ErrorDetail


@dataclass(frozen=True)
class Shortage:
    book_id: int
    title: str
    requested: int
    available: int

    @classmethod
    def for_sale(cls, *, book, requested: int) -> "Shortage":
        """What a customer asking for `requested` copies lacks: a withdrawn book has none to sell."""
        return cls(
            book_id=book.pk, title=book.title, requested=requested, available=book.stock if book.is_active else 0
        )


class InsufficientStockError(APIException):
    """409 `insufficient_stock`, one error per book that lacks stock."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "insufficient_stock"
    default_detail = "Not enough stock."

    def __init__(self, shortages: list[Shortage]):
        self.shortages = shortages
        super().__init__(
            detail=[
                ErrorDetail(
                    f"Not enough stock of “{s.title}” (book {s.book_id}): "
                    f"{s.requested} requested, {s.available} available.",
                    code=self.default_code,
                )
                for s in shortages
            ]
        )


class ProtectedError(APIException):
    """409 `protected`: the object is still referred to (a category or author with books)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "protected"
    default_detail = "This object is still in use and cannot be deleted."


class FileTooLargeError(APIException):
    """413 `file_too_large`: an upload above the size limit."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "file_too_large"
    default_detail = "The file is too large."
