"""Production posture: API docs can be closed or kept for staff, and errors never leak internals.

`check --deploy` and the CORS refusal of unlisted origins are in test_platform.py.
"""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import ProgrammingError
from django.test import Client
from django.urls import clear_url_caches
from rest_framework.test import APIClient

import bookstore.urls
from bookstore import health
from cart import services as cart_services

BASE_DIR = Path(__file__).resolve().parents[2]
DOCS = ["/api/schema", "/api/docs", "/api/redoc", "/api/schema/", "/api/docs/", "/api/redoc/"]
PAGES = ["/api/docs", "/api/redoc/"]  # generating the schema takes seconds: served cases fetch it once


@pytest.fixture
def api_docs(settings):
    """Sets `API_DOCS` and rebuilds the URLconf, which reads it at import; restores both afterwards."""

    def configure(mode: str) -> None:
        settings.API_DOCS = mode
        clear_url_caches()
        importlib.reload(bookstore.urls)

    yield configure
    settings.API_DOCS = "public"  # the `settings` fixture restores the real value right after
    clear_url_caches()
    importlib.reload(bookstore.urls)


def _docs_status(client) -> set[int]:
    return {client.get(path).status_code for path in DOCS}


# API docs


@pytest.mark.django_db
def test_public_api_docs_are_open_to_anyone(api_docs, api_client):
    api_docs("public")

    assert {api_client.get(path).status_code for path in [*PAGES, "/api/schema/"]} == {200}


@pytest.mark.django_db
def test_staff_api_docs_refuse_anonymous_callers(api_docs, api_client):
    api_docs("staff")

    statuses = _docs_status(api_client)
    schema = api_client.get("/api/schema", HTTP_ACCEPT="application/json")

    assert statuses <= {401, 403}
    assert schema.status_code == 401
    assert schema.json()["errors"][0]["code"] == "not_authenticated"
    assert "paths" not in schema.content.decode()


@pytest.mark.django_db
def test_staff_api_docs_refuse_customers(api_docs, user_client, user, password):
    api_docs("staff")
    session = Client()
    session.force_login(user)

    assert _docs_status(user_client) == {403}
    assert _docs_status(session) == {403}


@pytest.mark.django_db
def test_staff_api_docs_serve_staff_by_token_and_by_admin_session(api_docs, staff_client, staff_user):
    api_docs("staff")
    session = Client()
    session.force_login(staff_user)  # signed in to the admin

    assert {staff_client.get(path).status_code for path in [*PAGES, "/api/schema"]} == {200}
    assert {session.get(path).status_code for path in PAGES} == {200}
    assert session.get("/api/schema", HTTP_ACCEPT="application/json").json()["openapi"].startswith("3.")


@pytest.mark.django_db
def test_api_docs_off_are_not_found_even_for_staff(api_docs, api_client, staff_client):
    api_docs("off")

    assert _docs_status(api_client) == {404}
    assert _docs_status(staff_client) == {404}
    assert api_client.get("/api/docs").json()["errors"][0]["code"] == "not_found"


def _run_check(env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "API_DOCS"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


# `manage.py check` and `django.setup()` in subprocesses (seconds each): the slow tier, `make test` runs them.
@pytest.mark.slow
def test_an_unknown_api_docs_value_refuses_to_start():
    # A typo such as "private" must not leave the docs public in production.
    result = _run_check({"API_DOCS": "private"})

    assert result.returncode != 0
    assert "API_DOCS" in result.stderr


@pytest.mark.slow
def test_api_docs_value_is_read_case_insensitively():
    script = "from django.conf import settings; print(settings.API_DOCS)"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=BASE_DIR,
        env={**os.environ, "API_DOCS": " Staff ", "DJANGO_SETTINGS_MODULE": "bookstore.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "staff"


# Server errors


SERVER_ERROR = {"type": "server_error", "errors": [{"code": "error", "detail": "Server Error (500)", "attr": None}]}


def _assert_no_internals(response, settings) -> None:
    body = response.content.decode()
    assert response.status_code == 500
    assert response.json() == SERVER_ERROR
    for leak in ("Traceback", 'File "', settings.SECRET_KEY, "SELECT", "catalog_book", "boom", "DATABASE"):
        assert leak not in body


@pytest.mark.django_db
def test_a_failing_service_is_a_bare_500_in_the_error_shape(settings, monkeypatch, user):
    settings.DEBUG = False

    def broken(**kwargs):
        raise RuntimeError(f"boom: SECRET_KEY={settings.SECRET_KEY}")

    monkeypatch.setattr(cart_services, "cart_get", broken)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)

    _assert_no_internals(client.get("/api/v1/cart"), settings)


@pytest.mark.django_db
def test_a_database_error_never_shows_its_sql(settings, monkeypatch, user):
    settings.DEBUG = False

    def broken(**kwargs):
        raise ProgrammingError('boom: column "secret" does not exist LINE 1: SELECT "secret" FROM "catalog_book"')

    monkeypatch.setattr(cart_services, "cart_get", broken)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)

    _assert_no_internals(client.get("/api/v1/cart"), settings)


@pytest.mark.django_db
def test_a_crash_outside_the_rest_framework_is_a_bare_500_in_the_error_shape(settings, monkeypatch):
    settings.DEBUG = False

    def broken():
        raise RuntimeError(f"boom: {settings.SECRET_KEY} {settings.DATABASES['default']}")

    monkeypatch.setattr(health, "_readiness_checks", broken)
    client = Client(raise_request_exception=False)

    _assert_no_internals(client.get("/health/ready"), settings)


@pytest.mark.django_db
def test_an_admin_crash_shows_django_plain_500_page(settings, monkeypatch, admin_client):
    settings.DEBUG = False
    from catalog.admin import BookAdmin

    def broken(self, request):
        raise RuntimeError(f"boom: {settings.SECRET_KEY}")

    monkeypatch.setattr(BookAdmin, "get_queryset", broken)
    admin_client.raise_request_exception = False

    response = admin_client.get("/admin/catalog/book/")

    body = response.content.decode()
    assert response.status_code == 500
    assert "Server Error (500)" in body
    assert "Traceback" not in body and settings.SECRET_KEY not in body and "boom" not in body
