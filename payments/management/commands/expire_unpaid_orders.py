from django.core.management.base import BaseCommand

from payments.services import orders_expire_unpaid


class Command(BaseCommand):
    help = "Cancels unpaid orders past their expires_at: cancels their PaymentIntent and puts their stock back."

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue", action="store_true", help="Queue the work for the task worker instead of doing it here."
        )

    def handle(self, *args, enqueue: bool = False, **options):
        if enqueue:
            from payments.tasks import expire_unpaid_orders

            result = expire_unpaid_orders.enqueue()
            self.stdout.write(f"Queued as task {result.id}.")
            return
        expired = orders_expire_unpaid()
        self.stdout.write(f"Expired {expired} unpaid order(s).")
