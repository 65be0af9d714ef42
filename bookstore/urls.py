"""Root URLs: the JSON index, the versioned API, its docs, health probes and the admin."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAdminUser

from accounts.authentication import JWTCookieAuthentication
from bookstore import health
from bookstore.index import IndexView
from bookstore.openapi import SchemaFormatNegotiation, SchemaGeneratorOncePerProcess

api_v1 = [
    path("auth/", include("accounts.urls")),
    path("auth/me/", include("addresses.urls")),
    path("auth/me/", include("customers.urls")),
    path("", include("catalog.urls")),
    path("", include("cart.urls")),
    path("", include("shipping.urls")),
    path("", include("payments.urls")),  # before orders.urls: its `orders` routes carry the money
    path("", include("orders.urls")),
]

index = IndexView.as_view()
urlpatterns = [
    path("", index, name="index"),
    path("api", index),
    path("api/", index),
    path("api/v1", index, name="api-index"),
    path("api/v1/", include(api_v1)),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("admin/", admin.site.urls),
]

if settings.API_DOCS != "off":
    # "staff": readable by staff signed in to the admin (session) or with a staff token.
    docs_access = (
        {
            "permission_classes": [IsAdminUser],
            "authentication_classes": [JWTCookieAuthentication, SessionAuthentication],
        }
        if settings.API_DOCS == "staff"
        else {"permission_classes": [AllowAny]}
    )
    urlpatterns += [
        path(
            "api/schema",
            SpectacularAPIView.as_view(
                content_negotiation_class=SchemaFormatNegotiation,
                generator_class=SchemaGeneratorOncePerProcess,
                **docs_access,
            ),
            name="schema",
        ),
        path("api/docs", SpectacularSwaggerView.as_view(url_name="schema", **docs_access), name="swagger-ui"),
        path("api/redoc", SpectacularRedocView.as_view(url_name="schema", **docs_access), name="redoc"),
    ]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "bookstore.error_views.bad_request"
handler403 = "bookstore.error_views.permission_denied"
handler404 = "bookstore.error_views.page_not_found"
handler500 = "bookstore.error_views.server_error"
