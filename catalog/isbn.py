"""ISBN normalisation: the catalog stores ISBN-13 digits only; ISBN-10 input is converted."""

import re

_SEPARATORS = re.compile(r"[\s\-]")


class InvalidISBNError(ValueError):
    """The text is not a valid ISBN-10 or ISBN-13 (wrong length, characters or checksum)."""


def isbn13_check_digit(first12: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def _isbn10_is_valid(isbn10: str) -> bool:
    total = 0
    for i, char in enumerate(isbn10):
        value = 10 if (char == "X" and i == 9) else int(char)
        total += value * (10 - i)
    return total % 11 == 0


def normalize_isbn(raw: str) -> str:
    """Returns the ISBN-13 (13 digits) for an ISBN-10 or ISBN-13, hyphens and spaces ignored.

    Raises `InvalidISBNError` with a human message on a bad length, character or checksum.
    """
    value = _SEPARATORS.sub("", str(raw or "")).upper()
    if len(value) == 10:
        if not re.fullmatch(r"[0-9]{9}[0-9X]", value):
            raise InvalidISBNError("An ISBN-10 has 9 digits and a check digit (0-9 or X).")
        if not _isbn10_is_valid(value):
            raise InvalidISBNError("This ISBN-10 has a wrong check digit.")
        body = "978" + value[:9]
        return body + isbn13_check_digit(body)
    if len(value) == 13:
        if not value.isdigit() or not value.isascii():
            raise InvalidISBNError("An ISBN-13 has 13 digits.")
        if not value.startswith(("978", "979")):
            raise InvalidISBNError("An ISBN-13 starts with 978 or 979.")
        if isbn13_check_digit(value[:12]) != value[12]:
            raise InvalidISBNError("This ISBN-13 has a wrong check digit.")
        return value
    raise InvalidISBNError("Enter an ISBN-10 or ISBN-13 (hyphens and spaces are ignored).")


def looks_like_isbn(raw: str) -> str | None:
    """The normalised ISBN when `raw` is a valid ISBN, else None (for search)."""
    try:
        return normalize_isbn(raw)
    except InvalidISBNError:
        return None
