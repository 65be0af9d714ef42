"""manage.py rebuild_search — recompute every search vector and the dictionary of typo candidates."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from catalog.search_index import book_search_vector_refresh


class Command(BaseCommand):
    help = (
        "Recomputes the search vector of every book and rebuilds the dictionary of words that typo "
        "corrections are taken from (dropping words no book uses any more). PostgreSQL only."
    )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("Nothing to do outside PostgreSQL.")
            return
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM catalog_searchword")
            book_search_vector_refresh(book_ids=None)
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM catalog_searchword")
                (words,) = cursor.fetchone()
        self.stdout.write(f"Search rebuilt: {words} distinct word(s).")
