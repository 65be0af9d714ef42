"""The API's exception handler maps passing database faults to a 503 and never leaks internals."""

import pytest
from django.db import InterfaceError, OperationalError
from rest_framework.test import APIClient

from catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_database_error_is_a_503_with_retry_after_and_no_internals(monkeypatch, error):
    BookFactory()
    client = APIClient(raise_request_exception=False)

    def broken(*args, **kwargs):
        raise error("server closed the connection unexpectedly; password=hunter2 host=db.internal")

    monkeypatch.setattr("catalog.views.BookViewSet.get_queryset", broken)
    monkeypatch.setattr("bookstore.compiled.CompiledStatement.rows", broken)  # the list's page statement
    response = client.get("/api/v1/books")

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response.json() == {
        "type": "server_error",
        "errors": [
            {
                "code": "service_unavailable",
                "detail": "The service is briefly unavailable; try again shortly.",
                "attr": None,
            }
        ],
    }
    assert "hunter2" not in response.content.decode()


def test_other_errors_stay_a_500_without_internals(monkeypatch):
    client = APIClient(raise_request_exception=False)

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("catalog.views.BookViewSet.get_queryset", broken)
    monkeypatch.setattr("bookstore.compiled.CompiledStatement.rows", broken)  # the list's page statement
    response = client.get("/api/v1/books")

    assert response.status_code == 500
    assert response.json()["type"] == "server_error"
    assert "secret" not in response.content.decode()


def test_a_domain_error_is_answered_in_the_error_shape_with_its_meta(monkeypatch):
    from bookstore.exceptions import ConflictError

    class StaleError(ConflictError):
        code = "stale"
        default_detail = "Someone changed it first."

    def conflicting(*args, **kwargs):
        raise StaleError(attr="stock", meta={"current": 4})

    monkeypatch.setattr("catalog.views.BookViewSet.get_queryset", conflicting)
    monkeypatch.setattr("bookstore.compiled.CompiledStatement.rows", conflicting)  # the list's page statement
    response = APIClient().get("/api/v1/books")

    assert response.status_code == 409
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "stale", "detail": "Someone changed it first.", "attr": "stock", "meta": {"current": 4}}],
    }
