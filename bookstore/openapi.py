"""The OpenAPI schema's error responses: every operation lists, per status, the exact codes it can answer.

drf-standardized-errors documents 400/401/403/404/405/406/415/429/500 per view, and computes each
operation's 400 codes from its serializer or filter fields (`required`, `max_length`, `unique`…);
a view adds the codes its own code raises with the package's `extend_validation_errors`
(`empty_cart`, `invalid_token`…). This module adds what our exception handler and middleware
answer besides: 413 for a body above the limit, 414 for an over-long URL, 503 for a lost
database, the 401 codes that the token checks really send, and 409 per view with its codes
(`conflict_response("insufficient_stock")`), because only some operations can conflict.

The `error_codes_per_operation` hook then gives each operation and status one flat error shape
whose `code` is an enum of exactly those codes: `{"type", "errors": [{"code", "detail", "attr", "meta"?}]}`.
"""

import copy
import functools
from typing import ClassVar

from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum
from inflection import camelize
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
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


class ResponseFieldsRequired(OpenApiSerializerExtension):
    """Every field of a response body is required in the schema: DRF writes every readable field.

    drf-spectacular marks a response field required only when it is read-only or required on
    input, so a writable field with a default (an author's `bio`) looked optional to generated
    clients, though every answer carries it. A serializer whose answers really leave a field out
    lists it in `optional_response_fields`. Request bodies keep DRF's own rule (a field with a
    default, or `required=False`, is optional).
    """

    target_class = serializers.Serializer
    match_subclasses = True
    priority = -1  # the specific extensions (simplejwt's serializers...) go first

    @classmethod
    def _matches(cls, target) -> bool:
        return super()._matches(target) and not isinstance(target, PolymorphicProxySerializer)

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction != "response" or "properties" not in schema:
            return schema
        optional = set(getattr(self.target, "optional_response_fields", ()))
        required = [name for name in schema["properties"] if name not in optional]
        if required:
            schema["required"] = required
        return schema


class _ErrorSerializer(serializers.Serializer):
    optional_response_fields = ("meta",)

    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)
    meta = serializers.DictField(
        required=False,
        help_text="Machine-readable details of the error, when it has any "
        "(`insufficient_stock`: `book_id`, `requested`, `available`).",
    )


class Error401Serializer(_ErrorSerializer):
    code = serializers.ChoiceField(choices=ErrorCode401Enum.choices)  # type: ignore[assignment]  # a narrower `code`


class ErrorResponse401Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    # A field named `errors` shadows `Serializer.errors` in the stubs, not at run time.
    errors = Error401Serializer(many=True)  # type: ignore[assignment]


def error_response_serializer(status: int, codes: list[str], *, name: str, server: bool = False):
    """An error body whose `code` is one of `codes` (a serializer class named `name` in the schema)."""
    error = type(
        f"{name}ItemSerializer",
        (_ErrorSerializer,),
        {"code": serializers.ChoiceField(choices=[(code, code) for code in codes])},
    )
    error.Meta = type("Meta", (), {"ref_name": f"{name}Item"})  # type: ignore[attr-defined]  # a class made here
    body = type(
        f"{name}Serializer",
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=(ServerErrorEnum if server else ClientErrorEnum).choices),
            "errors": error(many=True),
        },
    )
    body.Meta = type("Meta", (), {"ref_name": name})  # type: ignore[attr-defined]
    return body


@functools.cache
def _conflict_serializer(codes: tuple[str, ...]):
    name = "Conflict" + "".join(code.title().replace("_", "") for code in codes)
    return error_response_serializer(409, list(codes), name=name)


def conflict_response(*codes: str, description: str = "Conflict with the current state.") -> OpenApiResponse:
    """A 409 answer whose errors carry one of `codes` (`insufficient_stock`, `invalid_transition`…)."""
    return OpenApiResponse(_conflict_serializer(tuple(sorted(codes))), description=description)


ErrorResponse409Serializer = error_response_serializer(
    409, ["insufficient_stock", "invalid_transition", "idempotency_key_reused", "protected"], name="ErrorResponse409"
)
ErrorResponse413Serializer = error_response_serializer(413, ["request_too_large"], name="ErrorResponse413")
ErrorResponse414Serializer = error_response_serializer(414, ["uri_too_long"], name="ErrorResponse414")
ErrorResponse503Serializer = error_response_serializer(
    503, ["service_unavailable"], name="ErrorResponse503", server=True
)
FILE_TOO_LARGE_RESPONSE = OpenApiResponse(
    error_response_serializer(413, ["file_too_large", "request_too_large"], name="FileTooLarge"),
    description="The file or the request body is above the size limit.",
)
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

    def map_parsers(self):
        # Bodies are documented as JSON (PARSER_WHITELIST); a view whose only parser is another
        # (the cover upload: multipart) is documented with its own.
        return super().map_parsers() or [parser.media_type for parser in self.view.get_parsers()]

    def resolve_serializer(self, serializer, direction, bypass_extensions=False):
        # drf-spectacular documents every PATCH body as partial; a view that validates its PATCH body
        # whole (`partial_on_patch = False` on the serializer) needs its required fields required.
        if getattr(serializer, "partial", False) and getattr(serializer, "partial_on_patch", True) is False:
            serializer = copy.copy(serializer)
            serializer.partial = False
        return super().resolve_serializer(serializer, direction, bypass_extensions)


def body_limit_only_on_bodies(result, generator, request, public):
    """A postprocessing hook: 413 (a body above the size limit) only where a request can carry a body.

    drf-standardized-errors adds each extra status of `ALLOWED_ERROR_STATUS_CODES` to every
    operation; a GET or a DELETE never reads a body, so it cannot answer 413.
    """
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if isinstance(operation, dict) and method.upper() not in BODY_METHODS:
                operation.get("responses", {}).pop("413", None)
    return result


# Codes that any operation may answer with a 400, whatever its fields: a query parameter given
# twice (bookstore.middleware) or malformed; and, with a body, one that cannot be parsed.
QUERY_400_CODES = ["multiple_values"]
PAGINATED_400_CODES = ["invalid"]
BODY_400_CODES = ["parse_error", "bad_request"]
ERROR_STATUSES = ("4", "5")


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _collect(schema: dict, node, codes: set, types: set) -> None:
    """The `code` and `type` enums anywhere in an error body's schema (through refs and oneOf)."""
    if isinstance(node, list):
        for item in node:
            _collect(schema, item, codes, types)
        return
    if not isinstance(node, dict):
        return
    node = _resolve(schema, node)
    properties = node.get("properties", {})
    for name, target in (("code", codes), ("type", types)):
        if name in properties:
            target.update(value for value in _resolve(schema, properties[name]).get("enum", []) if value)
    for key in ("properties", "items", "oneOf", "anyOf", "allOf"):
        if key in node:
            value = node[key]
            _collect(schema, list(value.values()) if key == "properties" else value, codes, types)


def _error_body(codes: list[str], types: list[str]) -> dict:
    return {
        "type": "object",
        "required": ["type", "errors"],
        "properties": {
            "type": {"type": "string", "enum": types},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "detail", "attr"],
                    "properties": {
                        "code": {"type": "string", "enum": codes},
                        "detail": {"type": "string", "description": "For people; never parse it."},
                        "attr": {
                            "type": "string",
                            "nullable": True,
                            "description": "The request field the error is about (dotted path), or null.",
                        },
                        "meta": {
                            "type": "object",
                            "additionalProperties": {},
                            "description": "Machine-readable details, when the error has any "
                            "(`insufficient_stock`: `book_id`, `requested`, `available`).",
                        },
                    },
                },
            },
        },
    }


def _referenced(schema: dict) -> set[str]:
    seen: set[str] = set()
    pending = [schema["paths"]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    pending.append(schema["components"]["schemas"][name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return seen


def error_codes_per_operation(result, generator, request, public):
    """A postprocessing hook: one flat error body per operation and status, its `code` an exact enum.

    drf-standardized-errors describes a 400 as a oneOf per field (`attr` as the discriminator);
    clients want the list of codes an operation can answer, so the codes of every branch become
    one enum. The codes any operation may answer (a repeated query parameter, an unreadable body)
    are added here, once. Components that nothing refers to any more are dropped.
    """
    components = result.setdefault("components", {}).setdefault("schemas", {})
    flat: dict[str, dict] = {}
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            query = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json")
                if not status.startswith(ERROR_STATUSES) or content is None:
                    continue
                codes: set[str] = set()
                types: set[str] = set()
                _collect(result, content["schema"], codes, types)
                if status == "400":
                    codes.update(QUERY_400_CODES)
                    types.add("validation_error")
                    if "page" in query:
                        codes.update(PAGINATED_400_CODES)
                    if "requestBody" in operation:
                        codes.update(BODY_400_CODES)
                        types.add("client_error")
                # The body keeps the name of the component it replaces (`ErrorResponse404`,
                # drf-standardized-errors' `BooksCreateErrorResponse400`, `ConflictInsufficientStock`).
                ref = content["schema"].get("$ref", "")
                name = ref.rsplit("/", 1)[-1] or f"{camelize(operation['operationId'])}ErrorResponse{status}"
                flat[name] = _error_body(sorted(codes), sorted(types))
                content["schema"] = {"$ref": f"#/components/schemas/{name}"}
    components.update(flat)
    for name in set(components) - _referenced(result):
        del components[name]
    return result


class SchemaFormatNegotiation(DefaultContentNegotiation):
    """The schema's own `?format=json|yaml`: URL_FORMAT_OVERRIDE is off for the API, where `format` filters books."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return super().select_renderer(request, renderers, format_suffix or request.query_params.get("format"))


# The settings a generated schema reads: the URLconf and the apps, DRF's, drf-spectacular's,
# drf-standardized-errors' and Simple JWT's settings, and the language of its texts. A setting
# the schema comes to read (a view's or a serializer's, at schema time) belongs here, or a test
# that changes it is served the schema of the old value.
SCHEMA_SETTINGS = frozenset(
    {
        "ROOT_URLCONF",
        "INSTALLED_APPS",
        "REST_FRAMEWORK",
        "SPECTACULAR_SETTINGS",
        "DRF_STANDARDIZED_ERRORS",
        "SIMPLE_JWT",
        "LANGUAGE_CODE",
        "LANGUAGES",
        "USE_I18N",
    }
)


class SchemaGeneratorOncePerProcess(SchemaGenerator):
    """The public schema follows from the code and the settings alone, and takes about a second of CPU
    to generate: `/api/schema` generates it once a process (per API version and URLconf), not once a
    request. A change to a setting it reads (`SCHEMA_SETTINGS`: a test's override, a reload) drops what
    was kept; the others (API_DOCS, storages, hashers... which tests change all the time) keep it."""

    _schemas: ClassVar[dict[tuple[str | None, str | None], dict]] = {}

    def get_schema(self, request=None, public=False):
        if not public:  # filtered by the caller's permissions: not the same for everyone
            return super().get_schema(request=request, public=public)
        key = (self.api_version, getattr(request, "urlconf", None) or self.urlconf)
        schema = self._schemas.get(key)
        if schema is None:
            schema = self._schemas[key] = super().get_schema(request=request, public=public)
        return schema


@receiver(setting_changed)
def _schemas_forget(*, setting: str, **kwargs) -> None:
    if setting in SCHEMA_SETTINGS:
        SchemaGeneratorOncePerProcess._schemas.clear()
