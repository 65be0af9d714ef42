from django.urls import path

from addresses.views import AddressDetailView, AddressListView

# Under /api/v1/auth/me/ (bookstore.urls); no trailing slashes, as everywhere under /api/.
urlpatterns = [
    path("addresses", AddressListView.as_view(), name="addresses"),
    path("addresses/<int:pk>", AddressDetailView.as_view(), name="address"),
]
