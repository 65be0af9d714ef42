"""The API's order (`OrderWithPaymentSerializer`: the order, its payment and refunds) by plain
functions, as `orders.presenting` gives the order (`payments/tests/test_presenting.py` compares
them with the serializers)."""

from typing import Any

from django.conf import settings
from rest_framework import serializers

from bookstore.presenting import datetime_text, money
from orders.models import Order
from orders.presenting import OrderPresenter, order_data
from payments.models import Payment

_BOOLEAN = serializers.BooleanField()  # RefundLineSerializer.restocked's reading of the stored value


def _payment_data(payment: Payment, order: Order, request) -> dict[str, Any]:
    # The client secret is the owner's alone: a guest's order (no user) is its Order-Token holder's.
    owner = request is not None and request.user.pk == order.user_id
    unpaid = payment.status == Payment.Status.UNPAID
    manual = payment.method == Payment.Method.MANUAL
    return {
        "method": str(payment.method),
        "status": str(payment.status),
        "amount_paid": money(payment.amount_paid),
        "amount_refunded": money(payment.amount_refunded),
        "client_secret": payment.client_secret if owner and payment.client_secret and unpaid else None,
        "instructions": settings.MANUAL_PAYMENT_INSTRUCTIONS if manual else None,
        "last_error": payment.last_error or None,
    }


def _refund_data(refund, tz) -> dict[str, Any]:
    return {
        "id": refund.pk,
        "amount": money(refund.amount),
        "reason": refund.reason,
        "lines": [
            {
                "book_id": int(line["book_id"]),
                "quantity": int(line["quantity"]),
                "restocked": _BOOLEAN.to_representation(line["restocked"]),
            }
            for line in refund.lines
        ],
        "created_at": datetime_text(refund.created_at, tz),
    }


def order_with_payment_data(order: Order, request, tz) -> dict[str, Any]:
    """`OrderWithPaymentSerializer(order, context={"request": request}).data`, from the order with
    its details, payment and refunds (the order views' queryset)."""
    data = order_data(order, tz)
    try:
        payment = order.payment
    except Payment.DoesNotExist:
        payment = None
    if payment is None:
        data.update(payment=None, refunds=[], expires_at=None)
        return data
    data["payment"] = _payment_data(payment, order, request)
    data["refunds"] = [_refund_data(refund, tz) for refund in payment.refund_list]
    pending = order.status == Order.Status.PENDING
    data["expires_at"] = datetime_text(payment.expires_at, tz) if pending else None
    return data


present = OrderPresenter(order_with_payment_data)
present_list = OrderPresenter(order_with_payment_data, many=True)
present_checkout = OrderPresenter(order_with_payment_data, token=True)
