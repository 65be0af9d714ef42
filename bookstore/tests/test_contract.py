"""The contract's conventions (docs/api.md): the cases a client developer found, each kept fixed here.

HTTP edges (405 before authentication, JSON for every answer under /api/, an over-long URL, the
JSON index), query parameters (one value each, `ordering` as one comma-separated list), money
inputs as decimal strings, and the OpenAPI schema that generated clients are built from
(required and optional fields, summaries, no internal notes, multipart cover, error codes).
"""

import re
import runpy
from pathlib import Path

import pytest
from django.test import Client

from catalog.tests.factories import AuthorFactory, BookFactory, CategoryFactory

API_JSON = "application/json"


def _component(schema, name: str) -> dict:
    return schema["components"]["schemas"][name]


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(API_JSON), response["Content-Type"]
    body = response.json()
    assert body["type"] in {"client_error", "validation_error", "server_error"}
    assert [error["code"] for error in body["errors"]] == [code], body


# Query parameters


@pytest.mark.django_db
@pytest.mark.parametrize("ordering", [",", "price,", ",price", "price,,title", " ", "-"])
def test_an_ordering_with_an_empty_or_bare_item_is_400(api_client, ordering):
    BookFactory()

    response = api_client.get("/api/v1/books", {"ordering": ordering})

    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["attr"] == "ordering"


@pytest.mark.django_db
def test_ordering_is_one_comma_separated_list(api_client):
    BookFactory(title="B", price="5.00")
    BookFactory(title="A", price="5.00")
    BookFactory(title="C", price="1.00")

    response = api_client.get("/api/v1/books", {"ordering": "-price,title"})

    assert response.status_code == 200, response.content
    assert [book["title"] for book in response.json()["results"]] == ["A", "B", "C"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/books?ordering=-price&ordering=title",
        "/api/v1/books?page=1&page=2",
        "/api/v1/books?page_size=5&page_size=5",
        "/api/v1/books?min_price=1&min_price=2",
        "/api/v1/books?search=a&search=b",
        "/api/v1/authors?search=a&search=b",
        "/api/v1/categories?parent=1&parent=2",
        "/api/v1/books/suggest?q=a&q=b",
    ],
)
def test_a_single_valued_query_parameter_given_twice_is_400(api_client, url):
    BookFactory()

    response = api_client.get(url)

    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["code"] == "multiple_values"


@pytest.mark.django_db
def test_a_single_valued_query_parameter_given_twice_is_400_on_user_lists(user_client):
    response = user_client.get("/api/v1/orders?page=1&page=1")

    _assert_error(response, 400, "multiple_values")


def test_ordering_is_one_string_parameter_in_the_schema(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/books"]["get"]["parameters"]}

    assert parameters["ordering"]["schema"]["type"] == "string"
    assert "explode" not in parameters["ordering"] or parameters["ordering"]["explode"] is False


# HTTP edges


@pytest.mark.django_db
@pytest.mark.parametrize("caller", ["anonymous", "customer"])
def test_a_method_the_route_does_not_serve_is_405_before_authentication(caller, api_client, user_client):
    client = api_client if caller == "anonymous" else user_client

    for method, url in [("put", "/api/v1/books"), ("delete", "/api/v1/books"), ("put", "/api/v1/orders")]:
        response = getattr(client, method)(url, {}, format="json")

        _assert_error(response, 405, "method_not_allowed")


@pytest.mark.django_db
def test_unknown_paths_under_api_answer_json_404(client):
    for url in ["/api/nope", "/api/v1/nope", "/api/v1/books/1/nope", "/api/v2/books"]:
        _assert_error(client.get(url), 404, "not_found")


def test_an_over_long_url_is_a_json_414_below_gunicorns_limit(client):
    from bookstore.middleware import MAX_URL_LENGTH

    # The app answers before gunicorn refuses in HTML (a request line is the method, URL and version).
    config = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    assert config["limit_request_line"] >= MAX_URL_LENGTH + 4000
    url = "/api/v1/books?search=" + "a" * MAX_URL_LENGTH

    _assert_error(client.get(url), 414, "uri_too_long")


@pytest.mark.django_db
def test_a_url_at_the_limit_is_served(client):
    from bookstore.middleware import MAX_URL_LENGTH

    path = "/api/v1/books?search="
    response = client.get(path + "a" * (MAX_URL_LENGTH - len(path) - 200))

    assert response.status_code == 400  # too long a search, but answered by the view
    assert response.json()["errors"][0]["attr"] == "search"


def test_an_unhandled_error_under_api_is_json_500(settings, monkeypatch):
    from catalog import views

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views.AuthorViewSet, "list", boom)
    client = Client(raise_request_exception=False)

    response = client.get("/api/v1/authors")

    _assert_error(response, 500, "error")
    assert b"secret" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/api", "/api/", "/api/v1", "/api/v1/"])
def test_the_roots_answer_a_json_index(client, url):
    response = client.get(url)

    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith(API_JSON)
    index = response.json()
    assert index["name"] == "Bookstore API"
    assert index["version"] == "1.0.0"
    assert index["links"]["schema"].endswith("/api/schema")
    assert index["links"]["docs"].endswith("/api/docs")
    for resource in ["books", "authors", "categories", "cart", "orders", "auth"]:
        assert index["resources"][resource].startswith("http"), index
        assert f"/api/v1/{resource}" in index["resources"][resource]


# Money inputs


@pytest.mark.django_db
@pytest.mark.parametrize("price", [12.5, 12, True, "12.505", "abc", "NaN", "Infinity", "1e3", None])
def test_money_inputs_take_decimal_strings_only(staff_client, price):
    book = BookFactory(price="9.99")

    response = staff_client.patch(f"/api/v1/books/{book.pk}", {"price": price}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["attr"] == "price"
    book.refresh_from_db()
    assert str(book.price) == "9.99"


@pytest.mark.django_db
def test_a_decimal_string_price_is_accepted(staff_client):
    book = BookFactory(price="9.99")

    response = staff_client.patch(f"/api/v1/books/{book.pk}", {"price": "12.50"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["price"] == "12.50"


@pytest.mark.django_db
@pytest.mark.parametrize("isbn", [{}, [], 9780306406157, True])
@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_a_non_string_isbn_is_400(staff_client, method, isbn):
    book = BookFactory()
    author = AuthorFactory()
    category = CategoryFactory()
    body = {
        "isbn": isbn,
        "title": "T",
        "price": "1.00",
        "stock": 1,
        "author_ids": [author.pk],
        "category_id": category.pk,
        "language": "en",
        "format": "paperback",
    }
    url = "/api/v1/books" if method == "post" else f"/api/v1/books/{book.pk}"

    response = getattr(staff_client, method)(url, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["attr"] == "isbn"


# The schema


def test_every_operation_has_a_summary(schema):
    missing = [f"{method.upper()} {path}" for path, method, op in _operations(schema) if not op.get("summary")]

    assert len(list(_operations(schema))) >= 45
    assert not missing, missing


INTERNAL = re.compile(
    r"services\.|serializers?\b|queryset|\.objects|with_listing_data|select_related|prefetch|"
    r"fuzzing|\bdef\b|\bself\b|_[a-z]+_[a-z]+\(|`[a-z_]+\.[a-z_]+\.[a-z_]+`",
    re.IGNORECASE,
)


def _descriptions(node, where="schema"):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"description", "summary"} and isinstance(value, str):
                yield where, value
            else:
                yield from _descriptions(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _descriptions(value, f"{where}[{i}]")


def test_no_description_talks_about_the_code_behind_it(schema):
    leaks = [(where, text) for where, text in _descriptions(schema) if INTERNAL.search(text)]

    assert not leaks, "\n".join(f"{where}: {text}" for where, text in leaks)


@pytest.mark.parametrize(
    "component, fields",
    [
        ("Author", ["id", "name", "bio"]),
        ("Category", ["id", "name", "slug", "parent_id", "description"]),
        ("Profile", ["id", "email", "first_name", "last_name", "is_email_verified", "is_staff", "date_joined"]),
        ("Review", ["id", "book_id", "user", "rating", "title", "body", "verified_purchase"]),
        ("ShippingAddress", ["full_name", "line1", "line2", "city", "region", "postal_code", "country", "phone"]),
        ("Book", ["id", "isbn", "title", "subtitle", "price", "currency", "stock", "cover_url", "description"]),
        ("Cart", ["items", "total_quantity", "subtotal", "currency"]),
        ("Order", ["id", "number", "status", "items", "total", "shipping_address", "status_history"]),
    ],
)
def test_response_fields_always_present_are_required(schema, component, fields):
    required = set(_component(schema, component).get("required", []))

    assert set(fields) <= required, sorted(set(fields) - required)


@pytest.mark.parametrize(
    "component, optional",
    [
        ("CartItemCreateRequest", ["quantity"]),
        ("OrderStatusUpdateRequest", ["note"]),
        ("ShippingAddressRequest", ["line2", "region"]),
    ],
)
def test_request_fields_with_defaults_are_optional(schema, component, optional):
    required = set(_component(schema, component).get("required", []))

    assert not set(optional) & required, sorted(set(optional) & required)


def test_the_cover_upload_is_a_binary_file_in_a_multipart_body(schema):
    body = schema["paths"]["/api/v1/books/{id}/cover"]["put"]["requestBody"]["content"]

    assert list(body) == ["multipart/form-data"]
    ref = body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    image = _component(schema, ref)["properties"]["image"]
    assert image == {"type": "string", "format": "binary"} or (
        image["type"] == "string" and image["format"] == "binary"
    ), image


def test_the_schema_documents_414_on_every_operation(schema):
    missing = [f"{m} {p}" for p, m, op in _operations(schema) if "414" not in op["responses"]]

    assert not missing, missing


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/books/{book}",
        "/api/v1/books/{book}/reviews",
        "/api/v1/books/suggest",
        "/api/v1/authors",
        "/api/v1/categories",
        "/api/v1/shipping-methods",
        "/api/v1/cart",
        "/api/v1/orders",
        "/api/v1/auth/me",
        "/api/v1/auth/me/addresses",
    ],
)
@pytest.mark.parametrize("fmt", ["xml", "api", "json"])
def test_format_in_the_query_never_chooses_a_renderer(user_client, path, fmt):
    url = path.format(book=BookFactory(title="Dune").pk)
    query = {"q": "dune"} if path.endswith("suggest") else {"country": "DE"} if "shipping" in path else {}
    plain = user_client.get(url, query)
    response = user_client.get(url, {**query, "format": fmt})

    assert plain.status_code == 200, plain.content
    assert (response.status_code, response["Content-Type"]) == (200, plain["Content-Type"])
    assert response.json() == plain.json()


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("json", "application/vnd.oai.openapi+json"), ("yaml", "application/vnd.oai.openapi")]
)
def test_the_schema_still_answers_its_own_format_parameter(fmt, content_type):
    response = Client().get("/api/schema", {"format": fmt})

    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)


def test_an_unknown_cart_token_is_a_documented_404(schema):
    for path, method in [
        ("/api/v1/cart", "get"),
        ("/api/v1/cart", "delete"),
        ("/api/v1/cart/items", "post"),
        ("/api/v1/checkout/quote", "post"),
    ]:
        assert _codes(schema, schema["paths"][path][method], "404") == {"not_found"}, (method, path)


def test_a_body_above_the_limit_is_documented_only_where_a_request_has_a_body(schema):
    with_body = {f"{m} {p}" for p, m, op in _operations(schema) if m in {"post", "put", "patch"}}
    with_413 = {f"{m} {p}" for p, m, op in _operations(schema) if "413" in op["responses"]}

    assert with_413 == with_body, (sorted(with_body - with_413), sorted(with_413 - with_body))


@pytest.mark.parametrize(
    "path, component, required",
    [
        ("/api/v1/cart/items/{id}", "CartItemUpdateRequest", {"quantity"}),
        ("/api/v1/orders/{id}", "OrderStatusUpdateRequest", {"status"}),
        ("/api/v1/books/{id}", "PatchedBookWriteRequest", set()),
    ],
)
def test_a_patch_body_validated_whole_documents_its_required_fields(schema, path, component, required):
    body = schema["paths"][path]["patch"]["requestBody"]

    assert body["content"][API_JSON]["schema"] == {"$ref": f"#/components/schemas/{component}"}
    assert set(_component(schema, component).get("required", [])) == required
    assert body.get("required", False) is bool(required)


def _codes(schema, operation: dict, status: str) -> set[str]:
    """Every error `code` an operation documents for a status, through $refs, oneOf and enums."""
    codes: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                walk(_component(schema, node["$ref"].rsplit("/", 1)[-1]))
                return
            code = node.get("properties", {}).get("code")
            if code is not None:
                resolved = code
                if "$ref" in code:
                    resolved = _component(schema, code["$ref"].rsplit("/", 1)[-1])
                codes.update(value for value in resolved.get("enum", []) if value)
                for part in resolved.get("allOf", []) + resolved.get("oneOf", []):
                    walk({"properties": {"code": part}})
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    response = operation["responses"].get(status, {})
    walk(response.get("content", {}).get(API_JSON, {}).get("schema", {}))
    return codes


@pytest.mark.parametrize(
    "path, method, status, expected",
    [
        ("/api/v1/cart/items", "post", "409", {"insufficient_stock"}),
        ("/api/v1/cart/items", "post", "400", {"does_not_exist", "max_value", "required"}),
        ("/api/v1/cart/items/{id}", "patch", "409", {"insufficient_stock"}),
        ("/api/v1/orders", "post", "400", {"empty_cart"}),
        ("/api/v1/orders", "post", "409", {"insufficient_stock", "idempotency_key_reused"}),
        ("/api/v1/orders/{id}/cancel", "post", "409", {"invalid_transition"}),
        ("/api/v1/orders/{id}", "patch", "409", {"invalid_transition"}),
        ("/api/v1/categories/{id}", "delete", "409", {"protected"}),
        ("/api/v1/authors/{id}", "delete", "409", {"protected"}),
        ("/api/v1/books", "post", "400", {"unique", "required", "invalid"}),
        ("/api/v1/books/{book_id}/reviews", "post", "400", {"unique"}),
        ("/api/v1/auth/register", "post", "400", {"unique", "password_invalid"}),
        ("/api/v1/auth/password/reset/confirm", "post", "400", {"invalid_token"}),
        ("/api/v1/auth/token", "post", "401", {"no_active_account"}),
        ("/api/v1/books/{id}", "get", "404", {"not_found"}),
        ("/api/v1/books", "get", "405", {"method_not_allowed"}),
        ("/api/v1/books/{id}/cover", "put", "413", {"file_too_large", "request_too_large"}),
    ],
)
def test_error_codes_are_enums_per_operation_and_status(schema, path, method, status, expected):
    codes = _codes(schema, schema["paths"][path][method], status)

    assert expected <= codes, (sorted(expected - codes), sorted(codes))


def test_no_error_code_is_a_free_string(schema):
    free = []
    for path, method, operation in _operations(schema):
        for status in operation["responses"]:
            if not status.startswith(("4", "5")):
                continue
            if not _codes(schema, operation, status):
                free.append(f"{method.upper()} {path} {status}")

    assert not free, free


def _ref(schema, ref_holder: dict) -> dict:
    return _component(schema, ref_holder["$ref"].rsplit("/", 1)[1])


def test_checkouts_201_declares_the_guests_order_token_as_present_for_guests_only(schema):
    created = schema["paths"]["/api/v1/orders"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    body = _ref(schema, created)

    assert body["properties"]["order_token"]["type"] == "string"
    assert "order_token" not in body.get("required", [])  # a signed-in customer's order has none
    assert {"id", "number", "payment", "expires_at"} <= set(body["required"])
    # the other order answers (list, detail, cancel) have no order token
    detail = schema["paths"]["/api/v1/orders/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert "order_token" not in _ref(schema, detail["schema"])["properties"]


def test_the_quote_request_has_only_the_fields_the_quote_reads(schema):
    request = schema["paths"]["/api/v1/checkout/quote"]["post"]["requestBody"]["content"]["application/json"]
    fields = set(_ref(schema, request["schema"])["properties"])

    assert fields == {"shipping_address", "shipping_address_id", "shipping_method"}
