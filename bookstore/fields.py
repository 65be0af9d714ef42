"""Serializer fields and bases shared by the apps: text inputs take JSON strings only.

DRF's CharField (and every field built on it: slugs, regexes, emails, URLs) turns `12` into
`"12"`, where the schema says string. Serializers that take input derive from
`StrictTextSerializer` or `StrictTextModelSerializer`, which refuse anything but a string
(or null, where null is allowed) for each such field, declared or built from the model:
a 400 `invalid` on that field, as contract fuzzing expects.
"""

from collections.abc import Mapping

from django.db import models
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.fields import empty


class StrictCharField(serializers.CharField):
    """A text field that takes only JSON strings: DRF's CharField turns `12` into `"12"`, the schema says string."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictTextMixin:
    """Refuses a non-string for every writable CharField (and subclass) of the serializer, before validation."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {}
            for field in self._writable_fields:
                if not isinstance(field, serializers.CharField):
                    continue
                value = field.get_value(data)
                if value is not empty and value is not None and not isinstance(value, str):
                    message = serializers.CharField.default_error_messages["invalid"]
                    errors[field.field_name] = [ErrorDetail(str(message), code="invalid")]
            if errors:
                raise ValidationError(errors)
        return super().to_internal_value(data)


class StrictTextSerializer(StrictTextMixin, serializers.Serializer):
    """A Serializer whose text fields take strings only."""


class StrictTextModelSerializer(StrictTextMixin, serializers.ModelSerializer):
    """A ModelSerializer whose text fields, declared or from the model, take strings only."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }
