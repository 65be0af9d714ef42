"""The caller's own data: export it, or close the account (the DELETE of `auth/me`, see accounts.views)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import services
from customers.serializers import AccountCloseSerializer, ExportSerializer


class ExportView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Everything the store holds about you",
        description="Your profile, saved addresses, orders with their lines, reviews and carts, as one JSON document.",
        responses={200: ExportSerializer},
        tags=["auth"],
    )
    def get(self, request):
        return Response(services.customer_export(user=request.user))


def account_close(request) -> Response:
    """`DELETE auth/me` {password}: 204, the account closed and erased; a wrong password is a 400."""
    serializer = AccountCloseSerializer(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    services.customer_erase(user=request.user)
    return Response(status=status.HTTP_204_NO_CONTENT)
