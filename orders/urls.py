from rest_framework.routers import SimpleRouter

from orders.views import OrderViewSet

# No trailing slashes: bookstore.middleware strips them under /api/ before resolving.
router = SimpleRouter(trailing_slash="")
router.register("orders", OrderViewSet, basename="order")

urlpatterns = router.urls
