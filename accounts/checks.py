"""Start-up guards for the JWT configuration."""

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def require_blacklist_with_rotation() -> None:
    """Rotation without the blacklist app would leave every rotated refresh token usable."""
    jwt = getattr(settings, "SIMPLE_JWT", {})
    if jwt.get("ROTATE_REFRESH_TOKENS") and not apps.is_installed("rest_framework_simplejwt.token_blacklist"):
        raise ImproperlyConfigured(
            "SIMPLE_JWT['ROTATE_REFRESH_TOKENS'] is on, so 'rest_framework_simplejwt.token_blacklist' "
            "must be in INSTALLED_APPS: otherwise a rotated refresh token stays valid."
        )
