"""Errors of the payments domain, each with a stable code for clients."""

from bookstore.exceptions import ConflictError, DomainError, FieldError, NotFoundError


class PaymentProviderUnavailableError(DomainError):
    status = 503
    code = "payment_provider_unavailable"
    type = "server_error"
    default_detail = "The payment provider did not answer; nothing was charged or changed. Try again shortly."


class RefundExceedsPaidError(ConflictError):
    code = "refund_exceeds_paid"
    default_detail = "The refund would exceed what was paid."

    def __init__(self, *, requested, refundable):
        super().__init__(
            f"At most {refundable} can be refunded on this order.",
            meta={"requested": str(requested), "refundable": str(refundable)},
        )


class InvalidRefundError(FieldError):
    """A refund line that names a book not in the order, or more copies than are left to return."""

    code = "invalid"


class WebhookSignatureError(DomainError):
    code = "invalid_signature"
    default_detail = "The Stripe-Signature header is missing or does not match."


class StripeDisabledError(NotFoundError):
    """404 `not_found`: card payments are off (no Stripe secrets), so the webhook is not there."""
