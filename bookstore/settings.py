"""Settings for the Bookstore project.

Every value an operator may change comes from the environment, with a safe default for a
local run. The README's *Configuration* section lists them; `docs` of the production
variables are in the README's *Production* section.
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_decimal(name: str, default: str) -> Decimal:
    value = os.environ.get(name) or default
    try:
        return Decimal(value).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise ImproperlyConfigured(f"{name} must be a decimal amount, not {value!r}") from None


# Core
DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG=0 (generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`)."
        )
    SECRET_KEY = "django-insecure-development-key-do-not-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])

ROOT_URLCONF = "bookstore.urls"
WSGI_APPLICATION = "bookstore.wsgi.application"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Apps
DJANGO_APPS = [
    # The back office's theme: before django.contrib.admin, whose templates it overrides.
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "corsheaders",
    "django_tasks",
    "django_tasks_db",
]
LOCAL_APPS = [
    "backoffice",
    "accounts",
    "catalog",
    "cart",
    "addresses",
    "shipping",
    "orders",
    "customers",
    "payments",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    "bookstore.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "bookstore.middleware.RequestLineMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "bookstore.middleware.ApiTrailingSlashMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Databases
# SQLite in the project by default; DATABASE_URL (postgres://...) switches to PostgreSQL
# through psycopg 3. DB_POOL=1 uses psycopg's connection pool instead of persistent
# connections (CONN_MAX_AGE seconds, with a health check before reuse).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with a health check that asks the connection's socket rather than the
    # server (bookstore/postgresql/base.py): no `SELECT 1` round trip before each request's queries.
    DATABASES["default"]["ENGINE"] = "bookstore.postgresql"
    # Session settings sent when a connection opens, pooled or not (no query per connection):
    # no JIT, which compiles any query the planner guesses is big
    # (about 25 ms here) and so costs a web request's small queries far more than it saves.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = " ".join(
        filter(
            None,
            [
                _options.get("options"),
                "-c jit=off",
            ],
        )
    )
    # Parameters bound by the server (psycopg's default), which prepared statements need. Django
    # prepares none (its default `prepare_threshold` is None); bookstore.compiled prepares its key
    # lookups, run on every detail, add to cart and checkout, unless DB_PREPARED_STATEMENTS=0.
    _options.setdefault("server_side_binding", env_bool("DB_SERVER_SIDE_BINDING", True))
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] == "bookstore.postgresql" and env_bool("DB_POOL"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 2),
        "max_size": env_int("DB_POOL_MAX_SIZE", 10),
        "timeout": env_int("DB_POOL_TIMEOUT", 10),
    }

# Cache (shared by all workers when REDIS_URL is set: throttling, token denylist)
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "bookstore.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "bookstore"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "bookstore",
        }
    }

# Background tasks (emails). Inline by default; TASKS_BACKEND=database stores them for
# `manage.py db_worker`, so a slow mail server never blocks a request (django-tasks-db's backend,
# its rows written by a statement compiled once: bookstore.tasks).
TASKS = {
    "default": {
        "BACKEND": {
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
            "database": "bookstore.tasks.DatabaseBackend",
            "dummy": "django_tasks.backends.dummy.DummyBackend",
        }[env_str("TASKS_BACKEND", "immediate")],
        "QUEUES": ["default"],
    }
}

# Passwords
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60 * 24)

# Static and media files
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_URL = env_str("MEDIA_URL", "/media/")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Request bodies: 10 MB keeps room for a 5 MB cover in a multipart form.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Email
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "sent_emails"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Bookstore <no-reply@bookstore.local>")
FRONTEND_URL = env_str("FRONTEND_URL", "http://localhost:3000").rstrip("/")

# Money rules
STORE_CURRENCY = env_str("STORE_CURRENCY", "USD")
SHIPPING_FLAT_RATE = env_decimal("SHIPPING_FLAT_RATE", "4.99")
FREE_SHIPPING_THRESHOLD = env_decimal("FREE_SHIPPING_THRESHOLD", "35.00")
# The two above are only the `standard` shipping method's price and free-over threshold when the
# first migration creates it; staff manage shipping methods and tax rates in the admin from then on.
# PRICES_INCLUDE_TAX=1: catalog prices include tax (EU style); 0: tax is added on top (US style).
PRICES_INCLUDE_TAX = env_bool("PRICES_INCLUDE_TAX", False)

# The seller on invoices and packing slips (orders/documents.py); SHOP_ADDRESS's lines are split on "\n".
SHOP_NAME = env_str("SHOP_NAME", "Bookstore Ltd")
SHOP_ADDRESS = env_str("SHOP_ADDRESS", "1 Market Street\nLondon EC1A 1AA\nUnited Kingdom").replace("\\n", "\n")
SHOP_TAX_NUMBER = env_str("SHOP_TAX_NUMBER")

# Carts
ANONYMOUS_CART_DAYS = env_int("ANONYMOUS_CART_DAYS", 30)

# Reviews: a review reported by this many different customers is hidden until staff decide.
REVIEW_REPORTS_TO_HIDE = env_int("REVIEW_REPORTS_TO_HIDE", 3)

# Payments. Manual payments (bank transfer) need no account anywhere; card payments by Stripe are
# on only when both Stripe secrets are set. Unpaid orders expire: cards after
# PAYMENT_TIMEOUT_MINUTES, manual ones after MANUAL_PAYMENT_DAYS (`manage.py expire_unpaid_orders`).
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env_str("STRIPE_API_BASE").rstrip("/")  # empty: Stripe's own
STRIPE_TIMEOUT = env_int("STRIPE_TIMEOUT", 10)  # seconds per call to Stripe
PAYMENT_TIMEOUT_MINUTES = env_int("PAYMENT_TIMEOUT_MINUTES", 30)
MANUAL_PAYMENT_DAYS = env_int("MANUAL_PAYMENT_DAYS", 7)
MANUAL_PAYMENT_INSTRUCTIONS = env_str(
    "MANUAL_PAYMENT_INSTRUCTIONS",
    "Pay by bank transfer to Bookstore Ltd, IBAN GB00 BOOK 0000 0000 0000 00, quoting your order number. "
    "We ship once the money has arrived.",
)
PAYMENT_DEFAULT_METHOD = env_str("PAYMENT_DEFAULT_METHOD", "manual")
if PAYMENT_DEFAULT_METHOD not in ("manual", "stripe"):
    raise ImproperlyConfigured("PAYMENT_DEFAULT_METHOD must be `manual` or `stripe`.")
if PAYMENT_DEFAULT_METHOD == "stripe" and not (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET):
    raise ImproperlyConfigured("PAYMENT_DEFAULT_METHOD=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.")

# REST framework
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.JWTCookieAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # DRF's JSON, written by orjson (a tenth of the time: bookstore.renderers).
    "DEFAULT_RENDERER_CLASSES": ["bookstore.renderers.JSONRenderer"],
    # JSON only: a cross-site form can send multipart or urlencoded bodies without a preflight.
    # The cover upload alone takes multipart (its view names the parser); any other body is a 415.
    "DEFAULT_PARSER_CLASSES": ["bookstore.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "bookstore.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["bookstore.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "bookstore.openapi.AutoSchema",
    # drf-standardized-errors' handler, with the store's errors (DRF_STANDARDIZED_ERRORS below).
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "bookstore.throttling.AnonRateThrottle",
        "bookstore.throttling.UserRateThrottle",
        "bookstore.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("THROTTLE_RATE_ANON", "100/min"),
        "user": env_str("THROTTLE_RATE_USER", "1000/min"),
        "auth": env_str("THROTTLE_RATE_AUTH", "10/min"),
        "checkout": env_str("THROTTLE_RATE_CHECKOUT", "30/min"),
    },
    # Clients are identified by REMOTE_ADDR, or by the address NUM_PROXIES trusted
    # proxies put in X-Forwarded-For; a client cannot forge its way out of a throttle.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # `?format=` is a filter (the books' format), never a renderer choice: JSON is the only one.
    "URL_FORMAT_OVERRIDE": None,
}

# JWT
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # simplejwt's access token, with every claim checked for its type and range.
    "AUTH_TOKEN_CLASSES": ("accounts.tokens.AccessToken",),
}
JWT_AUTH_COOKIE_ACCESS = "access_token"
JWT_AUTH_COOKIE_REFRESH = "refresh_token"
# Signed-in users' rows in the shared cache (accounts.user_cache); off, every request reads the row.
AUTH_USER_CACHE = env_bool("AUTH_USER_CACHE", True)
# This deploy's name (e.g. the git commit): part of the user cache's keys, so no deploy reads another's pickles.
RELEASE_ID = env_str("RELEASE_ID", "")
JWT_AUTH_COOKIE_SECURE = env_bool("JWT_AUTH_COOKIE_SECURE", not DEBUG)

# OpenAPI
SPECTACULAR_SETTINGS = {
    "TITLE": "Bookstore API",
    "DESCRIPTION": "REST API of the Bookstore: catalog, accounts, cart and orders.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # The contract is JSON in and out: request bodies are documented as JSON (the cover upload
    # names multipart itself, and its view alone parses it).
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "ENUM_NAME_OVERRIDES": {
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "bookstore.openapi.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
        "PaymentMethodEnum": "payments.models.PAYMENT_METHOD_CHOICES",
        "PaymentStatusEnum": "payments.models.PAYMENT_STATUS_CHOICES",
        "StatusEnum": "orders.models.ORDER_STATUS_CHOICES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "bookstore.openapi.body_limit_only_on_bodies",
        "bookstore.openapi.error_codes_per_operation",
    ],
}
# Errors: drf-standardized-errors answers them with the store's handler (bookstore/exception_handler.py);
# in the schema, its own error responses (400 per operation, from its fields),
# plus 413, 414 and 503, each operation's codes as an enum (bookstore/openapi.py).
DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "bookstore.exception_handler.ExceptionHandler",
    "ALLOWED_ERROR_STATUS_CODES": ["400", "401", "403", "404", "405", "406", "413", "414", "415", "429", "500", "503"],
    "ERROR_SCHEMAS": {
        "401": "bookstore.openapi.ErrorResponse401Serializer",
        "413": "bookstore.openapi.ErrorResponse413Serializer",
        "414": "bookstore.openapi.ErrorResponse414Serializer",
        "503": "bookstore.openapi.ErrorResponse503Serializer",
    },
}
# API docs: "public" (default), "staff" (Swagger/ReDoc/schema for staff sessions only) or "off".
# An unknown value refuses to start: a typo must not leave the docs public in production.
API_DOCS = env_str("API_DOCS").strip().lower() or "public"
if API_DOCS not in {"public", "staff", "off"}:
    raise ImproperlyConfigured(f"API_DOCS must be public, staff or off, not {API_DOCS!r}")

# Security
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", ["http://localhost:3000", "http://127.0.0.1:3000"])
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# CORS
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", ["http://localhost:3000", "http://127.0.0.1:3000"])
CORS_ALLOW_CREDENTIALS = True
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["Cart-Token", "Retry-After", "X-Request-ID"]
CORS_ALLOW_HEADERS = (*default_cors_headers, "idempotency-key", "cart-token", "order-token")

# The back office (django-unfold): the shop's models grouped for staff, the developers' models apart
# (superusers only), and the dashboard as the admin's home page (backoffice/).
UNFOLD = {
    "SITE_TITLE": "Bookstore back office",
    "SITE_HEADER": "Bookstore",
    "SITE_SUBHEADER": "Back office",
    "SITE_SYMBOL": "menu_book",
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "backoffice.dashboard.dashboard_callback",
    "COLORS": {
        "primary": {
            "50": "oklch(97.9% .021 166.113)",
            "100": "oklch(95% .052 163.051)",
            "200": "oklch(90.5% .093 164.15)",
            "300": "oklch(84.5% .143 164.978)",
            "400": "oklch(76.5% .177 163.223)",
            "500": "oklch(69.6% .17 162.48)",
            "600": "oklch(59.6% .145 163.225)",
            "700": "oklch(50.8% .118 165.612)",
            "800": "oklch(43.2% .095 166.913)",
            "900": "oklch(37.8% .077 168.94)",
            "950": "oklch(26.2% .051 172.552)",
        },
    },
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "backoffice.navigation.sidebar",
    },
}

# Logging
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "bookstore.logging.RequestIdFilter"},
        "redact": {"()": "bookstore.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "redact"],
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
    },
}
