"""The probes answer GET (and HEAD); any other method is a JSON 405 in the error shape, CSRF or not."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_other_methods_on_the_probes_are_a_json_405(path, method):
    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)(path)

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET, HEAD"
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "method_not_allowed", "detail": f'Method "{method.upper()}" not allowed.', "attr": None}],
    }


@pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
def test_the_probes_answer_get_and_head(path):
    client = Client(enforce_csrf_checks=True)

    assert client.get(path).status_code == 200
    assert client.head(path).status_code == 200
