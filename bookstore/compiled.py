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
It is prepared with the ORM's constants (a review's status, a boolean) written into its text, and
only its placeholders' values bound: bound as parameters, they hide from the planner what a
partial index needs (`status = 'published'`), so its plan for any value (the generic plan) costs
more, and PostgreSQL goes on planning the statement on every run. Measured on the bench data
(`bench/statement_cpu.py`, `bench/results/2026-12-03-h15c.md`): the book detail's statement costs
PostgreSQL 0.39 ms of CPU planned each time, 0.07 ms prepared. Only key lookups are prepared (a
book, a page's books by id, a cart's lines, a country's rates), whose one plan suits every value; a
statement whose best plan depends on its values (a filtered list's page, a search) is planned each
time. `DB_PREPARED_STATEMENTS=0` turns preparing off (behind a pooler that cannot keep them).

A *page* of a statement that binds no value of its own (`prepare_pages=True`: the book list
unfiltered, or only ordered, or by `in_stock`) is prepared too, as one literal statement, its LIMIT
and OFFSET written in as well: PostgreSQL plans it once, for exactly that page. Measured
(`bench/statement_cpu.py --lists`): the default list's first page costs PostgreSQL 1.07 ms of CPU
planned each time, 0.44 ms prepared (by price: 1.19, 0.54). Only the pages in the first
`MAX_PREPARED_OFFSET` rows are: each is a statement of its own, and psycopg keeps at most
`prepared_max` (100) a connection.
"""

import operator
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.deletion import Collector
from django.db.models.query import QuerySet, get_related_populators
from django.db.models.sql import DeleteQuery

# Values no id has, compiled in where a statement takes a value of its own on each run.
PLACEHOLDERS = (-7_340_019_113, -7_340_019_127, -7_340_019_131)
# Their like for text values (a country, a code): strings no column holds (NUL is not even storable).
TEXT_PLACEHOLDERS = ("\x00bookstore.compiled.0", "\x00bookstore.compiled.1")
MAX_STATEMENTS = 512  # per thread and connection: shapes are many, but each is compiled once
_TOKENS = re.compile("%%|%s")  # a compiled statement's escaped percent signs and parameters
_SLOT = "\x00bookstore.compiled.slot\x00"  # where a placeholder's value goes, while the constants are written in
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
        self._prepared: tuple[str, list[int]] | None = None
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
        select = self.compiler.select  # none for a DELETE (`deletion`)
        self.fields = [column[0] for column in select[: self.compiler.col_count]] if select else []
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
        with self._run(values, limit, offset) as cursor:
            rows = cursor.fetchall()
        if self.converters:
            rows = [tuple(row) for row in self.compiler.apply_converters(rows, self.converters)]
        return rows

    def execute(self, values: Mapping[Any, Any]) -> int:
        """Runs a statement that returns no rows (a `deletion`) with `values` for its placeholders:
        the number of rows it changed."""
        with self._run(values, None, 0) as cursor:
            return cursor.rowcount

    @contextmanager
    def _run(self, values: Mapping[Any, Any], limit: int | None, offset: int) -> Iterator[Any]:
        bound = self.bound(values)
        params: list | None = bound
        sql, connection = self.sql, self.compiler.connection
        prepared = (self.prepare or self.prepare_pages) and _prepares(connection)
        if prepared:
            text, kept = self._prepared_text()
            if limit is None and self.prepare:
                sql, params = text, [bound[slot] for slot in kept] or None
            elif limit is not None and self.prepare_pages and not kept and offset <= MAX_PREPARED_OFFSET:
                sql, params = f"{text} LIMIT {operator.index(limit)} OFFSET {operator.index(offset)}", None
            else:
                prepared = False  # a page of a statement binding values: planned for them
        if not prepared and limit is not None:
            sql, params = f"{sql} LIMIT %s OFFSET %s", [*bound, limit, offset]
        with connection.cursor() as cursor:
            if prepared:
                execute_prepared(cursor, sql, params)
            else:
                cursor.execute(sql, params)
            yield cursor

    def _prepared_text(self) -> tuple[str, list[int]]:
        """The text the statement is prepared as: the ORM's constants written in, `%s` left where
        the placeholders' values go (the slots, in order, returned with it); with none left, a
        literal statement (run without parameters)."""
        if self._prepared is None:
            kept = sorted(slot for slots in self.slots.values() for slot in slots)
            slots, position = set(kept), iter(range(len(self.params)))
            template = _TOKENS.sub(
                lambda token: "%%" if token.group() == "%%" else (_SLOT if next(position) in slots else "%s"), self.sql
            )
            constants = [param for i, param in enumerate(self.params) if i not in slots]
            text = self.compiler.connection.ops.compose_sql(template, constants)
            if kept:  # run with parameters again: its own percent signs escaped
                text = text.replace("%", "%%").replace(_SLOT, "%s")
            self._prepared = (text, kept)
        return self._prepared

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


def deletion(queryset: QuerySet) -> QuerySet:
    """`queryset.delete()` as a statement to compile: the one DELETE the ORM runs when it can
    delete fast (no row of another model cascades from these, no delete signal listens), which
    is checked here; `compiled(...).execute(values)` runs it. Not a queryset to use otherwise."""
    if not Collector(using=queryset.db, origin=queryset).can_fast_delete(queryset):
        raise ValueError(f"deleting {queryset.model.__name__} rows cascades or sends signals: use delete()")
    deleting = queryset._chain()  # type: ignore[attr-defined]  # a private method of Django's
    deleting.query.__class__ = DeleteQuery  # as QuerySet._raw_delete compiles it
    return deleting


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
