from django.apps import AppConfig


class CatalogConfig(AppConfig):
    # No model signals: the services invalidate the cached catalog reads themselves (catalog.caching).
    name = "catalog"
