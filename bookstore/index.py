"""The JSON index at `/`, `/api/` and `/api/v1/`: what this server is and where its parts live."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

# The roots of the API's resources, under /api/v1/.
RESOURCES = {
    "auth": "auth/token",
    "me": "auth/me",
    "books": "books",
    "categories": "categories",
    "authors": "authors",
    "cart": "cart",
    "orders": "orders",
}


@extend_schema(exclude=True)
class IndexView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    http_method_names = ["get", "head", "options"]

    def get(self, request):
        base = request.build_absolute_uri("/")
        links = {"api": f"{base}api/v1/", "health": f"{base}health/ready", "admin": f"{base}admin/"}
        if settings.API_DOCS != "off":
            links |= {"schema": f"{base}api/schema", "docs": f"{base}api/docs", "redoc": f"{base}api/redoc"}
        return Response(
            {
                "name": settings.SPECTACULAR_SETTINGS["TITLE"],
                "version": settings.SPECTACULAR_SETTINGS["VERSION"],
                "links": links,
                "resources": {name: f"{base}api/v1/{path}" for name, path in RESOURCES.items()},
            }
        )
