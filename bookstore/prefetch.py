"""Rows a service has just written, kept as a relation's prefetched rows so that reading it back costs no query."""

from collections.abc import Iterable

from django.db import models


def set_prefetched(instance: models.Model, relation: str, rows: Iterable[models.Model]) -> None:
    """`instance.<relation>.all()` then gives `rows`, as after `prefetch_related(relation)`, without a query.

    Django keeps prefetched rows as a finished queryset in `_prefetched_objects_cache`, under the
    relation's name; this stores them the way its `prefetch_related_objects` does.
    """
    queryset = getattr(instance, relation).all()
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[relation] = queryset
