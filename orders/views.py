"""Checkout, order history, cancellation and staff status changes."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_serializers import ErrorResponse403Serializer
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from bookstore.filters import positive_path_id
from bookstore.openapi import conflict_response
from bookstore.serializers import Presenter
from orders import services
from orders.filters import OrderFilter
from orders.models import Order
from orders.serializers import (
    CheckoutSerializer,
    OrderSerializer,
    OrderStatusUpdateSerializer,
)

IDEMPOTENCY_KEY_MAX_LENGTH = 255

CHECKOUT_CONFLICT = conflict_response(
    "insufficient_stock", "idempotency_key_reused", description="Not enough stock, or a reused Idempotency-Key."
)
INVALID_TRANSITION = conflict_response("invalid_transition", description="The order cannot move to that status.")
STAFF_ONLY = OpenApiResponse(ErrorResponse403Serializer, description="Only staff change an order's status.")
IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Makes the checkout safe to retry (up to 255 characters). The same key again returns the same "
        "order, with 201, and takes no stock; the same key with a different body is a 409 "
        "`idempotency_key_reused`."
    ),
)


@extend_schema_view(
    list=extend_schema(
        summary="Orders",
        description="The caller's orders, newest first; staff see everyone's and may filter by `status` and `user`.",
    ),
    retrieve=extend_schema(summary="An order", description="The owner's or, for staff, anyone's; others get 404."),
)
@extend_validation_errors(["empty_cart"], actions=["create"])
@extend_schema(tags=["orders"])
@positive_path_id()
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = OrderSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = OrderFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    present = Presenter(OrderSerializer)
    present_list = Presenter(OrderSerializer, many=True)

    def get_throttles(self):
        # Checkout alone has its own, stricter rate (settings: `checkout`), which fails closed without the cache.
        self.throttle_scope = "checkout" if self.action == "create" else None
        return super().get_throttles()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Order.objects.none()
        return Order.objects.for_user(self.request.user).with_details()

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.present_list(page, self.get_serializer_context()))

    def retrieve(self, request, *args, **kwargs):
        return self.render_order(self.get_object())

    def render_order(self, order: Order, status_code=status.HTTP_200_OK) -> Response:
        return Response(self.present(order, self.get_serializer_context()), status=status_code)

    def _idempotency_key(self) -> str | None:
        key = self.request.headers.get("Idempotency-Key", "").strip()
        if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
            raise ValidationError(
                {"Idempotency-Key": [f"At most {IDEMPOTENCY_KEY_MAX_LENGTH} characters."]}, code="max_length"
            )
        if not key.isprintable():  # NUL cannot even be stored in PostgreSQL text
            raise ValidationError({"Idempotency-Key": ["Only printable characters."]}, code="invalid")
        return key or None

    @extend_schema(
        summary="Check out the cart",
        description=(
            "Turns the caller's cart into a pending order in one transaction: stock is taken, prices, "
            "titles and ISBNs are copied, the cart is emptied and a confirmation email is sent. "
            "An empty cart is a 400 `empty_cart`; a line beyond stock, or a withdrawn book, is a 409 "
            "`insufficient_stock` naming each such book, and nothing changes."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=CheckoutSerializer,
        responses={201: OrderSerializer, 409: CHECKOUT_CONFLICT},
    )
    def create(self, request):
        serializer = self.checkout_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = self.perform_checkout(
            serializer,
            user=request.user,
            address=dict(serializer.validated_data["shipping_address"]),
            idempotency_key=self._idempotency_key(),
        )
        return self.render_order(order, status.HTTP_201_CREATED)

    # Checkout's extension points: `payments.views` adds the payment method and the order's payment.
    checkout_serializer_class = CheckoutSerializer

    def perform_checkout(self, serializer, **place) -> Order:
        """Places the order from the validated checkout (`place`: `order_place`'s arguments)."""
        return services.order_place(**place)

    @extend_schema(
        summary="Change an order's status (staff)",
        description=(
            "Follows pending → paid → shipped → delivered, or pending/paid → cancelled (stock goes back); "
            "any other move, the same status included, is a 409 `invalid_transition`. Emails the customer. "
            "Customers get 403 for their own orders and 404 for others'."
        ),
        request=OrderStatusUpdateSerializer,
        responses={200: OrderSerializer, 403: STAFF_ONLY, 409: INVALID_TRANSITION},
    )
    def partial_update(self, request, pk=None):
        order = self.get_object()
        if not request.user.is_staff:
            raise PermissionDenied("Only staff may change an order's status.")
        serializer = OrderStatusUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.order_set_status(order=order, actor=request.user, **serializer.validated_data)
        return self.render_order(order)

    @extend_schema(
        summary="Cancel an order",
        description=(
            "The owner or staff cancel a pending or paid order; its copies go back to stock. "
            "From any other status: 409 `invalid_transition`."
        ),
        request=None,
        responses={200: OrderSerializer, 409: INVALID_TRANSITION},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = services.order_cancel(order=self.get_object(), actor=request.user)
        return self.render_order(order)
