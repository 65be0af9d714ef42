"""Slugs, made one way for every caller: the API's services, the CSV import and the demo seed.

A slug is the text lower-cased to ASCII words joined by hyphens (`"Dune: Messiah!"` →
`"dune-messiah"`), cut to fit its column, and a fallback word when nothing is left (a title
in another script). Book slugs may repeat (the ISBN identifies a book); category slugs are
unique, so a taken one gets the first free number: `poetry`, `poetry-2`, `poetry-3`...
"""

from collections.abc import Container

from django.utils.text import slugify

BOOK_SLUG_LENGTH = 320  # Book.slug's max_length
CATEGORY_SLUG_LENGTH = 130  # Category.slug is 140: room for a "-NN" suffix


def slug(text: str, *, max_length: int, fallback: str) -> str:
    """`text` as a slug of at most `max_length` characters; `fallback` when it has no ASCII word."""
    return slugify(text)[:max_length] or fallback


def book_slug(title: str) -> str:
    return slug(title, max_length=BOOK_SLUG_LENGTH, fallback="book")


def category_slug(name: str) -> str:
    """The slug a category of this name starts from (see `first_free` when it is taken)."""
    return slug(name, max_length=CATEGORY_SLUG_LENGTH, fallback="category")


def first_free(base: str, taken: Container[str]) -> str:
    """`base`, or the first of `base-2`, `base-3`... that is not in `taken`."""
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate
