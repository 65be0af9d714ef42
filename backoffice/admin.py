"""The third-party apps' admins (groups, token blacklists, task results) in the back office's theme.

Only the base class changes: their options stay the packages' own.
"""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.models import Group
from unfold.admin import ModelAdmin


def _rethemed(model) -> None:
    """Registers `model` again with its admin class on top of unfold's ModelAdmin."""
    if not admin.site.is_registered(model):
        return
    current = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    admin.site.register(model, type(current.__name__, (current, ModelAdmin), {}))


def _retheme_third_party() -> None:
    from django_tasks_db.models import DBTaskResult
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    for model in (DBTaskResult, OutstandingToken, BlacklistedToken):
        _rethemed(model)


if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin, ModelAdmin):
    pass


_retheme_third_party()


# The dashboard is the admin's home page (its figures come from UNFOLD["DASHBOARD_CALLBACK"]), and the
# reports live under /admin/reports/ (UnfoldAdminSite adds `extra_urls()` to its own).
admin.site.index_template = "backoffice/dashboard.html"


def _report_urls():
    from django.urls import path

    from backoffice import reports

    return [
        path("reports/sales/", admin.site.admin_view(reports.sales_view), name="backoffice_sales"),
        path("reports/bestsellers/", admin.site.admin_view(reports.bestsellers_view), name="backoffice_bestsellers"),
    ]


admin.site.extra_urls = _report_urls  # type: ignore[attr-defined]  # admin.site is UnfoldAdminSite (see above)
