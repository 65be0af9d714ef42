from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self):
        from accounts.signals import email_verified
        from orders.services import guest_orders_claim_on_verification

        email_verified.connect(guest_orders_claim_on_verification, dispatch_uid="guest_orders_claim")
