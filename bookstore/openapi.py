"""The OpenAPI schema's shared error responses and the schema class that adds them to every operation.

drf-standardized-errors documents 400/401/403/404/405/406/415/429/500 per view. This module adds
what our exception handler (`bookstore.exceptions`) answers besides: 413 for a body above the
limit on every operation that takes one, 503 for a lost database (or, on the `auth` and
`checkout` scopes, a lost throttle cache) on every operation, and the 401 codes that the token
checks really send. 409 stays per view (`CONFLICT_RESPONSE`, or an app's own serializer with
its codes), because only some operations can conflict.
"""

from django.db import models
from drf_spectacular.utils import OpenApiResponse
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class ErrorCode401Enum(models.TextChoices):
    AUTHENTICATION_FAILED = "authentication_failed"
    NOT_AUTHENTICATED = "not_authenticated"
    TOKEN_NOT_VALID = "token_not_valid"
    NO_ACTIVE_ACCOUNT = "no_active_account"
    BAD_AUTHORIZATION_HEADER = "bad_authorization_header"
    USER_NOT_FOUND = "user_not_found"
    USER_INACTIVE = "user_inactive"


class _ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)
    meta = serializers.DictField(
        required=False,
        help_text="Machine-readable details of the error, when it has any "
        "(`insufficient_stock`: `book_id`, `requested`, `available`).",
    )


class Error400Serializer(_ErrorSerializer):
    code = serializers.CharField(help_text="`required`, `invalid`, `unique`, `empty_cart`, `parse_error`…")
    attr = serializers.CharField(allow_null=True, help_text="The field's dotted path, or null.")


class ErrorResponse400Serializer(serializers.Serializer):
    """400, open-ended: the per-field codes come from DRF, Django's validators and the domain (`empty_cart`…)."""

    type = serializers.ChoiceField(choices=[("validation_error", "validation_error"), ("client_error", "client_error")])
    errors = Error400Serializer(many=True)


class Error401Serializer(_ErrorSerializer):
    code = serializers.ChoiceField(choices=ErrorCode401Enum.choices)


class ErrorResponse401Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = Error401Serializer(many=True)


class Error409Serializer(_ErrorSerializer):
    code = serializers.CharField(
        help_text="`insufficient_stock`, `invalid_transition`, `idempotency_key_reused` or `protected`."
    )


class ErrorResponse409Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = Error409Serializer(many=True)


class Error413Serializer(_ErrorSerializer):
    code = serializers.CharField(help_text="`request_too_large` or `file_too_large`.")


class ErrorResponse413Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = Error413Serializer(many=True)


class Error503Serializer(_ErrorSerializer):
    code = serializers.CharField(help_text="`service_unavailable`; retry after `Retry-After` seconds.")


class ErrorResponse503Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ServerErrorEnum.choices)
    errors = Error503Serializer(many=True)


CONFLICT_RESPONSE = OpenApiResponse(ErrorResponse409Serializer, description="Conflict with the current state.")
UNAUTHORIZED_RESPONSE = OpenApiResponse(
    ErrorResponse401Serializer, description="Wrong credentials, or a token that is invalid, expired or revoked."
)


class AutoSchema(StandardizedErrorsAutoSchema):
    def get_auth(self):
        # A scheme with several names (the bearer header and the access_token cookie) is a choice
        # between them, not both at once: one security requirement per name.
        requirements = super().get_auth()
        auth = [{name: scopes} for requirement in requirements for name, scopes in requirement.items()]
        if {} in requirements:
            auth.append({})
        # Permissions that let anyone read (`anonymous_reads = True`) make the token optional on reads.
        permissions = self.view.get_permissions()
        if (
            self.method in SAFE_METHODS
            and {} not in auth
            and any(getattr(permission, "anonymous_reads", False) for permission in permissions)
        ):
            auth.append({})
        return auth

    def _get_request_for_media_type(self, serializer, direction="request"):
        # drf-spectacular documents every PATCH body as partial; a view that validates its PATCH body
        # whole (`partial_on_patch = False` on the serializer) needs its required fields required.
        if self.method == "PATCH" and getattr(serializer, "partial_on_patch", True) is False:
            self.method = "PUT"
            try:
                return super()._get_request_for_media_type(serializer, direction)
            finally:
                self.method = "PATCH"
        return super()._get_request_for_media_type(serializer, direction)

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        from bookstore.exceptions import exception_handler

        if status_code in responses:
            return False
        if self.view.get_exception_handler() is not exception_handler:
            return super()._should_add_error_response(responses, status_code)
        if status_code == "400":
            return self._should_add_parse_error_response() or self._should_add_validation_error_response()
        if status_code == "413":
            return self.method in BODY_METHODS
        if status_code == "503":
            return True
        should_add = getattr(self, f"_should_add_http{status_code}_error_response", None)
        return should_add() if should_add else True
