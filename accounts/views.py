"""The auth endpoints of the contract: register, tokens, logout, profile, passwords, cookie flow."""

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.middleware.csrf import get_token
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_serializers import ErrorResponse403Serializer
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import exceptions, generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.authentication import enforce_csrf
from accounts.models import User
from accounts.permissions import IsFromAllowedOrigin
from accounts.serializers import (
    AccountCloseSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    ProfileSerializer,
    RefreshSerializer,
    RegisterSerializer,
    SignInProfileSerializer,
    SignInTokenPairSerializer,
    TokenPairSerializer,
    UidTokenSerializer,
    validate_new_password,
)
from accounts.signals import email_verified, signed_in_fields
from bookstore.openapi import UNAUTHORIZED_RESPONSE

NO_CONTENT = OpenApiResponse(description="Done; no body.")
CSRF_REFUSED = OpenApiResponse(
    ErrorResponse403Serializer,
    description="The request's `Origin` is not one of the store's, or the CSRF check failed (`X-CSRFToken`).",
)


def _authenticate_credentials(request) -> tuple[User, str | None]:
    """The signed-in user and the `cart_token` to merge into their cart, if any."""
    serializer = LoginSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    user = authenticate(
        request, email=serializer.validated_data["email"], password=serializer.validated_data["password"]
    )
    if user is None:  # wrong password, unknown address and deactivated account look the same
        raise exceptions.AuthenticationFailed(
            "No active account found with the given credentials.", code="no_active_account"
        )
    return user, serializer.validated_data.get("cart_token")


def _token_pair_body(refresh) -> dict:
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


# Endpoints that authenticate by their body or cookies, not by an access token. (Comments, not
# docstrings: a view without a docstring of its own would show its base's in the API's schema.)
class AnonymousAPIView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'  # so a bad credential is a 401, not a 403


# Endpoints that anyone may call, under the stricter `auth` throttle.
class PublicAuthView(AnonymousAPIView):
    throttle_scope = "auth"


@extend_validation_errors(["password_invalid"], field_name="password")
class RegisterView(PublicAuthView):
    @extend_schema(
        summary="Register an account",
        description=(
            "Creates the account and emails a link to verify the address. The email is unique whatever its "
            "case (400 `unique`); the password must pass the store's password rules."
        ),
    )
    @extend_schema(request=RegisterSerializer, responses={201: SignInProfileSerializer}, tags=["auth"])
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart_token = serializer.validated_data.pop("cart_token", None)
        user = services.user_register(**serializer.validated_data)
        body = ProfileSerializer(user).data | signed_in_fields(user=user, cart_token=cart_token)
        return Response(body, status=status.HTTP_201_CREATED)


class TokenObtainView(PublicAuthView):
    @extend_schema(
        summary="Log in (tokens)",
        description=(
            "Trades an email and password for an access token (15 minutes) and a refresh token (7 days). "
            "Wrong credentials or an inactive account are 401."
        ),
    )
    @extend_schema(
        request=LoginSerializer, responses={200: SignInTokenPairSerializer, 401: UNAUTHORIZED_RESPONSE}, tags=["auth"]
    )
    def post(self, request):
        user, cart_token = _authenticate_credentials(request)
        body = _token_pair_body(services.token_pair_for_user(user=user))
        return Response(body | signed_in_fields(user=user, cart_token=cart_token))


class TokenRefreshView(AnonymousAPIView):
    @extend_schema(
        summary="Refresh the tokens",
        description=(
            "Trades a refresh token for a new pair; the old refresh token stops working (sending it again is 401)."
        ),
    )
    @extend_schema(
        request=RefreshSerializer, responses={200: TokenPairSerializer, 401: UNAUTHORIZED_RESPONSE}, tags=["auth"]
    )
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refresh, _user = services.token_refresh(raw_refresh=serializer.validated_data["refresh"])
        return Response(_token_pair_body(refresh))


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Log out",
        description="Revokes the refresh token, every token rotated from it, and the access token of this call.",
    )
    @extend_schema(request=RefreshSerializer, responses={204: NO_CONTENT}, tags=["auth"])
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_logout(
            user=request.user, raw_refresh=serializer.validated_data["refresh"], access_token=request.auth
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_validation_errors(
    ["required", "blank", "null", "invalid", "max_length", "password_incorrect"],
    field_name="password",
    methods=["delete"],
)
class MeView(generics.RetrieveUpdateAPIView):
    serializer_class = ProfileSerializer
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_object(self):
        return self.request.user

    @extend_schema(
        summary="Close your account",
        description="With your `password`: the account is closed at once (every token stops working) and your "
        "personal data erased; your orders stay for the shop's books with their personal fields replaced by "
        "`erased`. A wrong password is a 400.",
        request=AccountCloseSerializer,
        responses={204: NO_CONTENT},
        tags=["auth"],
    )
    def delete(self, request, *args, **kwargs):
        serializer = AccountCloseSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.user_close(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Your profile", tags=["auth"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Change your profile", description="`email` and `is_staff` cannot be changed here.", tags=["auth"]
    )
    def patch(self, request, *args, **kwargs):
        return super().patch(request, *args, **kwargs)


@extend_validation_errors(["password_incorrect"], field_name="old_password")
@extend_validation_errors(["password_invalid"], field_name="new_password")
class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Change the password",
        description="Needs the current password; every refresh token of the account is revoked.",
    )
    @extend_schema(request=PasswordChangeSerializer, responses={204: NO_CONTENT}, tags=["auth"])
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, new_password=serializer.validated_data["new_password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(PublicAuthView):
    @extend_schema(
        summary="Ask for a password reset link",
        description="Always 202, whether or not an account has this address; the link goes by email.",
    )
    @extend_schema(
        request=PasswordResetSerializer,
        responses={202: OpenApiResponse(description="Accepted, whether or not an account has this address.")},
        tags=["auth"],
    )
    def post(self, request):
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(email=serializer.validated_data["email"])
        return Response(status=status.HTTP_202_ACCEPTED)


@extend_validation_errors(["invalid_token"], field_name="token")
@extend_validation_errors(["password_invalid"], field_name="new_password")
class PasswordResetConfirmView(PublicAuthView):
    @extend_schema(
        summary="Set a new password from a reset link",
        description=(
            "A link works once; a wrong, used or expired one is 400 `invalid_token`. Revokes every refresh token."
        ),
    )
    @extend_schema(request=PasswordResetConfirmSerializer, responses={204: NO_CONTENT}, tags=["auth"])
    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = services.password_reset_check(uid=data["uid"], token=data["token"])
        try:
            validate_new_password(data["new_password"], user)
        except exceptions.ValidationError as error:
            raise exceptions.ValidationError({"new_password": error.detail}) from None
        services.password_reset_confirm(uid=data["uid"], token=data["token"], new_password=data["new_password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_validation_errors(["invalid_token"], field_name="token")
class EmailVerifyView(PublicAuthView):
    @extend_schema(
        summary="Verify the email address",
        description="With the `uid` and `token` of the emailed link; a wrong or used link is 400 `invalid_token`.",
    )
    @extend_schema(request=UidTokenSerializer, responses={204: NO_CONTENT}, tags=["auth"])
    def post(self, request):
        serializer = UidTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_verify_email(**serializer.validated_data)
        email_verified.send(sender=User, user=user)  # the guest orders placed with this address join the account
        return Response(status=status.HTTP_204_NO_CONTENT)


# Cookie flow for browsers: the tokens never appear in a body.


def _set_token_cookies(response: Response, refresh) -> None:
    jwt: dict[str, Any] = settings.SIMPLE_JWT
    common: dict[str, Any] = {"httponly": True, "secure": settings.JWT_AUTH_COOKIE_SECURE, "samesite": "Lax"}
    response.set_cookie(
        settings.JWT_AUTH_COOKIE_ACCESS,
        str(refresh.access_token),
        max_age=int(jwt["ACCESS_TOKEN_LIFETIME"].total_seconds()),
        path="/",
        **common,
    )
    response.set_cookie(
        settings.JWT_AUTH_COOKIE_REFRESH,
        str(refresh),
        max_age=int(jwt["REFRESH_TOKEN_LIFETIME"].total_seconds()),
        path=COOKIE_REFRESH_PATH,
        **common,
    )


def _delete_token_cookies(response: Response) -> None:
    response.delete_cookie(settings.JWT_AUTH_COOKIE_ACCESS, path="/", samesite="Lax")
    response.delete_cookie(settings.JWT_AUTH_COOKIE_REFRESH, path=COOKIE_REFRESH_PATH, samesite="Lax")


COOKIE_REFRESH_PATH = "/api/v1/auth/cookie/"
ORIGIN_REFUSED = OpenApiResponse(
    ErrorResponse403Serializer, description="The request's `Origin` is not one of the store's."
)


class CookieLoginView(PublicAuthView):
    permission_classes = [IsFromAllowedOrigin]

    @extend_schema(summary="Log in (cookies, for browsers)")
    @extend_schema(
        request=LoginSerializer,
        responses={200: SignInProfileSerializer, 401: UNAUTHORIZED_RESPONSE, 403: ORIGIN_REFUSED},
        description="Sets HttpOnly `access_token` and `refresh_token` cookies and a `csrftoken` cookie "
        "whose value unsafe requests must send back in `X-CSRFToken`.",
        tags=["auth"],
    )
    def post(self, request):
        user, cart_token = _authenticate_credentials(request)
        response = Response(ProfileSerializer(user).data | signed_in_fields(user=user, cart_token=cart_token))
        _set_token_cookies(response, services.token_pair_for_user(user=user))
        get_token(request)  # the CSRF middleware sets the csrftoken cookie on the way out
        return response


class CookieRefreshView(AnonymousAPIView):
    permission_classes = [IsFromAllowedOrigin]

    @extend_schema(
        summary="Refresh the cookies (browsers)",
        description="Reads the `refresh_token` cookie and sets new cookies; needs the `X-CSRFToken` header.",
    )
    @extend_schema(
        request=None,
        responses={200: ProfileSerializer, 401: UNAUTHORIZED_RESPONSE, 403: CSRF_REFUSED},
        tags=["auth"],
    )
    def post(self, request):
        enforce_csrf(request)
        raw = request.COOKIES.get(settings.JWT_AUTH_COOKIE_REFRESH)
        if not raw:
            raise exceptions.NotAuthenticated("No refresh_token cookie.")
        refresh, user = services.token_refresh(raw_refresh=raw)
        response = Response(ProfileSerializer(user).data)
        _set_token_cookies(response, refresh)
        return response


class CookieLogoutView(AnonymousAPIView):
    permission_classes = [IsFromAllowedOrigin]

    @extend_schema(
        summary="Log out (cookies, browsers)",
        description="Revokes the cookies' tokens and clears the cookies; needs the `X-CSRFToken` header.",
    )
    @extend_schema(request=None, responses={204: NO_CONTENT, 403: CSRF_REFUSED}, tags=["auth"])
    def post(self, request):
        enforce_csrf(request)
        raw_refresh = request.COOKIES.get(settings.JWT_AUTH_COOKIE_REFRESH)
        raw_access = request.COOKIES.get(settings.JWT_AUTH_COOKIE_ACCESS)
        services.cookie_logout(raw_refresh=raw_refresh, raw_access=raw_access)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        _delete_token_cookies(response)
        return response
