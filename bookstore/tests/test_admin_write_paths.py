"""No admin write bypasses a service: every registered ModelAdmin of the shop's apps either writes
nothing, or overrides each of Django's write hooks (save_model, delete_model, delete_queryset,
save_related) with code of its own, or is on the short list below of plain configuration rows that
no rule spans. The catalog's and customers' admins are then driven over HTTP with their services
spied on (catalog/tests/test_admin_services.py)."""

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory

pytestmark = pytest.mark.django_db

WRITE_HOOKS = ["save_model", "delete_model", "delete_queryset", "save_related"]

# Written by Django's own ModelAdmin on purpose: one table each, no stock, money or mail behind them.
PLAIN_ROWS = {
    "shipping.ShippingMethod": "configuration: a method's price and countries",
    "shipping.TaxRate": "configuration: one rate per country",
    "addresses.Address": "a customer's address-book row, no rule beyond its own fields",
    "accounts.User": "staff accounts: Django's auth forms (password hashing, permissions)",
}


def _superuser_request():
    request = RequestFactory().get("/admin/")
    request.user = get_user_model()(is_staff=True, is_superuser=True, is_active=True)
    return request


def _hooks_in_use(model_admin, request) -> list[str]:
    """The write hooks Django would call for this admin (actions are checked over HTTP, with spies)."""
    saves = model_admin.has_add_permission(request) or model_admin.has_change_permission(request)
    deletes = model_admin.has_delete_permission(request) or model_admin.has_delete_permission(
        request, model_admin.model()
    )
    hooks = []
    if saves:
        hooks.append("save_model")
        if model_admin.model._meta.many_to_many:  # else only read-only inlines are saved
            hooks.append("save_related")
    if deletes:
        hooks += ["delete_model", "delete_queryset"]
    return hooks


def _shop_admins():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_config.name in settings.LOCAL_APPS:
            yield model._meta.label, model_admin


def test_every_shop_admin_is_classified():
    labels = {label for label, _ in _shop_admins()}
    assert {"catalog.Book", "catalog.Review", "customers.Customer", "orders.Order"} <= labels
    assert set(PLAIN_ROWS) <= labels  # a stale entry would hide a new admin of the same name


@pytest.mark.parametrize("label", sorted(label for label, _ in _shop_admins()))
def test_admin_writes_go_through_code_of_its_own(label):
    model_admin = dict(_shop_admins())[label]
    if label in PLAIN_ROWS:
        return
    request = _superuser_request()
    inherited = [
        hook
        for hook in _hooks_in_use(model_admin, request)
        if getattr(type(model_admin), hook).__module__.startswith("django.")
    ]
    assert not inherited, f"{label}'s admin writes with Django's own {inherited}: call the app's services"
