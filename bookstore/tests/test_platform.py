"""Operations: health probes, error shape, headers, CORS, gzip, schema, logging, settings guards."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from pythonjsonlogger.json import JsonFormatter

from accounts import checks
from bookstore import health
from bookstore.logging import RedactSecretsFilter, RequestIdFilter, redact
from bookstore.openapi import SchemaGeneratorOncePerProcess

BASE_DIR = Path(__file__).resolve().parents[2]


# Health


def test_liveness_is_ok(client):
    response = client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readiness_checks_the_database(client, settings):
    settings.REDIS_URL = ""

    response = client.get("/health/ready/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


@pytest.mark.django_db
def test_readiness_checks_the_cache_when_one_is_configured(client, settings):
    settings.REDIS_URL = settings.REDIS_URL or "redis://configured.example:6379/0"  # locmem answers in tests

    response = client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


@pytest.mark.django_db
def test_readiness_is_503_naming_the_database_when_it_fails(client, monkeypatch):
    def broken():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_check_database", broken)

    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
    assert "refused" not in response.content.decode()  # no internals


@pytest.mark.django_db
def test_readiness_checks_a_configured_cache(client, settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"

    def broken_set(*args, **kwargs):
        raise ConnectionError("cache is down")

    monkeypatch.setattr(health.cache, "set", broken_set)

    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "unavailable"}
    assert response.json()["failed"] == ["cache"]


# Error shape and routing


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}],
    }


@pytest.mark.django_db
def test_wrong_method_is_a_405_in_the_error_shape(api_client):
    response = api_client.get("/api/v1/auth/token")

    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_trailing_slash_is_optional_and_never_redirects(api_client, user, password):
    without = api_client.post("/api/v1/auth/token", {"email": user.email, "password": password})
    with_slash = api_client.post("/api/v1/auth/token/", {"email": user.email, "password": password})

    assert without.status_code == with_slash.status_code == 200


# Headers, CORS, gzip


def test_security_headers_and_request_id(client):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="abc-123")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Request-ID"] == "abc-123"


def test_an_unsafe_request_id_is_replaced(client):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="bad id\nwith newline")

    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32


def test_cors_preflight_from_a_listed_origin_is_allowed(client):
    response = client.options(
        "/api/v1/auth/token",
        HTTP_ORIGIN="http://localhost:3000",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )

    assert response["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert response["Access-Control-Allow-Credentials"] == "true"


def test_cors_preflight_from_an_unlisted_origin_gets_no_allow_origin(client):
    response = client.options(
        "/api/v1/auth/token",
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )

    assert "Access-Control-Allow-Origin" not in response


def test_large_responses_are_gzipped(client):
    response = client.get("/api/schema", HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"


# OpenAPI


def test_openapi_schema_generates_valid_and_without_warnings(capsys):
    """What CI's `manage.py spectacular --validate --fail-on-warn` checks, through the functions it calls
    (the command also looks up the source line of every view and serializer for its messages: seconds)."""
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert not GENERATOR_STATS, capsys.readouterr().err  # no warning and no error
    validate_schema(schema)
    assert "/api/v1/auth/token/refresh" in schema["paths"]
    assert "ErrorResponse401" in schema["components"]["schemas"]


def test_the_served_schema_is_generated_once_until_a_setting_it_reads_changes(monkeypatch, client, settings):
    """Generating the schema takes about a second of CPU: `/api/schema` keeps it, per process, as the code made it."""
    generated = []
    generate = SchemaGenerator.get_schema
    monkeypatch.setattr(SchemaGenerator, "get_schema", lambda self, **kw: generated.append(1) or generate(self, **kw))
    # A store of its own, empty: what the process kept is put back after the test (`monkeypatch` is
    # undone after `settings`, whose restoring empties this one), still valid for the restored settings.
    monkeypatch.setattr(SchemaGeneratorOncePerProcess, "_schemas", {})

    first = client.get("/api/schema", HTTP_ACCEPT="application/json")
    again = client.get("/api/schema", HTTP_ACCEPT="application/json")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert len(generated) == 1

    settings.SHOP_NAME = "Another Bookstore"  # a setting the schema does not read: what was kept stays
    settings.API_DOCS = "public"
    assert client.get("/api/schema", HTTP_ACCEPT="application/json").json() == first.json()
    assert len(generated) == 1

    settings.SPECTACULAR_SETTINGS = {**settings.SPECTACULAR_SETTINGS}  # one it reads (as a test or a reload does)
    assert client.get("/api/schema", HTTP_ACCEPT="application/json").json() == first.json()
    assert len(generated) == 2


def test_api_docs_are_served(client):
    assert client.get("/api/docs").status_code == 200
    assert client.get("/api/redoc").status_code == 200
    assert client.get("/api/schema").status_code == 200


# Logging


@pytest.mark.django_db
def test_log_lines_carry_the_request_id_and_never_secrets(api_client, user, password):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecretsFilter())
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s %(request_id)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        good = api_client.post("/api/v1/auth/token", {"email": user.email, "password": password})
        bad = api_client.post(
            "/api/v1/auth/token", {"email": user.email, "password": "hunter2-secret"}, HTTP_X_REQUEST_ID="req-42"
        )
        logging.getLogger("bookstore").warning("echo %s", {"refresh": good.json()["refresh"], "password": password})
    finally:
        root.removeHandler(handler)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert bad.status_code == 401
    assert any(line["request_id"] == "req-42" and "Unauthorized" in line["message"] for line in lines)
    output = stream.getvalue()
    for secret in (password, "hunter2-secret", good.json()["access"], good.json()["refresh"]):
        assert secret not in output


def test_redact_hides_jwts_and_password_fields():
    text = 'login {"password": "s3cret", "refresh": "abc"} Bearer eyJhbGciOiJI.eyJzdWIiOjF9.sig'

    cleaned = redact(text)

    assert "s3cret" not in cleaned and "eyJhbGciOiJI" not in cleaned and '"abc"' not in cleaned
    assert cleaned.count("[REDACTED]") == 3


# Settings guards


def _run_django(env: dict, *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


# `manage.py` in a subprocess (a django.setup() of its own, seconds each): the slow tier, `make test` runs them.
@pytest.mark.slow
def test_start_refuses_without_secret_key_when_debug_is_off():
    result = _run_django({"DEBUG": "0"}, "check")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG=0" in result.stderr


@pytest.mark.slow
def test_deploy_check_passes_with_production_variables():
    result = _run_django(
        {
            "DEBUG": "0",
            "SECRET_KEY": "p" * 20 + "-production-grade-secret-key-" + "q" * 20,
            "ALLOWED_HOSTS": "shop.example.com",
            "SECURE_SSL_REDIRECT": "1",
            "SECURE_HSTS_SECONDS": "31536000",
            "SECURE_HSTS_PRELOAD": "1",
        },
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_rotation_without_the_blacklist_app_refuses_to_start(monkeypatch):
    installed = checks.apps.is_installed
    monkeypatch.setattr(
        checks.apps, "is_installed", lambda name: name != "rest_framework_simplejwt.token_blacklist" and installed(name)
    )

    with pytest.raises(ImproperlyConfigured, match="token_blacklist"):
        checks.require_blacklist_with_rotation()
