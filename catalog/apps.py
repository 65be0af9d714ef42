from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _tune_trigram_search(sender, connection, **kwargs):
    """Lets the catalog search's `%>` operator (GIN-indexed) accept a one-letter typo in short words.

    pg_trgm's default word-similarity threshold (0.6) misses e.g. "dunne" for "Dune" (0.57).
    Connection setup, not domain logic: one SET per new PostgreSQL connection.
    """
    if connection.vendor != "postgresql":
        return
    from catalog.models import TRIGRAM_MIN_SIMILARITY

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)", [str(TRIGRAM_MIN_SIMILARITY)]
        )


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self):
        connection_created.connect(_tune_trigram_search, dispatch_uid="catalog_tune_trigram_search")
        # Cache invalidation, not domain logic: every ORM save or delete of a row that catalog reads
        # show bumps the cached catalog's version (bulk writes call `catalog_changed()` themselves).
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from catalog.caching import model_changed
        from catalog.models import Author, Book, Category, Review

        for model in (Book, Author, Category, Review):
            post_save.connect(model_changed, sender=model, dispatch_uid=f"catalog_cache_save_{model.__name__}")
            post_delete.connect(model_changed, sender=model, dispatch_uid=f"catalog_cache_delete_{model.__name__}")
        m2m_changed.connect(model_changed, sender=Book.authors.through, dispatch_uid="catalog_cache_book_authors")
