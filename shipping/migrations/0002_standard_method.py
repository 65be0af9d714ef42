"""A fresh store ships everywhere by `standard`: the old flat-rate settings become its price and free-over threshold."""

from django.conf import settings
from django.db import migrations


def create_standard(apps, schema_editor):
    ShippingMethod = apps.get_model("shipping", "ShippingMethod")
    ShippingMethod.objects.get_or_create(
        code="standard",
        defaults={
            "name": "Standard",
            "price": settings.SHIPPING_FLAT_RATE,
            "free_over": settings.FREE_SHIPPING_THRESHOLD,
            "min_days": 3,
            "max_days": 7,
            "everywhere": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("shipping", "0001_initial")]

    operations = [migrations.RunPython(create_standard, migrations.RunPython.noop)]
