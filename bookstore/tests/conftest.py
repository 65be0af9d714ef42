"""The generated OpenAPI schema, read by the contract and schema-bounds tests."""

import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="session")
def schema():
    """The public schema as `/api/schema` serves it (generating it takes about a second: once a run)."""
    return SchemaGenerator().get_schema(request=None, public=True)
