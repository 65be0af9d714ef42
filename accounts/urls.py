from django.urls import path

from accounts import views

urlpatterns = [
    path("register", views.RegisterView.as_view(), name="auth-register"),
    path("token", views.TokenObtainView.as_view(), name="auth-token"),
    path("token/refresh", views.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("logout", views.LogoutView.as_view(), name="auth-logout"),
    path("me", views.MeView.as_view(), name="auth-me"),
    path("password/change", views.PasswordChangeView.as_view(), name="auth-password-change"),
    path("password/reset", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path("password/reset/confirm", views.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"),
    path("email/verify", views.EmailVerifyView.as_view(), name="auth-email-verify"),
    path("cookie/login", views.CookieLoginView.as_view(), name="auth-cookie-login"),
    path("cookie/refresh", views.CookieRefreshView.as_view(), name="auth-cookie-refresh"),
    path("cookie/logout", views.CookieLogoutView.as_view(), name="auth-cookie-logout"),
]
