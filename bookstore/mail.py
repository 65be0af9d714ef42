"""Outgoing email, sent through the task backend so a slow mail server never blocks a request."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django_tasks import task


@task()
def send_email(*, to: list[str], subject: str, body: str) -> int:
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to, fail_silently=False)


def email_enqueue(*, to: str, subject: str, body: str) -> None:
    """Queue an email once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: send_email.enqueue(to=[to], subject=subject, body=body))
