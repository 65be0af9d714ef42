"""WSGI entry point, served by gunicorn in production."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookstore.settings")

application = get_wsgi_application()

# The URLconf, and with it every view, serializer and schema extension, imported here rather than
# by each worker's first request: with gunicorn's `preload_app` the workers fork with them loaded
# (shared pages), and a worker that `max_requests` replaces answers its first request at full speed.
get_resolver().url_patterns  # noqa: B018 (the attribute's import is the point)
