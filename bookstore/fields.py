"""Serializer fields and bases shared by the apps: text inputs take JSON strings only.

DRF's CharField (and every field built on it: slugs, regexes, emails, URLs) turns `12` into
`"12"`, where the schema says string. Serializers that take input derive from
`StrictTextSerializer` or `StrictTextModelSerializer`, which refuse anything but a string
(or null, where null is allowed) for each such field, declared or built from the model:
a 400 `invalid` on that field, as contract fuzzing expects.
"""

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

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


# Refuses a non-string for every writable CharField (and subclass) of the serializer, before
# validation. (Comments, not docstrings, on these bases: a serializer without a docstring of its
# own would show its base's in the API's schema.)
if TYPE_CHECKING:
    _Serializer = serializers.Serializer  # what the mixin is mixed into
else:
    _Serializer = object


class StrictTextMixin(_Serializer):
    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors: dict[Any, Any] = {}
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


# A Serializer whose text fields take strings only.
class StrictTextSerializer(StrictTextMixin, serializers.Serializer):
    pass


# A ModelSerializer whose text fields, declared or from the model, take strings only.
class StrictTextModelSerializer(StrictTextMixin, serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }


class MoneyField(serializers.DecimalField):
    """A money input: a decimal string such as `"12.50"`, never a JSON number (a float is not money).

    At most two places, no exponent, no sign other than a leading `-`; `max_digits`/`min_value`
    and the like as for DRF's DecimalField. The schema shows it as a string with a pattern.
    """

    default_error_messages = {"invalid": 'Enter an amount as a decimal string, such as "12.50".'}
    _PATTERN = r"^-?[0-9]+(\.[0-9]{1,2})?$"

    def __init__(self, **kwargs):
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("max_digits", 12)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.match(self._PATTERN, data.strip()):
            self.fail("invalid")
        return super().to_internal_value(data.strip())
