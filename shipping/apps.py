from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_a_shipping_method(sender, using: str = "default", **kwargs) -> None:
    """A store with no shipping method at all can sell nothing: it gets `standard` (as migration 0002 makes it).

    Runs after `migrate` and after a test flush (as contenttypes does), never over methods staff keep.
    """
    from django.conf import settings

    from shipping.models import ShippingMethod

    if not ShippingMethod.objects.using(using).exists():
        ShippingMethod.objects.using(using).create(
            code="standard",
            name="Standard",
            price=settings.SHIPPING_FLAT_RATE,
            free_over=settings.FREE_SHIPPING_THRESHOLD,
            min_days=3,
            max_days=7,
            everywhere=True,
        )


class ShippingConfig(AppConfig):
    name = "shipping"
    verbose_name = "shipping and tax"

    def ready(self):
        post_migrate.connect(ensure_a_shipping_method, sender=self)
