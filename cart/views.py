"""The cart endpoints: thin glue between the serializers and `cart.services`."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from bookstore.filters import positive_path_id
from bookstore.openapi import conflict_response
from bookstore.serializers import Presenter
from cart import services
from cart.serializers import (
    CartItemCreateSerializer,
    CartItemUpdateSerializer,
    CartSerializer,
)

INSUFFICIENT_STOCK = conflict_response("insufficient_stock", description="Not enough copies: one error per short book.")


class CartAPIView(APIView):
    permission_classes = [IsAuthenticated]
    present = Presenter(CartSerializer)

    def render_cart(self, cart, status_code=status.HTTP_200_OK) -> Response:
        return Response(self.present(cart, {"request": self.request}), status=status_code)


class CartView(CartAPIView):
    @extend_schema(
        summary="The caller's cart",
        description="Created empty on first use. Prices are current prices.",
        responses={200: CartSerializer},
        tags=["cart"],
    )
    def get(self, request):
        return self.render_cart(services.cart_get(user=request.user))

    @extend_schema(
        summary="Empty the cart",
        responses={204: OpenApiResponse(description="The cart is empty.")},
        tags=["cart"],
    )
    def delete(self, request):
        services.cart_clear(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_validation_errors(["does_not_exist"], field_name="book_id", methods=["post"])
class CartItemListView(CartAPIView):
    @extend_schema(
        summary="Add a book to the cart",
        description=(
            "Adds to the book's existing line if there is one; the line's total quantity must stay within "
            "1-100 and the stock (else 409 `insufficient_stock`). An unknown or withdrawn book is a 400."
        ),
        request=CartItemCreateSerializer,
        responses={201: CartSerializer, 409: INSUFFICIENT_STOCK},
        tags=["cart"],
    )
    def post(self, request):
        serializer = CartItemCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = services.cart_add_item(user=request.user, **serializer.validated_data)
        return self.render_cart(cart, status.HTTP_201_CREATED)


@positive_path_id()
class CartItemDetailView(CartAPIView):
    @extend_schema(
        summary="Change a line's quantity",
        description="1-100 and within stock (else 409 `insufficient_stock`); 0 is a 400: use DELETE.",
        request=CartItemUpdateSerializer,
        responses={200: CartSerializer, 409: INSUFFICIENT_STOCK},
        tags=["cart"],
    )
    def patch(self, request, pk: int):
        serializer = CartItemUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = services.cart_update_item(user=request.user, item_id=pk, **serializer.validated_data)
        return self.render_cart(cart)

    @extend_schema(summary="Remove a line", request=None, responses={200: CartSerializer}, tags=["cart"])
    def delete(self, request, pk: int):
        return self.render_cart(services.cart_remove_item(user=request.user, item_id=pk))
