"""The user cache on and off: `GET` an authenticated endpoint N times in-process (the whole middleware and DRF stack).

Run against PostgreSQL and Redis, DEBUG=0:
    DATABASE_URL=postgres://... REDIS_URL=redis://... DEBUG=0 SECRET_KEY=... ALLOWED_HOSTS=localhost \\
    THROTTLE_RATE_USER=1000000/min PYTHONPATH=. .venv/bin/python bench/auth_user_cache.py 500 /api/v1/auth/me
"""

import os
import statistics
import sys
import time

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookstore.settings")
    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    url = sys.argv[2] if len(sys.argv) > 2 else "/api/v1/auth/me"
    user, _ = User.objects.get_or_create(email="bench-me@example.com", defaults={"first_name": "B"})
    client = Client(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}", HTTP_HOST="localhost")

    def run(on: bool) -> tuple[float, int]:
        settings.AUTH_USER_CACHE = on
        cache.clear()
        client.get(url)  # warm
        seen = []

        def counted(execute, sql, params, many, context):
            seen.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            assert client.get(url).status_code == 200
        start = time.perf_counter()
        for _ in range(count):
            client.get(url)
        return (time.perf_counter() - start) / count * 1000, len(seen)

    times: dict[bool, list[float]] = {True: [], False: []}
    queries = {}
    for _round in range(7):
        for on in (True, False):
            ms, queries[on] = run(on)
            times[on].append(ms)
    for on in (True, False):
        runs = ", ".join(f"{ms:.3f}" for ms in times[on])
        label = "on " if on else "off"
        median = statistics.median(times[on])
        print(f"cache {label}: median {median:.3f} ms/request (runs {runs}), {queries[on]} queries/request")


if __name__ == "__main__":
    main()
