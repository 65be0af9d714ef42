from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        from accounts import checks, schema  # noqa: F401  (registers the OpenAPI auth extension)

        checks.require_blacklist_with_rotation()

        # The cached user rows of access-token checks (accounts.user_cache) stop counting on any change.
        from django.db.models.signals import post_delete, post_save

        from accounts.models import User
        from accounts.user_cache import user_saved_or_deleted

        post_save.connect(user_saved_or_deleted, sender=User, dispatch_uid="accounts_user_saved")
        post_delete.connect(user_saved_or_deleted, sender=User, dispatch_uid="accounts_user_deleted")
