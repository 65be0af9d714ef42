"""Serializer fields shared by the apps."""

import re

from django.db import models
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A text field that takes only JSON strings: DRF's CharField turns `12` into `"12"`, the schema says string."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# A ModelSerializer whose model text fields refuse numbers: a JSON number is not text. (A comment,
# not a docstring: subclasses without a docstring would show it in the API's schema.)
class StrictTextModelSerializer(serializers.ModelSerializer):
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
