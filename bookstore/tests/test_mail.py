"""Queued email: a task row in the same transaction as what it tells of, or sent once that commits."""

import pytest
from django.core import mail
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from bookstore.mail import email_enqueue

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_TASKS = {"default": {"BACKEND": "bookstore.tasks.DatabaseBackend", "QUEUES": ["default"]}}


class Abandoned(Exception):
    pass


def test_a_database_queued_email_is_written_in_the_transaction_and_commits_with_it(settings):
    settings.TASKS = DATABASE_TASKS
    with transaction.atomic():
        email_enqueue(to="reader@example.com", subject="Your order", body="Thank you.")
        # Part of the transaction (one commit for both): no second transaction after it.
        assert DBTaskResult.objects.count() == 1

    (task,) = DBTaskResult.objects.all()
    assert task.args_kwargs["kwargs"] == {"to": ["reader@example.com"], "subject": "Your order", "body": "Thank you."}
    assert mail.outbox == []  # db_worker sends it


def test_a_database_queued_email_rolls_back_with_its_transaction(settings):
    settings.TASKS = DATABASE_TASKS
    with pytest.raises(Abandoned), transaction.atomic():
        email_enqueue(to="reader@example.com", subject="Your order", body="Thank you.")
        raise Abandoned

    assert not DBTaskResult.objects.exists()


def test_an_email_sent_at_once_waits_for_the_commit_and_never_goes_on_a_rollback(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with transaction.atomic():
        email_enqueue(to="reader@example.com", subject="Your order", body="Thank you.")
        assert mail.outbox == []
    assert [message.subject for message in mail.outbox] == ["Your order"]

    with pytest.raises(Abandoned), transaction.atomic():
        email_enqueue(to="other@example.com", subject="Never", body="-")
        raise Abandoned
    assert [message.to for message in mail.outbox] == [["reader@example.com"]]


def test_the_stores_backend_writes_the_row_django_tasks_db_writes_and_db_worker_sends_it(
    settings, django_assert_num_queries
):
    from django.core.management import call_command

    from bookstore.mail import send_email

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]},
        "store": {"BACKEND": "bookstore.tasks.DatabaseBackend", "QUEUES": ["default"]},
    }
    theirs = send_email.using(backend="default").enqueue(to=["a@example.com"], subject="S", body="B")
    with django_assert_num_queries(1):  # the task's row alone
        ours = send_email.using(backend="store").enqueue(to=["a@example.com"], subject="S", body="B")

    def row(result) -> dict:
        return DBTaskResult.objects.filter(pk=result.id).values().get()

    assert row(ours) == {
        **row(theirs),
        "id": ours.db_result.id,
        "enqueued_at": row(ours)["enqueued_at"],
        "backend_name": "store",
    }
    assert ours.id == str(ours.db_result.id) and ours.status == theirs.status == "READY"
    assert row(ours)["run_after"] == row(theirs)["run_after"]  # no run_after: the latest date, as theirs

    call_command("db_worker", "--batch", "--backend", "store", verbosity=0)
    assert [message.to for message in mail.outbox] == [["a@example.com"]]
    assert DBTaskResult.objects.get(pk=ours.db_result.id).status == "SUCCESSFUL"
