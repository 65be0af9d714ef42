from django.core.management.base import BaseCommand

from accounts.services import access_denials_flush_expired


class Command(BaseCommand):
    help = (
        "Deletes the logout denials of access tokens that have expired anyway (run it daily, with flushexpiredtokens)."
    )

    def handle(self, *args, **options):
        deleted = access_denials_flush_expired()
        self.stdout.write(f"Deleted {deleted} expired access-token denials.")
