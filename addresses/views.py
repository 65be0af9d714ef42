"""The caller's address book: GET (a plain list) and POST on the collection, PATCH and DELETE on one address."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from addresses import services
from addresses.models import Address
from addresses.serializers import AddressSerializer


@extend_validation_errors(["address_book_full"], methods=["post"])
class AddressListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Your saved addresses",
        description="A plain list (not paginated), the default first.",
        responses={200: AddressSerializer(many=True)},
        tags=["addresses"],
    )
    def get(self, request):
        return Response(AddressSerializer(Address.objects.for_user(request.user), many=True).data)

    @extend_schema(
        summary="Save an address",
        description="With `is_default: true` it becomes the one default. At most 20 addresses: more is a 400 "
        "`address_book_full`.",
        request=AddressSerializer,
        responses={201: AddressSerializer},
        tags=["addresses"],
    )
    def post(self, request):
        serializer = AddressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        address = services.address_create(user=request.user, **serializer.validated_data)
        return Response(AddressSerializer(address).data, status=status.HTTP_201_CREATED)


class AddressDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Change a saved address",
        description="Any of its fields; `is_default: true` takes the default from any other. Another user's is a 404.",
        request=AddressSerializer,
        responses={200: AddressSerializer},
        tags=["addresses"],
    )
    def patch(self, request, pk: int):
        services.address_for_user(user=request.user, address_id=pk)  # 404 before 400 for another user's
        serializer = AddressSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        address = services.address_update(user=request.user, address_id=pk, **serializer.validated_data)
        return Response(AddressSerializer(address).data)

    @extend_schema(
        summary="Remove a saved address",
        request=None,
        responses={204: OpenApiResponse(description="Removed.")},
        tags=["addresses"],
    )
    def delete(self, request, pk: int):
        services.address_delete(user=request.user, address_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
