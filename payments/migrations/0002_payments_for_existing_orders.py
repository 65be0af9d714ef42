from django.db import migrations

PAID = {"paid", "shipped", "delivered"}


def forwards(apps, schema_editor):
    """Orders placed before payments existed get a manual payment (paid if staff had marked them
    paid) that never expires, so every order shows a `payment`."""
    Order = apps.get_model("orders", "Order")
    Payment = apps.get_model("payments", "Payment")
    Payment.objects.bulk_create(
        [
            Payment(
                order_id=order.pk,
                method="manual",
                status="paid" if order.status in PAID else "unpaid",
                amount=order.total,
                currency=order.currency,
                amount_paid=order.total if order.status in PAID else 0,
            )
            for order in Order.objects.filter(payment__isnull=True).only("pk", "status", "total", "currency")
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial"), ("orders", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
