"""The category tree, read from the shared cache: which categories a category filter covers."""

import time

from catalog.caching import TIMEOUT, cached_value, lists_version
from catalog.models import Category

# Subtrees already worked out in this process, for the lists' current version: a list filtered by
# category then reads no tree and walks none (the version comes in the throttle's round trip).
# A new version starts afresh; so does the age of the shared cache's entries (a version bump
# lost while the cache was unreachable goes stale no longer here than there).
_subtrees: dict[int | str, frozenset[int]] = {}
_subtrees_of: tuple[int | None, float] = (None, 0.0)  # (version, since)
MAX_SUBTREES = 2048


def category_subtree_ids(id_or_slug: int | str, request=None) -> set[int]:
    """Ids of the category (by id or slug) and all its descendants.

    One query over the (small) tree, which is kept in the shared cache until the catalog changes;
    the answer is kept in the process under the same version.
    """
    global _subtrees, _subtrees_of
    version = lists_version(request)
    if version is not None and _subtrees_of[0] == version and time.monotonic() - _subtrees_of[1] < TIMEOUT:
        known = _subtrees.get(id_or_slug)
        if known is not None:
            return set(known)
    elif version is not None:
        _subtrees, _subtrees_of = {}, (version, time.monotonic())
    children: dict[int | None, list[int]] = {}
    stack: list[int] = []
    rows = cached_value("category-tree", lambda: list(Category.objects.values_list("pk", "parent_id", "slug")), request)
    for pk, parent_id, slug in rows:
        children.setdefault(parent_id, []).append(pk)
        if pk == id_or_slug or slug == id_or_slug:
            stack.append(pk)
    found: set[int] = set()
    while stack:
        pk = stack.pop()
        if pk not in found:
            found.add(pk)
            stack.extend(children.get(pk, []))
    if version is not None and _subtrees_of[0] == version and len(_subtrees) < MAX_SUBTREES:
        _subtrees[id_or_slug] = frozenset(found)
    return found
