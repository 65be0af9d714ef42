"""The caller's own data, exported (closing the account, the DELETE of `auth/me`, is accounts'; see its signals)."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import services
from customers.serializers import ExportSerializer


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
