"""One mailbox, one account: addresses are normalised before they are stored, compared or looked up."""

import pytest
from django.contrib.auth.hashers import make_password

from accounts.email_addresses import EmailAddressError, email_normalize, emails_normalize_existing
from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REGISTER_URL = "/api/v1/auth/register"
TOKEN_URL = "/api/v1/auth/token"
RESET_URL = "/api/v1/auth/password/reset"
PASSWORD = "correct-horse-battery-staple"

SAME_MAILBOX = [
    "alice@ｈｂ.local",  # fullwidth domain
    "alice@hb.ｌｏｃａｌ",
    "ａｌｉｃｅ@hb.local",  # fullwidth local part
    '"alice"@hb.local',  # a quoted plain atom
    "ALICE@HB.LOCAL",
    "  alice@hb.local ",
    "alice＠hb.local",  # fullwidth at sign
]
INVISIBLE = [
    "alice@hb.local\u200b",  # zero-width space
    "al\u200dice@hb.local",  # zero-width joiner
    "alice\u2060@hb.local",  # word joiner
    "\ufeffalice@hb.local",  # byte order mark
    "alice@h\u00adb.local",  # soft hyphen (IDNA would drop it)
    "alice@hb.local\u202e",  # right-to-left override
    "ali\u034fce@hb.local",  # combining grapheme joiner
    "alice\u3164@hb.local",  # Hangul filler
    "alice@hb\x00.local",
]


def codes(response) -> list[str]:
    return [error["code"] for error in response.json()["errors"]]


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@hb.local", password=PASSWORD)


@pytest.mark.parametrize("email", SAME_MAILBOX)
def test_register_refuses_another_spelling_of_a_taken_mailbox(api_client, alice, email):
    response = api_client.post(REGISTER_URL, {"email": email, "password": PASSWORD})

    assert response.status_code == 400, response.json()
    assert response.json()["errors"] == [
        {"code": "unique", "detail": "An account with this email address already exists.", "attr": "email"}
    ]
    assert User.objects.count() == 1


@pytest.mark.parametrize("email", INVISIBLE)
def test_register_refuses_invisible_characters(api_client, email):
    response = api_client.post(REGISTER_URL, {"email": email, "password": PASSWORD})

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("email", "invalid")]
    assert not User.objects.exists()


@pytest.mark.parametrize("email", ['"al ice"@hb.local', '"al@ice"@hb.local', "alice@[127.0.0.1]", "alice@-hb.local"])
def test_register_refuses_addresses_that_have_no_plain_form(api_client, email):
    response = api_client.post(REGISTER_URL, {"email": email, "password": PASSWORD})

    assert response.status_code == 400
    assert codes(response) == ["invalid"]


def test_register_stores_the_normalised_form(api_client):
    response = api_client.post(REGISTER_URL, {"email": '"Bob"@Bücher.ＥＸＡＭＰＬＥ', "password": PASSWORD})

    assert response.status_code == 201
    assert response.json()["email"] == "bob@xn--bcher-kva.example"
    assert User.objects.get().email == "bob@xn--bcher-kva.example"


@pytest.mark.parametrize("email", SAME_MAILBOX)
def test_login_takes_any_spelling_of_the_mailbox(api_client, alice, email):
    response = api_client.post(TOKEN_URL, {"email": email, "password": PASSWORD})

    assert response.status_code == 200


def test_login_with_invisible_characters_is_refused(api_client, alice):
    response = api_client.post(TOKEN_URL, {"email": "alice@hb.local\u200b", "password": PASSWORD})

    assert response.status_code == 400
    assert "access" not in response.json()


@pytest.mark.parametrize("email", ["alice@ｈｂ.local", '"alice"@hb.local'])
def test_password_reset_finds_the_account_by_any_spelling(
    api_client, alice, email, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(RESET_URL, {"email": email})

    assert response.status_code == 202
    assert [m.to for m in mailoutbox] == [["alice@hb.local"]]


def test_users_created_outside_the_api_are_normalised_too():
    user = User.objects.create_user(email="Carol@ＥＸＡＭＰＬＥ.com", password=PASSWORD)

    assert user.email == "carol@example.com"
    with pytest.raises(ValueError):
        User.objects.create_user(email="carol\u200b@example.org", password=PASSWORD)


def test_normalisation_is_idempotent():
    for email in [*SAME_MAILBOX, '"Bob"@Bücher.ＥＸＡＭＰＬＥ']:
        once = email_normalize(email)
        assert email_normalize(once) == once
    with pytest.raises(EmailAddressError):
        email_normalize("nobody")


def _raw_user(email: str) -> User:
    """A row written as an older version stored it (no normalisation)."""
    return User.objects.bulk_create([User(email=email, password=make_password(PASSWORD))])[0]


def test_the_data_migration_normalises_rows_and_reports_clashes_unchanged(caplog):
    plain = _raw_user("dave@ｅｘａｍｐｌｅ.com")
    taken = _raw_user("erin@example.com")
    clash = _raw_user("erin@ｅｘａｍｐｌｅ.com")
    twin_a, twin_b = _raw_user('"frank"@example.com'), _raw_user("frank@ｅｘａｍｐｌｅ.com")
    invisible = _raw_user("gina\u200b@example.com")

    problems = emails_normalize_existing(User)

    emails = dict(User.objects.values_list("pk", "email"))
    assert emails[plain.pk] == "dave@example.com"
    assert emails[taken.pk] == "erin@example.com"
    assert emails[clash.pk] == "erin@ｅｘａｍｐｌｅ.com"  # left for a person to settle
    assert (emails[twin_a.pk], emails[twin_b.pk]) == ('"frank"@example.com', "frank@ｅｘａｍｐｌｅ.com")
    assert emails[invisible.pk] == "gina\u200b@example.com"
    assert len(problems) == 3
    assert sum("email normalisation" in record.getMessage() for record in caplog.records) == 3
