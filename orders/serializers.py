"""Orders as the contract shows them, checkout's input, and staff status changes."""

from rest_framework import serializers

from bookstore.fields import StrictTextSerializer
from orders.countries import ISO_3166_ALPHA2
from orders.models import Order, OrderLine, OrderStatusChange


def _money() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)


class ShippingAddressSerializer(StrictTextSerializer):
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


class CheckoutSerializer(StrictTextSerializer):
    shipping_address = ShippingAddressSerializer()


class OrderLineSerializer(serializers.ModelSerializer):
    unit_price = _money()
    line_total = _money()

    class Meta:
        model = OrderLine
        fields = ["book_id", "title", "isbn", "unit_price", "quantity", "line_total"]
        read_only_fields = fields


class OrderStatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderStatusChange
        fields = ["status", "at", "note"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    items = OrderLineSerializer(source="lines", many=True, read_only=True)
    subtotal = _money()
    shipping_cost = _money()
    total = _money()
    shipping_address = ShippingAddressSerializer(read_only=True)
    status_history = OrderStatusChangeSerializer(source="history", many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "items",
            "subtotal",
            "shipping_cost",
            "total",
            "currency",
            "shipping_address",
            "status_history",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OrderStatusUpdateSerializer(StrictTextSerializer):
    partial_on_patch = False  # PATCH orders/{id} needs `status` (bookstore.openapi)

    status = serializers.ChoiceField(choices=Order.Status.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
