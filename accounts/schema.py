"""OpenAPI description of the JWT authentication (header or cookie)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class JWTCookieAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.JWTCookieAuthentication"
    name = ["jwtAuth", "cookieAuth"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {"type": "apiKey", "in": "cookie", "name": "access_token"},
        ]
