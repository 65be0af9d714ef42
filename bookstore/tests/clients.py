"""The signed-in API client every app's tests use: `client_for(user)` sends the user's access token."""

from typing import Any

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


def client_for(user, **options: Any) -> APIClient:
    """An `APIClient(**options)` that calls the API as `user`, with a fresh access token."""
    client = APIClient(**options)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client
