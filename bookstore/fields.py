"""Serializer fields shared by the apps."""

from django.db import models
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A text field that takes only JSON strings: DRF's CharField turns `12` into `"12"`, the schema says string."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictTextModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose model text fields refuse numbers (contract fuzzing found them accepted)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }
