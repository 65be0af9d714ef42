"""Saved addresses as the contract shows them; the postal fields are checkout's shipping address too."""

from rest_framework import serializers

from bookstore.countries import ISO_3166_ALPHA2
from bookstore.fields import StrictTextSerializer


class ShippingAddressSerializer(StrictTextSerializer):
    """A shipping address, as checkout takes it and orders and the address book show it."""

    full_name = serializers.CharField(max_length=200)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20)
    country = serializers.CharField(
        min_length=2, max_length=2, help_text="ISO 3166-1 alpha-2 code, such as `US` or `FR`."
    )
    phone = serializers.RegexField(
        r"^\+?[0-9][0-9 ().-]{3,30}$",
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        error_messages={
            "invalid": "Enter a phone number: digits, spaces, dashes, dots and parentheses, with an optional leading +."
        },
    )

    def validate_country(self, value: str) -> str:
        code = value.upper()
        if code not in ISO_3166_ALPHA2:
            raise serializers.ValidationError("Not an ISO 3166-1 alpha-2 country code.", code="invalid")
        return code


class AddressSerializer(ShippingAddressSerializer):
    id = serializers.IntegerField(read_only=True)
    # A field named `label` shadows `Field.label` (a serializer is a field) in the stubs, not at run time.
    label = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")  # type: ignore[assignment]
    is_default = serializers.BooleanField(required=False, default=False)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
