from django.urls import path
from rest_framework.routers import SimpleRouter

from orders.views import OrderViewSet, QuoteView

# No trailing slashes: bookstore.middleware strips them under /api/ before resolving.
router = SimpleRouter(trailing_slash=False)
router.register("orders", OrderViewSet, basename="order")

urlpatterns = [path("checkout/quote", QuoteView.as_view(), name="checkout-quote"), *router.urls]
