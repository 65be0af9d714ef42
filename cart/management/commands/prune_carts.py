from django.conf import settings
from django.core.management.base import BaseCommand

from cart.services import carts_prune


class Command(BaseCommand):
    help = "Delete the anonymous carts unchanged for ANONYMOUS_CART_DAYS (for cron or the task worker)."

    def handle(self, *args, **options):
        pruned = carts_prune()
        self.stdout.write(f"Deleted {pruned} anonymous cart(s) idle for over {settings.ANONYMOUS_CART_DAYS} days.")
