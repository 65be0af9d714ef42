"""DRF's output formats as plain functions, for the hot paths' answers built without serializers.

`catalog.reads` (the book list and detail) and `orders.presenting` (orders) build their answers
from rows or instances with these, byte for byte what the serializers they stand in for give
(each module's tests compare the two); the serializers stay the schema's.
"""

import decimal
from decimal import Decimal

_CONTEXTS: dict[int, decimal.Context] = {}
_PLACES = {2: Decimal("0.01"), 4: Decimal("0.0001")}


def _context(max_digits: int) -> decimal.Context:
    context = _CONTEXTS.get(max_digits)
    if context is None:
        context = _CONTEXTS[max_digits] = decimal.Context(prec=max_digits)  # rounding: ROUND_HALF_EVEN, as DRF's
    return context


def decimal_value(value, *, max_digits: int, places: int = 2) -> Decimal:
    """`DecimalField(max_digits, decimal_places=places)`'s quantized value (its `coerce_to_string=False` answer)."""
    if not isinstance(value, Decimal):
        value = Decimal(str(value).strip())
    return value.quantize(_PLACES[places], context=_context(max_digits))


def decimal_text(value, *, max_digits: int, places: int = 2) -> str:
    """`DecimalField(max_digits, decimal_places=places)`'s answer: the quantized value's digits."""
    return f"{decimal_value(value, max_digits=max_digits, places=places):f}"


def datetime_text(value, tz) -> str | None:
    """`DateTimeField`'s answer: ISO 8601 in the current time zone (`tz`), UTC written "Z"."""
    if value is None:
        return None
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
