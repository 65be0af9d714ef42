"""The API's JSON renderer: DRF's bytes, written by orjson.

DRF's `JSONRenderer` runs the standard library's encoder with a Python `default` hook. A page of
20 books (11 KB, the bench's data) took it 137 µs to write, orjson 11 µs; every answer of the API
goes through it, and a cached catalog read writes its answer again after merging the current
stock in (catalog.caching).

The bytes are DRF's: compact separators, UTF-8 rather than `\\u` escapes, U+2028 and U+2029
escaped (DRF's guard for JavaScript parsers), and whatever orjson does not write itself (dates and
times, decimals, lazy text, sets, ...) handed to DRF's own encoder (`default`). What orjson
refuses (an integer beyond 64 bits, a key that is not a string, text that is not valid Unicode)
and an indented answer (`Accept: application/json; indent=2`) are rendered by DRF itself, so they
come out (or fail) exactly as before. Two differences, neither in an answer of this API (ratings
are averages of 1 to 5, money is text): a float below 1e-4 or from 1e16 up is written in orjson's
exponent form (`1e-5`, where Python writes `1e-05`), and a NaN or infinite float is `null`, where
DRF raised.
"""

import orjson
from rest_framework import renderers

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# DRF's escapes of the two line terminators JavaScript does not allow in a string, in UTF-8.
_LINE_SEPARATOR, _PARAGRAPH_SEPARATOR = "\u2028".encode(), "\u2029".encode()


class JSONRenderer(renderers.JSONRenderer):
    def __init__(self):
        self._default = self.encoder_class().default

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if (
            self.ensure_ascii
            or not self.compact
            or self.get_indent(accepted_media_type, renderer_context or {}) is not None
        ):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            content = orjson.dumps(data, default=self._default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)  # its answer, or its error
        if _LINE_SEPARATOR in content:
            content = content.replace(_LINE_SEPARATOR, b"\\u2028")
        if _PARAGRAPH_SEPARATOR in content:
            content = content.replace(_PARAGRAPH_SEPARATOR, b"\\u2029")
        return content
