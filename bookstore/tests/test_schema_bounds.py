"""The OpenAPI schema states the bounds the API enforces: pages, sizes, ids, ratings, prices."""

import pytest


def _parameter(schema, path, name, method="get", location="query"):
    parameters = schema["paths"][path][method].get("parameters", [])
    [parameter] = [p for p in parameters if (p["name"], p["in"]) == (name, location)]
    return parameter["schema"]


@pytest.mark.parametrize("path", ["/api/v1/books", "/api/v1/orders", "/api/v1/categories", "/api/v1/authors"])
def test_page_and_page_size_are_at_least_one(schema, path):
    assert _parameter(schema, path, "page")["minimum"] == 1
    page_size = _parameter(schema, path, "page_size")
    assert (page_size["minimum"], page_size["default"]) == (1, 20)
    assert "maximum" not in page_size  # larger is clamped to 100, not refused


def test_book_filters_state_their_ranges(schema):
    rating = _parameter(schema, "/api/v1/books", "min_rating")
    assert (rating["minimum"], rating["maximum"]) == (1, 5)
    for name in ("min_price", "max_price"):
        assert _parameter(schema, "/api/v1/books", name)["minimum"] == 0


@pytest.mark.parametrize(
    ("path", "method", "name"),
    [
        ("/api/v1/books/{id}", "get", "id"),
        ("/api/v1/books/{id}", "patch", "id"),
        ("/api/v1/books/{id}/cover", "put", "id"),
        ("/api/v1/books/{book_id}/reviews", "get", "book_id"),
        ("/api/v1/categories/{id}", "get", "id"),
        ("/api/v1/authors/{id}", "delete", "id"),
        ("/api/v1/reviews/{id}", "patch", "id"),
        ("/api/v1/cart/items/{id}", "patch", "id"),
        ("/api/v1/orders/{id}", "get", "id"),
        ("/api/v1/orders/{id}/cancel", "post", "id"),
    ],
)
def test_path_ids_are_positive_integers(schema, path, method, name):
    id_schema = _parameter(schema, path, name, method=method, location="path")
    assert (id_schema["type"], id_schema["minimum"]) == ("integer", 1)
