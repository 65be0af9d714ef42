"""Shipping methods as clients see them, and the query that picks them."""

from django.conf import settings
from rest_framework import serializers

from bookstore.countries import ISO_3166_ALPHA2
from shipping.models import ShippingMethod


def validate_country_code(value: str) -> str:
    code = value.strip().upper()
    if code not in ISO_3166_ALPHA2:
        raise serializers.ValidationError("Not an ISO 3166-1 alpha-2 country code.", code="invalid")
    return code


class ShippingMethodSerializer(serializers.ModelSerializer):
    price = serializers.DecimalField(max_digits=9, decimal_places=2, read_only=True)
    currency = serializers.SerializerMethodField()
    free_over = serializers.DecimalField(
        max_digits=9,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="Shipping is free once the subtotal reaches this; null: never free.",
    )

    class Meta:
        model = ShippingMethod
        fields = ["code", "name", "price", "currency", "free_over", "min_days", "max_days"]
        read_only_fields = fields

    def get_currency(self, method: ShippingMethod) -> str:
        return settings.STORE_CURRENCY


class ShippingMethodQuerySerializer(serializers.Serializer):
    country = serializers.CharField(
        min_length=2, max_length=2, help_text="ISO 3166-1 alpha-2 code of the destination, such as `FR`."
    )

    def validate_country(self, value: str) -> str:
        return validate_country_code(value)
