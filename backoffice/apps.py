from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """The staff's back office on top of the admin: navigation, dashboard, reports."""

    name = "backoffice"
    verbose_name = "Back office"
