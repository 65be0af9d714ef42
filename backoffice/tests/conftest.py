import pytest


@pytest.fixture
def admin_client(client, staff_user):
    """A superuser signed in to the admin with a session, as staff use it."""
    staff_user.is_superuser = True
    staff_user.save(update_fields=["is_superuser"])
    client.force_login(staff_user)
    return client
