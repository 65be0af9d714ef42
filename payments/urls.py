from django.urls import path
from rest_framework.routers import SimpleRouter

from payments.views import OrderViewSet, StripeWebhookView

# The orders' routes with their money; `bookstore.urls` puts these before `orders.urls`.
router = SimpleRouter(trailing_slash=False)
router.register("orders", OrderViewSet, basename="order")

urlpatterns = [
    path("payments/stripe/webhook", StripeWebhookView.as_view(), name="stripe-webhook"),
    *router.urls,
]
