"""Checkout, order history, cancellation and staff status changes."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_serializers import ErrorResponse403Serializer
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from addresses.models import Address
from bookstore.filters import positive_path_id
from bookstore.openapi import conflict_response
from bookstore.serializers import Presenter
from cart.views import CART_NOT_FOUND, CART_TOKEN, cart_owner
from orders import presenting, services
from orders.filters import OrderFilter
from orders.models import Order
from orders.serializers import (
    CheckedOutOrderSerializer,
    CheckoutSerializer,
    OrderSerializer,
    OrderStatusUpdateSerializer,
    QuoteRequestSerializer,
    QuoteSerializer,
)

IDEMPOTENCY_KEY_MAX_LENGTH = 255
ORDER_TOKEN_MAX_LENGTH = 128
ORDER_TOKEN = OpenApiParameter(
    name="Order-Token",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="A guest's order token, from the checkout's answer or the confirmation email: opens that order alone.",
)


def shipping_address_of(request, data: dict) -> dict:
    """The address a checkout or quote names: sent in full, or one of the caller's saved addresses."""
    if "shipping_address" in data:
        return dict(data["shipping_address"])
    user = request.user
    saved = (
        Address.objects.for_user(user).filter(pk=data["shipping_address_id"]).first() if user.is_authenticated else None
    )
    if saved is None:
        raise ValidationError({"shipping_address_id": ["No such address in your address book."]}, code="does_not_exist")
    return saved.as_shipping_address()


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


# The list's and detail's documentation, for this view set and the payments app's subclass of it.
order_reads_schema = extend_schema_view(
    list=extend_schema(
        summary="Orders",
        description="The caller's orders, newest first; staff see everyone's and may filter by `status` and `user`.",
    ),
    retrieve=extend_schema(
        summary="An order",
        description="The owner's or, for staff, anyone's; a guest's with its `Order-Token`; others get 404.",
        parameters=[ORDER_TOKEN],
    ),
)


@order_reads_schema
@extend_validation_errors(["empty_cart"], actions=["create"])
@extend_validation_errors(["shipping_unavailable"], field_name="shipping_method", actions=["create"])
@extend_validation_errors(["does_not_exist"], field_name="shipping_address_id", actions=["create"])
@extend_schema(tags=["orders"])
@positive_path_id()
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = OrderSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = OrderFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    # OrderSerializer's (and CheckedOutOrderSerializer's) answers, by plain functions
    present = presenting.present
    present_list = presenting.present_list
    present_checkout = presenting.present_checkout

    def get_throttles(self):
        # Checkout alone has its own, stricter rate (settings: `checkout`), which fails closed without the cache.
        self.throttle_scope = "checkout" if self.action == "create" else None
        return super().get_throttles()

    def get_permissions(self):
        # Guests check out with a Cart-Token, and open or cancel their order with its Order-Token.
        if self.action in {"create", "retrieve", "cancel"}:
            return [AllowAny()]
        return super().get_permissions()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Order.objects.none()
        user = self.request.user
        if user.is_authenticated:
            return Order.objects.for_user(user).with_details()
        token = self.request.headers.get("Order-Token")
        if token is None:
            raise NotAuthenticated()
        if not (token.isascii() and token.isprintable() and 0 < len(token) <= ORDER_TOKEN_MAX_LENGTH):
            return Order.objects.none()
        return Order.objects.for_order_token(token).with_details()

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
            "An empty cart is a 400 `empty_cart`; a shipping method that does not deliver to the address's "
            "country, or an unknown one, is a 400 `shipping_unavailable`; a line beyond stock, or a withdrawn "
            "book, is a 409 `insufficient_stock` naming each such book, and nothing changes."
        ),
        parameters=[IDEMPOTENCY_KEY, CART_TOKEN],
        request=CheckoutSerializer,
        responses={201: CheckedOutOrderSerializer, 409: CHECKOUT_CONFLICT},
    )
    def create(self, request):
        owner = cart_owner(request)
        if not owner:
            raise NotAuthenticated("Sign in, or check out as a guest with your Cart-Token.")
        serializer = self.checkout_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "token" in owner and not data.get("email"):
            raise ValidationError({"email": ["A guest checkout needs an email address."]}, code="required")
        order = self.perform_checkout(
            serializer,
            user=owner.get("user"),
            cart_token=owner.get("token"),
            email=data.get("email", ""),
            address=shipping_address_of(request, data),
            shipping_method=data["shipping_method"],
            idempotency_key=self._idempotency_key(),
        )
        return Response(self.present_checkout(order, self.get_serializer_context()), status=status.HTTP_201_CREATED)

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
        return self.render_order(self.perform_set_status(order, actor=request.user, **serializer.validated_data))

    @extend_schema(
        summary="Cancel an order",
        description=(
            "The owner or staff cancel a pending or paid order; its copies go back to stock. "
            "From any other status: 409 `invalid_transition`. A guest cancels with the order's `Order-Token`."
        ),
        parameters=[ORDER_TOKEN],
        request=None,
        responses={200: OrderSerializer, 409: INVALID_TRANSITION},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        actor = request.user if request.user.is_authenticated else None  # a guest, by Order-Token
        return self.render_order(self.perform_cancel(self.get_object(), actor=actor))

    # The status changes' extension points: `payments.views` sends them through the payment.
    def perform_set_status(self, order: Order, **change) -> Order:
        """Moves the order as staff asked (`change`: `order_set_status`'s status, actor and note);
        returns the order to render."""
        return services.order_set_status(order=order, **change)

    def perform_cancel(self, order: Order, *, actor) -> Order:
        """Cancels the order for `actor` (None: a guest); returns the order to render."""
        return services.order_cancel(order=order, actor=actor)


@extend_validation_errors(["shipping_unavailable"], field_name="shipping_method", methods=["post"])
@extend_validation_errors(["does_not_exist"], field_name="shipping_address_id", methods=["post"])
class QuoteView(APIView):
    permission_classes = [AllowAny]
    present = Presenter(QuoteSerializer)

    @extend_schema(
        summary="Quote a checkout",
        description=(
            "What `POST orders` with this body would charge now: the lines with their tax, `subtotal`, "
            "`shipping_cost`, `tax_total` and `total`, and the `problems` that would stop the checkout "
            "(`empty_cart`, `insufficient_stock` with its `meta`). Reserves and writes nothing. "
            "A shipping method that does not deliver to the address's country, or an unknown one, is a "
            "400 `shipping_unavailable`."
        ),
        parameters=[CART_TOKEN],
        request=QuoteRequestSerializer,
        responses={200: QuoteSerializer, 404: CART_NOT_FOUND},
        tags=["orders"],
    )
    def post(self, request):
        serializer = QuoteRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        owner = cart_owner(request)
        if not owner:
            raise NotAuthenticated("Sign in, or send your Cart-Token.")
        pricing = services.order_quote(
            user=owner.get("user"),
            cart_token=owner.get("token"),
            address=shipping_address_of(request, data),
            shipping_method=data["shipping_method"],
        )
        return Response(self.present(pricing, {"request": request}))
