"""The auth endpoints of the contract: register, tokens, logout, profile, passwords, cookie flow."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.middleware.csrf import get_token
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_serializers import ErrorResponse403Serializer
from rest_framework import exceptions, generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.authentication import enforce_csrf
from accounts.models import User
from accounts.permissions import IsFromAllowedOrigin
from accounts.serializers import (
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
from bookstore.openapi import UNAUTHORIZED_RESPONSE
from cart.services import cart_merge
from customers.serializers import AccountCloseSerializer
from customers.views import account_close
from orders.services import guest_orders_claim

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


class AnonymousAPIView(APIView):
    """Endpoints that authenticate by their body or cookies, not by an access token."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'  # so a bad credential is a 401, not a 403


class PublicAuthView(AnonymousAPIView):
    """Endpoints that anyone may call, under the stricter `auth` throttle."""

    throttle_scope = "auth"


class RegisterView(PublicAuthView):
    @extend_schema(request=RegisterSerializer, responses={201: SignInProfileSerializer}, tags=["auth"])
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart_token = serializer.validated_data.pop("cart_token", None)
        user = services.user_register(**serializer.validated_data)
        body = ProfileSerializer(user).data | {"cart_merge": cart_merge(user=user, token=cart_token)}
        return Response(body, status=status.HTTP_201_CREATED)


class TokenObtainView(PublicAuthView):
    @extend_schema(
        request=LoginSerializer, responses={200: SignInTokenPairSerializer, 401: UNAUTHORIZED_RESPONSE}, tags=["auth"]
    )
    def post(self, request):
        user, cart_token = _authenticate_credentials(request)
        body = _token_pair_body(services.token_pair_for_user(user=user))
        return Response(body | {"cart_merge": cart_merge(user=user, token=cart_token)})


class TokenRefreshView(AnonymousAPIView):
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

    @extend_schema(request=RefreshSerializer, responses={204: NO_CONTENT}, tags=["auth"])
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_logout(
            user=request.user, raw_refresh=serializer.validated_data["refresh"], access_token=request.auth
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        return account_close(request)

    @extend_schema(tags=["auth"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=["auth"])
    def patch(self, request, *args, **kwargs):
        return super().patch(request, *args, **kwargs)


class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=PasswordChangeSerializer, responses={204: NO_CONTENT}, tags=["auth"])
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, new_password=serializer.validated_data["new_password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(PublicAuthView):
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


class PasswordResetConfirmView(PublicAuthView):
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


class EmailVerifyView(PublicAuthView):
    @extend_schema(request=UidTokenSerializer, responses={204: NO_CONTENT}, tags=["auth"])
    def post(self, request):
        serializer = UidTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_verify_email(**serializer.validated_data)
        guest_orders_claim(user=user)  # the guest orders placed with this address join the account
        return Response(status=status.HTTP_204_NO_CONTENT)


# Cookie flow for browsers: the tokens never appear in a body.


def _set_token_cookies(response: Response, refresh) -> None:
    jwt = settings.SIMPLE_JWT
    common = {"httponly": True, "secure": settings.JWT_AUTH_COOKIE_SECURE, "samesite": "Lax"}
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

    @extend_schema(
        request=LoginSerializer,
        responses={200: SignInProfileSerializer, 401: UNAUTHORIZED_RESPONSE, 403: ORIGIN_REFUSED},
        description="Sets HttpOnly `access_token` and `refresh_token` cookies and a `csrftoken` cookie "
        "whose value unsafe requests must send back in `X-CSRFToken`.",
        tags=["auth"],
    )
    def post(self, request):
        user, cart_token = _authenticate_credentials(request)
        response = Response(ProfileSerializer(user).data | {"cart_merge": cart_merge(user=user, token=cart_token)})
        _set_token_cookies(response, services.token_pair_for_user(user=user))
        get_token(request)  # the CSRF middleware sets the csrftoken cookie on the way out
        return response


class CookieRefreshView(AnonymousAPIView):
    permission_classes = [IsFromAllowedOrigin]

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

    @extend_schema(request=None, responses={204: NO_CONTENT, 403: CSRF_REFUSED}, tags=["auth"])
    def post(self, request):
        enforce_csrf(request)
        raw_refresh = request.COOKIES.get(settings.JWT_AUTH_COOKIE_REFRESH)
        raw_access = request.COOKIES.get(settings.JWT_AUTH_COOKIE_ACCESS)
        services.cookie_logout(raw_refresh=raw_refresh, raw_access=raw_access)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        _delete_token_cookies(response)
        return response
