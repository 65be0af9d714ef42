"""The order as the contract shows it with its money (`payment`, `refunds`, `expires_at`), checkout's
payment method, and the refund request."""

from decimal import Decimal

from django.conf import settings
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from bookstore.fields import MoneyField
from orders.models import Order
from orders.serializers import CheckoutSerializer, OrderSerializer, OrderTokenMixin, order_token_field
from payments.models import Payment, Refund
from payments.stripe_gateway import stripe_enabled


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class PaymentSerializer(serializers.ModelSerializer):
    amount_paid = _money(read_only=True)
    amount_refunded = _money(read_only=True)
    client_secret = serializers.SerializerMethodField(
        help_text="For the shop's Stripe.js to confirm a card payment; shown to the order's owner alone."
    )
    instructions = serializers.SerializerMethodField(help_text="How to pay a manual order.")
    last_error = serializers.SerializerMethodField(help_text="Why the last card payment attempt failed.")

    class Meta:
        model = Payment
        fields = ["method", "status", "amount_paid", "amount_refunded", "client_secret", "instructions", "last_error"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_client_secret(self, payment: Payment) -> str | None:
        request = self.context.get("request")
        owner = request is not None and request.user.pk == payment.order.user_id
        if not owner or not payment.client_secret or payment.status != Payment.Status.UNPAID:
            return None
        return payment.client_secret

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_instructions(self, payment: Payment) -> str | None:
        return settings.MANUAL_PAYMENT_INSTRUCTIONS if payment.method == Payment.Method.MANUAL else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_last_error(self, payment: Payment) -> str | None:
        return payment.last_error or None


class RefundLineSerializer(serializers.Serializer):
    book_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    restocked = serializers.BooleanField()


class RefundSerializer(serializers.ModelSerializer):
    amount = _money(read_only=True)
    lines = RefundLineSerializer(many=True, read_only=True)

    class Meta:
        model = Refund
        fields = ["id", "amount", "reason", "lines", "created_at"]
        read_only_fields = fields


@extend_schema_serializer(component_name="Order")  # the contract's Order: it replaces orders' own in the API
class OrderWithPaymentSerializer(OrderSerializer):
    payment = serializers.SerializerMethodField()
    refunds = serializers.SerializerMethodField()
    expires_at = serializers.SerializerMethodField(
        help_text="When an unpaid order will be cancelled; null once paid or cancelled."
    )

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "payment", "refunds", "expires_at"]
        read_only_fields = fields

    @staticmethod
    def _payment(order: Order) -> Payment | None:
        try:
            return order.payment
        except Payment.DoesNotExist:
            return None

    @extend_schema_field(PaymentSerializer(allow_null=True))
    def get_payment(self, order: Order) -> dict | None:
        payment = self._payment(order)
        return PaymentSerializer(payment, context=self.context).data if payment is not None else None

    @extend_schema_field(RefundSerializer(many=True))
    def get_refunds(self, order: Order) -> list:
        payment = self._payment(order)
        return RefundSerializer(payment.refund_list, many=True).data if payment is not None else []  # type: ignore[return-value]  # many: a list

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_expires_at(self, order: Order):
        payment = self._payment(order)
        if payment is None or payment.expires_at is None or order.status != Order.Status.PENDING:
            return None
        return serializers.DateTimeField().to_representation(payment.expires_at)


@extend_schema_serializer(component_name="CheckedOutOrder")  # checkout's 201: the Order, and a guest's token
class CheckedOutOrderWithPaymentSerializer(OrderTokenMixin, OrderWithPaymentSerializer):
    order_token = order_token_field()

    class Meta(OrderWithPaymentSerializer.Meta):
        fields = [*OrderWithPaymentSerializer.Meta.fields, "order_token"]
        read_only_fields = fields


@extend_schema_serializer(component_name="Checkout")
class CheckoutWithPaymentSerializer(CheckoutSerializer):
    payment_method = serializers.ChoiceField(
        choices=Payment.Method.choices,
        required=False,
        help_text="`manual` (instructions in `payment.instructions`) or `stripe` (cards, when the store has "
        "them on); defaults to the store's default method.",
    )

    def validate_payment_method(self, value: str) -> str:
        if value == Payment.Method.STRIPE and not stripe_enabled():
            raise serializers.ValidationError("Card payments are not enabled in this store.", code="invalid")
        return value


class RefundLineRequestSerializer(serializers.Serializer):
    book_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    quantity = serializers.IntegerField(min_value=1, max_value=32767)
    restock = serializers.BooleanField(
        required=False, default=False, help_text="Put the copies back in stock (shipped orders only)."
    )


class RefundRequestSerializer(serializers.Serializer):
    amount = MoneyField(
        required=False,
        min_value=Decimal("0.01"),
        help_text='A decimal string such as `"12.50"`; defaults to the named lines\' total with their tax.',
    )
    lines = RefundLineRequestSerializer(many=True, required=False, default=list)
    reason = serializers.CharField(max_length=500)

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        book_ids = [line["book_id"] for line in lines]
        if len(book_ids) != len(set(book_ids)):
            raise serializers.ValidationError("Name each book once.", code="invalid")
        return lines

    def validate(self, data: dict) -> dict:
        if data.get("amount") is None and not data.get("lines"):
            raise serializers.ValidationError({"amount": "Give an amount, or the lines to refund."}, code="required")
        return data
