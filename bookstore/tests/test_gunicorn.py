"""The production server's configuration and its JSON access log."""

import json
import logging
from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config

from bookstore.gunicorn_logging import JsonAccessLogger


def test_json_access_log_line_carries_the_request_id_and_no_token():
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = JsonAccessLogger(cfg)
    response = SimpleNamespace(status="201 Created", sent=42, headers=[("X-Request-ID", "req-7")])
    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/orders",
        "QUERY_STRING": "token=eyJhbGciOi.eyJzdWIi.c2ln",
        "HTTP_USER_AGENT": "pytest",
    }

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.access_log.addHandler(handler)

    logger.access(response, None, environ, timedelta(milliseconds=12))

    line = json.loads(records[-1].getMessage())
    assert line["request_id"] == "req-7"
    assert line["status"] == 201 and line["path"] == "/api/v1/orders" and line["duration_ms"] == 12
    assert "eyJ" not in line["query"]
