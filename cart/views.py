"""The cart endpoints: thin glue between the serializers and `cart.services`.

A signed-in caller uses their own cart; anyone else an anonymous cart named by the `Cart-Token`
header (the first `POST cart/items` without one creates it and answers its token).
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_serializers import ErrorResponse404Serializer
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status
from rest_framework.permissions import AllowAny
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
    request_cart_token,
)

INSUFFICIENT_STOCK = conflict_response("insufficient_stock", description="Not enough copies: one error per short book.")
CART_TOKEN = OpenApiParameter(
    name="Cart-Token",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="An anonymous cart's token, as `POST cart/items` answered it. Ignored when signed in. "
    "Unknown or expired: 404 `not_found`.",
)
# `?format=` no longer puts a 404 on every operation (URL_FORMAT_OVERRIDE is off): the operations
# that take a Cart-Token and have no path id say theirs.
CART_NOT_FOUND = OpenApiResponse(ErrorResponse404Serializer, description="Unknown or expired `Cart-Token`.")


def cart_owner(request) -> dict:
    """`user=` for a signed-in caller, `token=` for a Cart-Token, or nothing: the services' keyword arguments."""
    if request.user.is_authenticated:
        return {"user": request.user}
    token = request_cart_token(request)
    return {"token": token} if token is not None else {}


class CartAPIView(APIView):
    permission_classes = [AllowAny]
    present = Presenter(CartSerializer)

    def render_cart(self, cart, status_code=status.HTTP_200_OK) -> Response:
        response = Response(self.present(cart, {"request": self.request}), status=status_code)
        if cart.token is not None:
            response["Cart-Token"] = cart.token
        return response


class CartView(CartAPIView):
    @extend_schema(
        summary="The caller's cart",
        description="A signed-in caller's cart is created empty on first use; an anonymous caller sends its "
        "`Cart-Token`, or gets an empty cart (`cart_token: null`) and nothing is created. Prices are current prices.",
        parameters=[CART_TOKEN],
        responses={200: CartSerializer, 404: CART_NOT_FOUND},
        tags=["cart"],
    )
    def get(self, request):
        return self.render_cart(services.cart_get(**cart_owner(request)))

    @extend_schema(
        summary="Empty the cart",
        parameters=[CART_TOKEN],
        responses={204: OpenApiResponse(description="The cart is empty."), 404: CART_NOT_FOUND},
        tags=["cart"],
    )
    def delete(self, request):
        services.cart_clear(**cart_owner(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_validation_errors(["does_not_exist"], field_name="book_id", methods=["post"])
class CartItemListView(CartAPIView):
    @extend_schema(
        summary="Add a book to the cart",
        description=(
            "Adds to the book's existing line if there is one; the line's total quantity must stay within "
            "1-100 and the stock (else 409 `insufficient_stock`). An unknown or withdrawn book is a 400. "
            "Without authentication and without a `Cart-Token`, this creates an anonymous cart: its token is "
            "in the answer's `cart_token` and `Cart-Token` header, to send with every later request."
        ),
        parameters=[CART_TOKEN],
        request=CartItemCreateSerializer,
        responses={201: CartSerializer, 404: CART_NOT_FOUND, 409: INSUFFICIENT_STOCK},
        tags=["cart"],
    )
    def post(self, request):
        serializer = CartItemCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = services.cart_add_item(**cart_owner(request), **serializer.validated_data)
        return self.render_cart(cart, status.HTTP_201_CREATED)


@positive_path_id()
class CartItemDetailView(CartAPIView):
    @extend_schema(
        summary="Change a line's quantity",
        description="1-100 and within stock (else 409 `insufficient_stock`); 0 is a 400: use DELETE.",
        parameters=[CART_TOKEN],
        request=CartItemUpdateSerializer,
        responses={200: CartSerializer, 409: INSUFFICIENT_STOCK},
        tags=["cart"],
    )
    def patch(self, request, pk: int):
        serializer = CartItemUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = services.cart_update_item(**cart_owner(request), item_id=pk, **serializer.validated_data)
        return self.render_cart(cart)

    @extend_schema(
        summary="Remove a line", parameters=[CART_TOKEN], request=None, responses={200: CartSerializer}, tags=["cart"]
    )
    def delete(self, request, pk: int):
        return self.render_cart(services.cart_remove_item(**cart_owner(request), item_id=pk))
