"""The category tree, read from the shared cache: which categories a category filter covers."""

from catalog.caching import cached_value
from catalog.models import Category


def category_subtree_ids(id_or_slug: int | str) -> set[int]:
    """Ids of the category (by id or slug) and all its descendants.

    One query over the (small) tree, which is kept in the shared cache until the catalog changes.
    """
    children: dict[int | None, list[int]] = {}
    stack: list[int] = []
    rows = cached_value("category-tree", lambda: list(Category.objects.values_list("pk", "parent_id", "slug")))
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
    return found
