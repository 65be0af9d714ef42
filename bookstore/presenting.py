"""DRF's output formats as plain functions, for the hot paths' answers built without serializers.

`catalog.reads` (the book list and detail) and `orders.presenting` and `payments.presenting` (the
order) build their answers with these, byte for byte what the serializers they stand in for give
(catalog/tests/test_reads.py and payments/tests/test_presenting.py compare them); the serializers
stay the schema's.
"""

import decimal
import functools
from decimal import Decimal

_PLACES = {2: Decimal("0.01"), 4: Decimal("0.0001")}  # the decimal places the API's fields have


@functools.cache
def _context(max_digits: int) -> decimal.Context:
    return decimal.Context(prec=max_digits)  # rounding: ROUND_HALF_EVEN, as DRF's


def decimal_value(value, *, max_digits: int, places: int = 2) -> Decimal:
    """`DecimalField(max_digits, decimal_places=places)`'s quantized value (its `coerce_to_string=False` answer)."""
    if not isinstance(value, Decimal):
        value = Decimal(str(value).strip())
    return value.quantize(_PLACES[places], context=_context(max_digits))


def decimal_text(value, *, max_digits: int, places: int = 2) -> str:
    """`DecimalField(max_digits, decimal_places=places)`'s answer: the quantized value's digits."""
    return f"{decimal_value(value, max_digits=max_digits, places=places):f}"


def money(value) -> str:
    """An amount of the orders' money fields (`DecimalField(max_digits=12, decimal_places=2)`)."""
    return decimal_text(value, max_digits=12)


def datetime_text(value, tz) -> str | None:
    """`DateTimeField`'s answer: ISO 8601 in the current time zone (`tz`), UTC written "Z"."""
    if value is None:
        return None
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
