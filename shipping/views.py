"""Which shipping methods deliver to a country."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from bookstore.serializers import Presenter
from shipping.models import ShippingMethod
from shipping.serializers import ShippingMethodQuerySerializer, ShippingMethodSerializer


@extend_validation_errors(
    [
        "required",
        "blank",
        "invalid",
        "min_length",
        "max_length",
        "null_characters_not_allowed",
        "surrogate_characters_not_allowed",
    ],
    field_name="country",
    methods=["get"],
)
class ShippingMethodListView(APIView):
    permission_classes = [AllowAny]
    present = Presenter(ShippingMethodSerializer, many=True)

    @extend_schema(
        summary="Shipping methods to a country",
        description="The methods that deliver to `country`, cheapest first within the store's own order. "
        "A missing or unknown country code is a 400.",
        parameters=[
            OpenApiParameter("country", str, required=True, description="ISO 3166-1 alpha-2 code, such as `FR`.")
        ],
        responses={200: ShippingMethodSerializer(many=True)},
        tags=["shipping"],
    )
    def get(self, request):
        if len(request.query_params.getlist("country")) > 1:
            raise ValidationError({"country": ["Give one country."]}, code="invalid")
        query = ShippingMethodQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        methods = ShippingMethod.objects.active().delivering_to(query.validated_data["country"])
        return Response(self.present(methods, {"request": request}))
