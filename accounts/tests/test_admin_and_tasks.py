"""The users' back office, and registration email through the database task queue."""

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def test_user_changelist_searches_by_email_and_name(admin_client):
    UserFactory(email="margaret.atwood@example.com", first_name="Margaret")
    UserFactory(email="someone.else@example.com", first_name="Someone")

    by_email = admin_client.get("/admin/accounts/user/", {"q": "atwood"})
    by_name = admin_client.get("/admin/accounts/user/", {"q": "Margaret"})

    assert by_email.status_code == by_name.status_code == 200
    for response in (by_email, by_name):
        assert b"margaret.atwood@example.com" in response.content
        assert b"someone.else@example.com" not in response.content


def test_user_changelist_filters_by_staff_active_and_verified(admin_client):
    UserFactory(email="verified@example.com", is_email_verified=True)
    UserFactory(email="unverified@example.com", is_email_verified=False)

    response = admin_client.get("/admin/accounts/user/", {"is_email_verified__exact": "1"})

    assert response.status_code == 200
    assert b"verified@example.com" in response.content
    assert b"unverified@example.com" not in response.content
    for flag in (b"is_staff__exact", b"is_active__exact", b"is_email_verified__exact"):
        assert flag in admin_client.get("/admin/accounts/user/").content


def test_user_change_form_never_shows_the_password_hash(admin_client, user):
    response = admin_client.get(f"/admin/accounts/user/{user.pk}/change/")

    assert response.status_code == 200
    assert user.password.encode() not in response.content
    assert b"argon2" not in response.content


def test_customers_cannot_open_the_back_office(client, user):
    client.force_login(user)

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db(transaction=True)  # the worker opens and closes its own connections
def test_registration_email_waits_in_the_queue_for_the_worker(api_client, settings, mailoutbox):
    settings.TASKS = DATABASE_TASKS  # as in production: TASKS_BACKEND=database

    response = api_client.post(
        "/api/v1/auth/register", {"email": "queued@example.com", "password": "queue-me-please-2026"}
    )

    assert response.status_code == 201
    assert mailoutbox == []  # the request did not wait for the mail server
    assert DBTaskResult.objects.filter(status="READY").count() == 1

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    assert [m.to for m in mailoutbox] == [["queued@example.com"]]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
