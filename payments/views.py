"""The orders API with its money (checkout's payment, staff refunds, cancel and PATCH through the
payment), and Stripe's webhook."""

import logging

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_serializers import ErrorResponse404Serializer
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from bookstore.filters import positive_path_id
from bookstore.openapi import conflict_response, error_response_serializer
from orders import views as orders_views
from orders.serializers import OrderStatusUpdateSerializer
from payments import presenting, services
from payments.exceptions import StripeDisabledError
from payments.models import Refund
from payments.serializers import (
    CheckedOutOrderWithPaymentSerializer,
    CheckoutWithPaymentSerializer,
    OrderWithPaymentSerializer,
    RefundRequestSerializer,
    RefundSerializer,
)
from payments.stripe_gateway import stripe_enabled

logger = logging.getLogger(__name__)

PROVIDER_DOWN = OpenApiResponse(
    error_response_serializer(
        503, ["payment_provider_unavailable", "service_unavailable"], name="PaymentProviderUnavailable", server=True
    ),
    description="`payment_provider_unavailable`: Stripe did not answer; nothing changed. "
    "Or `service_unavailable`: retry after `Retry-After` seconds.",
)


REFUND_CONFLICT = conflict_response(
    "refund_exceeds_paid", "idempotency_key_reused", description="More than is left to refund, or a reused key."
)


@orders_views.order_reads_schema
@positive_path_id()
@extend_schema(tags=["orders"])
@positive_path_id()  # again: the actions this class overrides carry their own schema
class OrderViewSet(orders_views.OrderViewSet):
    serializer_class = OrderWithPaymentSerializer
    checkout_serializer_class = CheckoutWithPaymentSerializer
    # OrderWithPaymentSerializer's (and CheckedOutOrderWithPaymentSerializer's) answers, by plain functions
    present = presenting.present
    present_list = presenting.present_list
    present_checkout = presenting.present_checkout

    def get_queryset(self):
        queryset = super().get_queryset()
        # The payment is joined; its refunds come in one more query for the whole page.
        return queryset.select_related("payment").prefetch_related(
            Prefetch("payment__refunds", queryset=Refund.objects.order_by("created_at", "id"))
        )

    def perform_checkout(self, serializer, **place):
        return services.order_checkout(payment_method=serializer.validated_data.get("payment_method"), **place)

    # Through the money (refund, PaymentIntent); the order is read again for its payment and refunds as they are now.
    def perform_set_status(self, order, **change):
        services.order_set_status(order=order, **change)
        return self.get_object()

    def perform_cancel(self, order, *, actor):
        services.order_cancel(order=order, actor=actor)
        return self.get_object()

    @extend_schema(
        summary="Check out the cart",
        description=(
            "Turns the caller's cart into a pending order in one transaction: stock is taken, prices, "
            "titles and ISBNs are copied, the cart is emptied and a confirmation email is sent. "
            "`payment_method` `manual` answers with `payment.instructions`; `stripe` creates a card payment "
            "whose `payment.client_secret` the shop's Stripe.js confirms. The order expires unpaid at "
            "`expires_at`. An empty cart is a 400 `empty_cart`; a shipping method that does not deliver to the "
            "address's country, or an unknown one, is a 400 `shipping_unavailable`; a line beyond stock, or a "
            "withdrawn book, is a 409 `insufficient_stock` naming each such book, and nothing changes; Stripe "
            "not answering is a 503 `payment_provider_unavailable`: the checkout is undone (the order is kept "
            "as `cancelled`, its copies go back to stock and to the cart, no email is sent) and may be retried. "
            "A guest checks out with a `Cart-Token` and an `email`; the answer then carries `order_token`, which "
            "opens the order (`Order-Token` header) and is in the confirmation email's link. `Idempotency-Key` "
            "works for guests too, scoped to their cart: a retry gets the same order and `order_token`."
        ),
        parameters=[orders_views.IDEMPOTENCY_KEY, orders_views.CART_TOKEN],
        request=CheckoutWithPaymentSerializer,
        responses={
            201: CheckedOutOrderWithPaymentSerializer,
            409: orders_views.CHECKOUT_CONFLICT,
            503: PROVIDER_DOWN,
        },
    )
    def create(self, request):
        return super().create(request)

    @extend_schema(
        summary="Change an order's status (staff)",
        description=(
            "Follows pending → paid → shipped → delivered, or pending/paid → cancelled (stock goes back, a "
            "paid order is refunded in full first); any other move, the same status included, is a 409 "
            "`invalid_transition`. `paid` records a manual payment: a card order becomes paid only by Stripe "
            "(409 `invalid_transition`). Emails the customer. Customers get 403 for their own orders and "
            "404 for others'."
        ),
        request=OrderStatusUpdateSerializer,
        responses={
            200: OrderWithPaymentSerializer,
            403: orders_views.STAFF_ONLY,
            409: orders_views.INVALID_TRANSITION,
            503: PROVIDER_DOWN,
        },
    )
    def partial_update(self, request, pk=None):
        return super().partial_update(request, pk)

    @extend_schema(
        summary="Cancel an order",
        description=(
            "The owner or staff cancel a pending or paid order; a paid order is refunded in full first, "
            "and its copies go back to stock. From any other status: 409 `invalid_transition`. A guest cancels "
            "with the order's `Order-Token`."
        ),
        parameters=[orders_views.ORDER_TOKEN],
        request=None,
        responses={200: OrderWithPaymentSerializer, 409: orders_views.INVALID_TRANSITION, 503: PROVIDER_DOWN},
    )
    # The stubs bind an @action to the class it is written in, so any override differs from it.
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):  # type: ignore[override]
        return super().cancel(request, pk)

    @extend_schema(
        summary="Refund an order (staff)",
        description=(
            "Refunds `amount`, or the named lines' total with their tax, of what was paid. Lines with `restock` "
            "go back to stock (shipped or delivered orders). Card payments are refunded through Stripe; manual ones "
            "record money paid back by hand. The customer is emailed. More than is left to refund is a "
            "409 `refund_exceeds_paid`. The same `Idempotency-Key` again returns the same refund."
        ),
        parameters=[orders_views.IDEMPOTENCY_KEY],
        request=RefundRequestSerializer,
        responses={
            201: RefundSerializer,
            403: orders_views.STAFF_ONLY,
            409: REFUND_CONFLICT,
            503: PROVIDER_DOWN,
        },
    )
    @action(detail=True, methods=["post"])
    def refunds(self, request, pk=None):
        order = self.get_object()
        if not request.user.is_staff:
            raise PermissionDenied("Only staff refund orders.")
        serializer = RefundRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refund = services.refund_create(
            order=order, actor=request.user, idempotency_key=self._idempotency_key(), **serializer.validated_data
        )
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)


class StripeWebhookView(APIView):
    """Stripe's events, checked against `STRIPE_WEBHOOK_SECRET`; each event id takes effect once."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        tags=["payments"],
        summary="Stripe webhook",
        description=(
            "For Stripe alone. The body must carry a valid `Stripe-Signature` (5 minutes' tolerance), else "
            "400 `invalid_signature` and nothing changes. Handles `payment_intent.succeeded`, "
            "`payment_intent.payment_failed` and `charge.refunded`; a replayed event, or one about an unknown "
            "payment, is a 200 that changes nothing."
        ),
        request={"application/json": dict},
        responses={
            200: OpenApiResponse(description="Received."),
            404: OpenApiResponse(ErrorResponse404Serializer, description="Card payments are off (no Stripe secrets)."),
            503: PROVIDER_DOWN,
        },
    )
    def post(self, request):
        if not stripe_enabled():
            raise StripeDisabledError()
        outcome = services.stripe_webhook_handle(
            payload=request._request.body, signature=request.headers.get("Stripe-Signature", "")
        )
        logger.info("stripe webhook: %s", outcome)
        return Response({"received": True})
