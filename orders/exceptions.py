"""Errors of the orders domain, each with a stable code for clients."""

from bookstore.exceptions import ConflictError, DomainError


class EmptyCartError(DomainError):
    code = "empty_cart"
    default_detail = "Your cart is empty."


class InvalidTransitionError(ConflictError):
    code = "invalid_transition"
    default_detail = "The order cannot move to that status."

    def __init__(self, *, current: str, target: str):
        super().__init__(
            f"An order cannot move from “{current}” to “{target}”.", meta={"current": current, "target": target}
        )


class IdempotencyKeyReusedError(ConflictError):
    code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was already used with a different request body."


class InvoiceNotIssuableError(ConflictError):
    code = "invoice_not_issuable"
    default_detail = "An invoice is issued only for a paid order."

    def __init__(self, *, current: str):
        super().__init__(
            f"An order that is “{current}” gets no invoice: only paid orders do.", meta={"current": current}
        )
