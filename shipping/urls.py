from django.urls import path

from shipping.views import ShippingMethodListView

urlpatterns = [path("shipping-methods", ShippingMethodListView.as_view(), name="shipping-methods")]
