"""Outgoing email, sent through the task backend so a slow mail server never blocks a request."""

from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django_tasks import task
from django_tasks_db import DatabaseBackend


@task()
def send_email(*, to: list[str], subject: str, body: str) -> int:
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to, fail_silently=False)


def email_enqueue(*, to: str, subject: str, body: str) -> None:
    """Queues an email about what the current transaction writes; it goes only if that commits.

    A backend that keeps its queue in the database (`TASKS_BACKEND=database`, production's) writes
    the task's row in the transaction itself: the row commits with the order it tells of, in the
    same commit, or rolls back with it, and `db_worker` only ever sees committed rows. Any other
    backend (the immediate one sends at once) is called once the transaction commits.
    """
    enqueue = partial(send_email.enqueue, to=[to], subject=subject, body=body)
    if isinstance(send_email.get_backend(), DatabaseBackend):
        enqueue()
    else:
        transaction.on_commit(enqueue)
