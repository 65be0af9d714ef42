"""Querysets compiled once and run many times: the hot paths' SQL without the ORM's per-request compile.

Profiled on the hot paths (`bench/cpu.py`, `bench/costs.py`), Django's SQL compiler was the
largest Python cost of a book's detail and of adding to a cart: the same querysets, with only an
id changing, compiled on every request. A `CompiledStatement` is such a queryset compiled by the
ORM once per thread and database connection (so the SQL, and the converters SQLite needs for
dates and decimals, stay Django's), with *placeholder* values (negative ids no row has, strings
no column holds) standing for what changes; `rows()` runs it with the real values in their place.

    statement = compiled("book", lambda: Book.objects.filter(pk=BOOK).values_list("id", "title"))
    statement.rows({BOOK: 1234})

A statement whose shape varies with the request (the book list: which filters, how many
categories, which ordering) is compiled once per shape, its name saying the shape; it may take
placeholders of its own (`placeholders=`), and `rows(limit=, offset=)` appends a LIMIT/OFFSET
bound per run (the ORM writes a slice into the SQL text). A value is converted to the type the
ORM bound for its placeholder (a Decimal compared with a float annotation is bound as a float).
Each connection keeps at most `MAX_STATEMENTS` statements (the oldest go first).

A statement made with `prepare=True` is also *prepared* on PostgreSQL: parsed and planned once per
connection, then only executed (psycopg's prepared statements; Django prepares none by default).
Measured on the bench data (`bench/statement_cpu.py`, `bench/results/2026-12-03-h15c.md`): the
book detail's statement costs PostgreSQL 0.39 ms of CPU planned each time, 0.07 ms prepared.
Only key lookups are prepared (a book, a cart's lines, a country's rates), whose one plan suits every value; a
statement whose best plan depends on its values (a list page's price range, a search) is planned
each time. `DB_PREPARED_STATEMENTS=0` turns preparing off (behind a pooler that cannot keep them).

A *page* of a statement that binds no value of its own (`prepare_pages=True`: the book list
unfiltered, or only ordered, or by `in_stock`) is prepared too, as one literal statement: the
ORM's constants (a review's status, a boolean) and the page's LIMIT and OFFSET written into its
text, so that PostgreSQL plans it once, for exactly that page (with them bound as parameters, its
generic plan could use no partial index and would guess the limit: PostgreSQL kept planning it on
every run). Measured on the bench data (`bench/statement_cpu.py --lists`): the default list's first
page costs PostgreSQL 1.07 ms of CPU planned each time, 0.44 ms prepared (by price: 1.19, 0.54). Only the first
`MAX_PREPARED_OFFSET` rows' pages are: each page is a statement of its own, and psycopg keeps at
most `prepared_max` (100) a connection.
"""

import operator
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.query import get_related_populators

# Values no id has, compiled in where a statement takes a value of its own on each run.
PLACEHOLDERS = (-7_340_019_113, -7_340_019_127, -7_340_019_131)
# Their like for text values (a country, a code): strings no column holds (NUL is not even storable).
TEXT_PLACEHOLDERS = ("\x00bookstore.compiled.0", "\x00bookstore.compiled.1")
MAX_STATEMENTS = 512  # per thread and connection: shapes are many, but each is compiled once
MAX_PREPARED_OFFSET = 180  # the pages prepared with `prepare_pages`: the first ten of 20 books


class CompiledStatement:
    """One queryset compiled once; run with other values in place of its placeholders."""

    def __init__(
        self,
        queryset,
        using: str,
        placeholders: Sequence[Any] | None = None,
        prepare: bool = False,
        prepare_pages: bool = False,
    ):
        self.compiler = queryset.query.get_compiler(using)
        self.prepare = prepare  # on PostgreSQL, unless DB_PREPARED_STATEMENTS is off (execute_prepared)
        self.prepare_pages = prepare_pages  # its pages, when it binds no value (see the module)
        self._literal: str | None = None
        sql, params = self.compiler.as_sql()
        self.sql, self.params = sql, list(params)
        given = placeholders is not None
        wanted: Sequence[Any] = (*PLACEHOLDERS, *TEXT_PLACEHOLDERS) if placeholders is None else placeholders
        self.slots = {
            placeholder: [i for i, param in enumerate(self.params) if param == placeholder] for placeholder in wanted
        }
        if given and not all(self.slots.values()):  # each one given must be bound where the ORM put it
            missing = [placeholder for placeholder, slots in self.slots.items() if not slots]
            raise ValueError(f"the compiled statement does not take {missing!r}")
        if not given and not any(self.slots.values()):
            raise ValueError("the compiled statement takes no placeholder value")
        # The type the ORM bound each placeholder as (its field's get_prep_value), for the values put in its place.
        self.types = {placeholder: type(self.params[slots[0]]) for placeholder, slots in self.slots.items() if slots}
        self.fields = [column[0] for column in self.compiler.select[: self.compiler.col_count]]
        self.converters = self.compiler.get_converters(self.fields)

    def bound(self, values: Mapping[Any, Any]) -> list:
        """The statement's parameters with `values` in place of their placeholders."""
        params = list(self.params)
        types = self.types
        for placeholder, value in values.items():
            kind = types.get(placeholder)
            if kind is not None and type(value) is not kind and value is not None:
                value = kind(value)
            for slot in self.slots[placeholder]:
                params[slot] = value
        return params

    def rows(self, values: Mapping[Any, Any], *, limit: int | None = None, offset: int = 0) -> list:
        """The statement's rows (tuples, converted as the ORM converts them) with `values` for its
        placeholders; with `limit`, at most that many from `offset` on."""
        params: list | None = self.bound(values)
        sql, prepare, connection = self.sql, self.prepare, self.compiler.connection
        if limit is not None:
            if (
                self.prepare_pages
                and offset <= MAX_PREPARED_OFFSET
                and not any(self.slots.values())
                and _prepares(connection)
            ):  # a literal statement per page, planned once (see the module)
                sql, params, prepare = self._page_literal(limit, offset), None, True
            else:
                sql = f"{sql} LIMIT %s OFFSET %s"
                params = [*(params or ()), limit, offset]
        with connection.cursor() as cursor:
            if prepare:
                execute_prepared(cursor, sql, params)
            else:
                cursor.execute(sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = [tuple(row) for row in self.compiler.apply_converters(rows, self.converters)]
        return rows

    def _page_literal(self, limit: int, offset: int) -> str:
        """The statement with its parameters (the ORM's constants) and the page written into its text."""
        if self._literal is None:
            self._literal = self.compiler.connection.ops.compose_sql(self.sql, self.params)
        return f"{self._literal} LIMIT {operator.index(limit)} OFFSET {operator.index(offset)}"

    def instances(self, values: Mapping[Any, Any]) -> list:
        """The rows as the queryset's model instances, with its annotations as attributes and its
        `select_related` objects attached (as the ORM's ModelIterable builds them)."""
        klass_info, select = self.compiler.klass_info, self.compiler.select
        model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        names = [column[0].target.attname for column in select[start:end]]
        annotations = list(self.compiler.annotation_col_map.items())
        db = self.compiler.using
        related_populators = get_related_populators(klass_info, select, db)  # type: ignore[call-arg]  # stubs: Django 6
        found = []
        for row in self.rows(values):
            instance = model.from_db(db, names, row[start:end])
            for populator in related_populators:
                populator.populate(row, instance)
            for name, position in annotations:
                setattr(instance, name, row[position])
            found.append(instance)
        return found


def execute_prepared(cursor, sql: str, params: Sequence[Any] | None) -> None:
    """`cursor.execute(sql, params)` (a Django cursor), the statement prepared on PostgreSQL unless
    `DB_PREPARED_STATEMENTS` is off: for a hot path's fixed statement that looks rows up by key
    (see the module). Counted and logged as Django counts any statement."""
    connection = cursor.db
    if not _prepares(connection):
        cursor.execute(sql, params)
        return
    # psycopg prepares a statement at its first run when its threshold is 0, and runs it prepared
    # from then on while the threshold is not None (Django's None, for every other statement).
    raw = connection.connection
    threshold, raw.prepare_threshold = raw.prepare_threshold, 0
    try:
        cursor.execute(sql, params)
    finally:
        raw.prepare_threshold = threshold


def _prepares(connection) -> bool:
    return connection.vendor == "postgresql" and settings.DB_PREPARED_STATEMENTS


def int_array(values: Iterable[int]) -> str:
    """`values` as PostgreSQL's text of an integer array, `{1,2,3}`, to bind as `%s::bigint[]` (or
    `integer[]`): psycopg dumps a list in Python, checking each element's type (on a cached book
    list, a twentieth of its CPU: bench/cpu.py), and a string in C. Integers only (`operator.index`)."""
    return "{" + ",".join([str(operator.index(value)) for value in values]) + "}"


_local = threading.local()


def compiled(
    name: str,
    build: Callable[[], Any],
    using: str = DEFAULT_DB_ALIAS,
    placeholders: Sequence[Any] | None = None,
    *,
    prepare: bool = False,
    prepare_pages: bool = False,
) -> CompiledStatement:
    """The statement `name`, compiled from `build()` on this thread's connection the first time it
    is asked for (with `placeholders`, the values that stand for a run's own; `prepare`, prepared
    on PostgreSQL, and `prepare_pages`, its pages when it binds no value: see the module)."""
    connection = connections[using]
    by_alias = getattr(_local, "by_alias", None)
    if by_alias is None:
        by_alias = _local.by_alias = {}
    kept = by_alias.get(using)
    if kept is None or kept[0] is not connection:
        kept = by_alias[using] = (connection, {})
    # Keyed by the builder's code too: two builders given one name never share a statement.
    statements: dict[tuple[str, Any], CompiledStatement] = kept[1]
    key = (name, getattr(build, "__code__", build))
    statement = statements.get(key)
    if statement is None:
        if len(statements) >= MAX_STATEMENTS:
            del statements[next(iter(statements))]
        statement = statements[key] = CompiledStatement(build(), using, placeholders, prepare, prepare_pages)
    return statement
