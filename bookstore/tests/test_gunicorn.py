"""The production server's configuration and its JSON access log."""

import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from bookstore.gunicorn_logging import JsonAccessLogger

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.slow  # an interpreter in a subprocess
def test_the_wsgi_module_loads_every_view_before_the_workers_fork():
    """gunicorn preloads `bookstore.wsgi` and forks its workers from it: each worker's first request
    (and every worker that `max_requests` replaces) must not import the URLconf and the views."""
    views = ("catalog.views", "orders.views", "payments.views")
    code = f"import sys, bookstore.wsgi; print([m for m in {views!r} if m in sys.modules])"
    env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "bookstore.settings"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.splitlines()[-1] == str(list(views))
