"""Logging filters: the request id on every line, and no secrets in any line."""

import contextvars
import logging
import re

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# JWTs (three base64url parts, the first an encoded JSON header) and "password"-like values.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_SECRET_FIELD = re.compile(
    r"""(?P<key>["']?(?:password|new_password|old_password|token|access|refresh|secret)["']?\s*[:=]\s*)"""
    r"""(?P<value>"[^"]*"|'[^']*'|[^\s,&}]+)""",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    text = _JWT.sub("[REDACTED]", text)
    return _SECRET_FIELD.sub(lambda m: f"{m.group('key')}[REDACTED]", text)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RedactSecretsFilter(logging.Filter):
    """Rewrites the rendered message so that tokens and passwords never reach a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the formatter
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
