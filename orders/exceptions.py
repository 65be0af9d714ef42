"""Errors of the orders domain, each with a stable code for clients."""

from rest_framework import status
from rest_framework.exceptions import APIException


class EmptyCartError(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "empty_cart"
    default_detail = "Your cart is empty."


class InvalidTransitionError(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "invalid_transition"
    default_detail = "The order cannot move to that status."

    def __init__(self, *, current: str, target: str):
        super().__init__(f"An order cannot move from “{current}” to “{target}”.")


class IdempotencyKeyReusedError(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was already used with a different request body."
