"""Orders as the contract shows them, checkout's input, and staff status changes."""

from typing import TYPE_CHECKING

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from addresses.serializers import ShippingAddressSerializer
from bookstore.fields import StrictTextSerializer
from bookstore.filters import MAX_ID
from orders.models import Order, OrderLine, OrderStatusChange


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, **kwargs)


class QuoteProblemSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="`empty_cart` or `insufficient_stock`.")
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)
    meta = serializers.DictField(required=False, help_text="`insufficient_stock`: `book_id`, `requested`, `available`.")


class QuoteRequestSerializer(StrictTextSerializer):
    shipping_address = ShippingAddressSerializer(
        required=False, help_text="The address to ship to; or name a saved one by `shipping_address_id`."
    )
    shipping_address_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="One of your saved addresses, instead of an address."
    )
    shipping_method = serializers.SlugField(
        max_length=32, required=False, default="standard", help_text="A code from `GET shipping-methods`."
    )

    def validate(self, attrs):
        given = [name for name in ("shipping_address", "shipping_address_id") if name in attrs]
        if not given:
            raise serializers.ValidationError(
                {"shipping_address": ["Send a shipping address, or a saved one's shipping_address_id."]},
                code="required",
            )
        if len(given) > 1:
            raise serializers.ValidationError(
                {"shipping_address_id": ["Send shipping_address or shipping_address_id, not both."]}, code="invalid"
            )
        return attrs


class CheckoutSerializer(QuoteRequestSerializer):
    email = serializers.EmailField(
        max_length=254, required=False, help_text="A guest's email address (required without an account)."
    )


class ShippingMethodRefSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


def _tax_rate(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=5, decimal_places=4, read_only=True, help_text="A fraction: `0.0550` is 5.5 %.", **kwargs
    )


class QuoteLineSerializer(serializers.Serializer):
    book_id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    isbn = serializers.CharField(read_only=True)
    unit_price = _money()
    quantity = serializers.IntegerField(read_only=True)
    line_total = _money()
    tax_rate = _tax_rate()
    tax_amount = _money()


class QuoteSerializer(serializers.Serializer):
    items = QuoteLineSerializer(source="lines", many=True, read_only=True)
    subtotal = _money()
    shipping_cost = _money()
    tax_total = _money()
    total = _money()
    currency = serializers.CharField(read_only=True)
    shipping_method = ShippingMethodRefSerializer(read_only=True)
    problems = serializers.SerializerMethodField(
        help_text="What would stop this checkout, in the error shape's items (`empty_cart`, `insufficient_stock` "
        "with its `meta`); empty when `POST orders` would succeed."
    )

    @extend_schema_field(QuoteProblemSerializer(many=True))
    def get_problems(self, pricing) -> list[dict]:
        return [item for problem in pricing.problems for item in problem.errors()]


class OrderLineSerializer(serializers.ModelSerializer):
    unit_price = _money()
    line_total = _money()
    tax_rate = _tax_rate()
    tax_amount = _money()

    class Meta:
        model = OrderLine
        fields = ["book_id", "title", "isbn", "unit_price", "quantity", "line_total", "tax_rate", "tax_amount"]
        read_only_fields = fields


class OrderStatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderStatusChange
        fields = ["status", "at", "note"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    items = OrderLineSerializer(many=True, read_only=True)
    subtotal = _money()
    shipping_cost = _money()
    tax_total = _money(
        help_text="Sum of the lines' and shipping's tax; part of `total` when prices exclude tax, inside the prices "
        "when they include it."
    )
    total = _money()
    shipping_method = ShippingMethodRefSerializer(read_only=True)
    shipping_address = ShippingAddressSerializer(read_only=True)
    status_history = OrderStatusChangeSerializer(many=True, read_only=True)
    carrier = serializers.CharField(read_only=True, help_text="Who carries the parcel, once shipped; empty before.")
    tracking_number = serializers.CharField(
        read_only=True, help_text="The parcel's tracking number, once shipped; empty before or when there is none."
    )
    tracking_url = serializers.CharField(
        read_only=True, help_text="Where to follow the parcel, once shipped; empty before or when there is none."
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "email",
            "items",
            "subtotal",
            "shipping_cost",
            "tax_total",
            "total",
            "currency",
            "shipping_method",
            "shipping_address",
            "carrier",
            "tracking_number",
            "tracking_url",
            "status_history",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OrderStatusUpdateSerializer(StrictTextSerializer):
    partial_on_patch = False  # PATCH orders/{id} needs `status` (bookstore.openapi)

    status = serializers.ChoiceField(choices=Order.Status.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


if TYPE_CHECKING:
    _Serializer = serializers.Serializer  # what the mixin is mixed into
else:
    _Serializer = object


class OrderTokenMixin(_Serializer):
    """Adds a guest's `order_token` to checkout's answer (absent for a signed-in customer's order)."""

    optional_response_fields = ("order_token",)

    def to_representation(self, order):
        data = super().to_representation(order)
        if data.get("order_token") is None:
            data.pop("order_token", None)
        return data


def order_token_field() -> serializers.CharField:
    return serializers.CharField(
        source="token",
        read_only=True,
        help_text="Guest orders only (absent otherwise): the order's secret, for the `Order-Token` header of "
        "`GET orders/{id}` and `POST orders/{id}/cancel`; also in the confirmation email's link. Shown in this "
        "answer alone (and again to a retry with the same `Idempotency-Key` and `Cart-Token`).",
    )


class CheckedOutOrderSerializer(OrderTokenMixin, OrderSerializer):
    order_token = order_token_field()

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "order_token"]
        read_only_fields = fields
