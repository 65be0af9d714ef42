from django.urls import path

from customers.views import ExportView

# Under /api/v1/auth/me/ (bookstore.urls).
urlpatterns = [path("export", ExportView.as_view(), name="auth-me-export")]
