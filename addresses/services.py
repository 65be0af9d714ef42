"""Address book writes. Each locks the user's row first, so the limit and the one default hold under concurrency."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.models import User
from addresses.exceptions import AddressBookFullError, AddressNotFoundError
from addresses.models import Address


def _lock_user(user: User) -> None:
    get_user_model()._base_manager.select_for_update().filter(pk=user.pk).values_list("pk").first()


def _clear_default(user: User, *, keep: int | None = None) -> None:
    defaults = Address.objects.for_user(user).filter(is_default=True)
    if keep is not None:
        defaults = defaults.exclude(pk=keep)
    defaults.update(is_default=False)


@transaction.atomic
def address_create(*, user: User, **fields: Any) -> Address:
    """Saves a new address; `is_default` takes the default from any other. More than 20: `AddressBookFullError`."""
    _lock_user(user)
    if Address.objects.for_user(user).count() >= Address.MAX_PER_USER:
        raise AddressBookFullError(limit=Address.MAX_PER_USER)
    if fields.get("is_default"):
        _clear_default(user)
    return Address.objects.create(user=user, **fields)


def address_for_user(*, user: User, address_id: int) -> Address:
    address = Address.objects.for_user(user).filter(pk=address_id).first()
    if address is None:
        raise AddressNotFoundError()
    return address


@transaction.atomic
def address_update(*, user: User, address_id: int, **fields: Any) -> Address:
    _lock_user(user)
    address = address_for_user(user=user, address_id=address_id)
    if fields.get("is_default"):
        _clear_default(user, keep=address.pk)
    for name, value in fields.items():
        setattr(address, name, value)
    address.save()
    return address


@transaction.atomic
def address_delete(*, user: User, address_id: int) -> None:
    deleted, _ = Address.objects.for_user(user).filter(pk=address_id).delete()
    if not deleted:
        raise AddressNotFoundError()
