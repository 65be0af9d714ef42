"""Unique constraints as the API reports them.

A validator that checks a unique value before the write (DRF's `UniqueValidator`, a serializer's
`validate`) loses a race: two requests both pass it, and the second INSERT meets the unique index.
Services wrap such writes in `unique_violations(...)`, naming the constraints the client can hit,
so that loser gets the 400 `unique` a sequential duplicate gets, not a 500. An IntegrityError on
any other constraint (a foreign key, a check) is not reported as a duplicate: it propagates.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import IntegrityError, models
from rest_framework.settings import api_settings

from bookstore.exceptions import FieldError

_UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE
_KEY_COLUMNS = re.compile(r"^Key \((?P<columns>[^)]*)\)=")
_SQLITE_PREFIX = "UNIQUE constraint failed: "


class UniqueError(FieldError):
    """400 `unique` on a field: another object already holds this value."""

    code = "unique"
    default_detail = "This value is already taken."


@dataclass(frozen=True)
class Unique:
    """A unique constraint of `model` over `fields`, and the error a client gets for a duplicate.

    `attr`: the input field the error names (None: a non-field error, as a serializer's `validate` raises).
    """

    model: type[models.Model]
    fields: tuple[str, ...]
    message: str
    attr: str | None = None

    @property
    def _columns(self) -> set[str]:
        return {self.model._meta.get_field(name).column for name in self.fields}  # type: ignore[union-attr, misc]  # columns

    def violated_by(self, error: IntegrityError) -> bool:
        """True when `error` is a duplicate value of this constraint (PostgreSQL or SQLite)."""
        table = self.model._meta.db_table
        diag = getattr(error.__cause__, "diag", None)
        if diag is not None:  # psycopg: "Key (book_id, user_id)=(1, 2) already exists."
            if diag.sqlstate != _UNIQUE_VIOLATION or diag.table_name != table:
                return False
            match = _KEY_COLUMNS.match(diag.message_detail or "")
            return match is not None and {c.strip().strip('"') for c in match["columns"].split(",")} == self._columns
        text = str(error)  # SQLite: "UNIQUE constraint failed: catalog_review.book_id, catalog_review.user_id"
        if not text.startswith(_SQLITE_PREFIX):
            return False
        return {c.strip() for c in text[len(_SQLITE_PREFIX) :].split(",")} == {f"{table}.{c}" for c in self._columns}

    def error(self) -> UniqueError:
        # A non-field duplicate is reported as a serializer's `validate` reports it.
        return UniqueError(self.message, attr=self.attr or api_settings.NON_FIELD_ERRORS_KEY)


@contextmanager
def unique_violations(*constraints: Unique) -> Iterator[None]:
    """Turns a duplicate on one of `constraints` inside the block into its 400 `unique`.

    The failed statement has spoilt the transaction: the error must leave the enclosing atomic
    block (it does, being raised), or the block must be a savepoint of its own.
    """
    try:
        yield
    except IntegrityError as error:
        for constraint in constraints:
            if constraint.violated_by(error):
                raise constraint.error() from None
        raise
