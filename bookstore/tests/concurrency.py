"""Running API requests at the same moment, each thread with its own database connection.

Race tests need PostgreSQL (row locks, real unique-index waits) and commit for real: mark them
`@pytest.mark.postgres` and `@pytest.mark.django_db(transaction=True)`.
"""

import threading
from collections import Counter

from django.db import connection


def run_together(requests: list) -> list:
    """Runs each `request()` in its own thread, all released at once; returns the responses in order."""
    barrier = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)
    errors: list[BaseException] = []

    def worker(index, request):
        try:
            barrier.wait(timeout=30)
            responses[index] = request()
        except BaseException as error:  # surfaced below: a thread's exception is otherwise lost
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request hung (deadlock?)"
    assert not errors, errors
    return responses


def outcomes(responses) -> Counter:
    """`Counter` of (status, first error code, its attr) per response; (status, None, None) for a success."""

    def outcome(response):
        if response.status_code < 400:
            return (response.status_code, None, None)
        error = response.json()["errors"][0]
        return (response.status_code, error["code"], error["attr"])

    return Counter(outcome(response) for response in responses)


def meet_before(monkeypatch, *targets: tuple[object, str], parties: int) -> None:
    """Makes `parties` threads meet before any of them calls one of `targets` (`(owner, name)` pairs).

    Each has then done everything before that call (the serializer's checks, say) while the
    others had written nothing: the race every request of a real one could lose, every time.
    """
    barrier = threading.Barrier(parties)
    for owner, name in targets:
        original = getattr(owner, name)

        def gated(*args, _original=original, **kwargs):
            barrier.wait(timeout=30)
            return _original(*args, **kwargs)

        monkeypatch.setattr(owner, name, gated)
