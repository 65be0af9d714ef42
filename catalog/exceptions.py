"""Errors of the catalog domain, each with a stable code for clients."""

from dataclasses import dataclass

from bookstore.exceptions import ConflictError, DomainError, FieldError, error_item


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

    def meta(self) -> dict:
        return {"book_id": self.book_id, "requested": self.requested, "available": self.available}


class InsufficientStockError(ConflictError):
    """409 `insufficient_stock`: one error per short book, each with `meta` {book_id, requested, available}."""

    code = "insufficient_stock"
    default_detail = "Not enough stock."

    def __init__(self, shortages: list[Shortage]):
        self.shortages = shortages
        super().__init__(meta={"shortages": [s.meta() for s in shortages]})

    def errors(self) -> list[dict]:
        return [
            error_item(
                code=self.code,
                detail=f"Not enough stock of “{s.title}”: {s.requested} requested, {s.available} available.",
                meta=s.meta(),
            )
            for s in self.shortages
        ]


class InUseError(ConflictError):
    """409 `protected`: the object is still referred to (a category or author with books)."""

    code = "protected"
    default_detail = "This object is still in use and cannot be deleted."


class FileTooLargeError(DomainError):
    """413 `file_too_large`: an upload above the size limit."""

    status = 413
    code = "file_too_large"
    default_detail = "The file is too large."


class MissingReferenceError(FieldError):
    """400 `does_not_exist` on a field naming objects that do not exist (or were deleted meanwhile)."""

    code = "does_not_exist"
    default_detail = "No such object."


class CategoryCycleError(FieldError):
    """400 `cycle` on `parent_id`: the category would end up under itself."""

    attr = "parent_id"
    code = "cycle"
    default_detail = "A category cannot be placed under itself or one of its sub-categories."


class StockChangedError(ConflictError):
    """409 `stock_changed`: a stock level set over one that has changed since the caller read it.

    `meta` {book_id, expected, current}: a sale or another edit moved it meanwhile; read it and try again.
    """

    code = "stock_changed"
    default_detail = "The stock changed while you were editing."

    def __init__(self, *, book_id: int, expected: int, current: int):
        super().__init__(
            f"The stock changed from {expected} to {current} while you were editing "
            "(a sale or another edit). Check it and save again.",
            attr="stock",
            meta={"book_id": book_id, "expected": expected, "current": current},
        )


class AlreadyReportedError(ConflictError):
    """409 `already_reported`: a user reports a review once."""

    code = "already_reported"
    default_detail = "You have already reported this review."
