"""manage.py refresh_popularity — recompute every book's copies sold in the last 90 days."""

from django.core.management.base import BaseCommand

from catalog.stock import books_popularity_refresh


class Command(BaseCommand):
    help = (
        "Sets each book's popularity (the search ranking's and ordering=popularity's figure) to the "
        "copies sold in the last 90 days, from the stock ledger. Sales raise it at once; run this "
        "daily so that old sales age out."
    )

    def handle(self, *args, **options):
        count = books_popularity_refresh()
        self.stdout.write(f"{count} book(s) recomputed.")
