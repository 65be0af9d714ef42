"""The API's JSON renderer writes DRF's bytes (bookstore.renderers)."""

import datetime
import decimal
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from hypothesis import given
from hypothesis import strategies as st
from rest_framework import renderers

from bookstore.renderers import JSONRenderer

drf = renderers.JSONRenderer()
ours = JSONRenderer()

# JSON-like values as the API's answers hold them: any text (every plane, control characters, the
# line terminators), integers of 64 bits, floats in the range the API writes (no exponent form).
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(min_value=1e-4, max_value=1e15) | st.floats(min_value=-1e15, max_value=-1e-4) | st.just(0.0)
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9), max_value=10**9)
    | st.datetimes(timezones=st.sampled_from([datetime.UTC, ZoneInfo("Europe/Paris")]))
    | st.dates()
    | st.uuids()
)  # fmt: skip
_values = st.recursive(_scalars, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=40)


@given(_values)
def test_any_answer_is_written_as_drf_writes_it(value):
    assert ours.render(value) == drf.render(value)


@pytest.mark.parametrize(
    "value",
    [
        {"text": '\x00\x1f\x7f"\\\n\t\b\f\r é 😀 \u2028 \u2029 \ufeff'},
        {"when": datetime.datetime(2026, 12, 4, 14, 0, 0, 123456, tzinfo=datetime.UTC)},  # ...Z
        {"when": datetime.datetime(2026, 12, 4, 14, 0)},  # naive
        {"time": datetime.time(9, 30), "day": datetime.date(2026, 2, 28), "took": datetime.timedelta(seconds=90)},
        {"price": decimal.Decimal("12.50"), "id": uuid.UUID(int=7), "label": gettext_lazy("Books")},
        {"tags": {"one"}, "pair": ("a", 1), "raw": b"bytes"},
        {1: "a key that is not a string", None: True},  # orjson refuses: DRF's rendering
        {"big": 2**70, "small": -(2**70)},  # beyond 64 bits: DRF's rendering
        [],
        "",
        0,
    ],
)
def test_the_types_drf_knows_are_written_as_drf_writes_them(value):
    assert ours.render(value) == drf.render(value)


def test_nothing_is_an_empty_body():
    assert ours.render(None) == b""


def test_an_indent_asked_for_is_drfs_indented_answer():
    value = {"a": [1, {"b": "é"}]}
    assert ours.render(value, "application/json; indent=2") == drf.render(value, "application/json; indent=2")
    assert b"\n  " in ours.render(value, "application/json; indent=2")


def test_what_drf_refuses_is_refused_alike():
    with pytest.raises(ValueError, match="timezone-aware"):  # DRF's encoder's own error
        ours.render({"at": datetime.time(9, tzinfo=datetime.UTC)})
    with pytest.raises(TypeError):
        ours.render({"thing": object()})
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate is not UTF-8
        ours.render({"text": "\ud800"})


def test_the_api_answers_with_it(client, settings):
    from bookstore.renderers import JSONRenderer as configured

    assert settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] == ["bookstore.renderers.JSONRenderer"]
    assert configured is JSONRenderer
    response = client.get("/api/v1/books?ordering=nonsense")  # an error answer, through the same renderer
    assert response.status_code == 400
    assert response.content == drf.render(response.json())
