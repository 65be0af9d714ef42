"""gunicorn settings for production: `gunicorn bookstore.wsgi -c gunicorn.conf.py`.

Every value comes from the environment (see docs/deploy.md), with defaults for a small machine.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# One process per core, four threads each: on the bench (bench/results/*-workers.md) this beat
# 2 × cores + 1 sync workers by about a fifth on the book detail and matched it elsewhere. The
# work is mostly Python (one core per process at most); the threads fill the waits on
# PostgreSQL and Redis. GUNICORN_THREADS=1 gives sync workers.
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count())))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread" if threads > 1 else "sync"

timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then, so a slow leak never grows without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "2000"))
# Import the app once, in the master: a new or recycled worker is a fork, not 1.3 s of CPU
# importing Django (at 2,000 requests per worker that import was a quarter of a 2-core
# machine under load). Code changes then need a restart (or USR2), not a HUP.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"

# The longest request line gunicorn reads (its maximum). The app itself refuses a URL above
# bookstore.middleware.MAX_URL_LENGTH (4000) with a JSON 414; gunicorn's own refusal, above this,
# is an HTML page, so this stays well above the app's limit.
limit_request_line = int(os.environ.get("GUNICORN_LIMIT_REQUEST_LINE", "8190"))

# Trust X-Forwarded-* only from the reverse proxy (comma-separated addresses).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
if os.environ.get("LOG_FORMAT") == "json":
    logger_class = "bookstore.gunicorn_logging.JsonAccessLogger"
else:
    access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'
