"""Request body parsers of the API."""

import re

from rest_framework import parsers
from rest_framework.exceptions import ErrorDetail, ParseError, ValidationError
from rest_framework.settings import api_settings

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate_path(data) -> str | None:
    """The dotted path (`shipping_address.city`, `author_ids.1`) of the first string holding a lone
    surrogate, "" for one in the body itself or in a key; None when there is none.

    A surrogate pair (`\\ud83d\\udcda`) is decoded into one character: only unpaired halves remain.
    """
    stack: list[tuple[str, object]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if _LONE_SURROGATE.search(value):
                return path
        elif isinstance(value, dict):
            for key, item in value.items():
                if _LONE_SURROGATE.search(key):
                    return path
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{index}" if path else str(index), item) for index, item in enumerate(value))
    return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, except that JSON nested too deeply for Python's decoder is a 400, not a 500,
    and so is text with a lone surrogate (an unpaired `\\ud800`-`\\udfff` escape), which no valid
    text holds: a 400 `invalid` on the field that has it, before any serializer sees it.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        path = _lone_surrogate_path(data)
        if path is not None:
            detail = ErrorDetail(
                "Text must not contain a lone surrogate (an unpaired \\ud800-\\udfff).", code="invalid"
            )
            raise ValidationError({path or api_settings.NON_FIELD_ERRORS_KEY: [detail]})
        return data
