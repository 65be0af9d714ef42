from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self):
        # Cache invalidation, not domain logic: every ORM save or delete of a row that catalog reads
        # show bumps the cached catalog's version (bulk writes call `catalog_changed()` themselves).
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from catalog.caching import model_changed
        from catalog.models import Author, Book, Category, Review

        for model in (Book, Author, Category, Review):
            post_save.connect(model_changed, sender=model, dispatch_uid=f"catalog_cache_save_{model.__name__}")
            post_delete.connect(model_changed, sender=model, dispatch_uid=f"catalog_cache_delete_{model.__name__}")
        m2m_changed.connect(model_changed, sender=Book.authors.through, dispatch_uid="catalog_cache_book_authors")
