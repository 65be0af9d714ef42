"""New rows written as save() writes them, without the ORM compiling their INSERT each time.

`rows_insert(objs)` (and `row_insert(obj)`) saves new instances as `obj.save()` would, but their
INSERT's text is compiled once per model, database and number of rows (and prepared on
PostgreSQL, `bookstore.compiled`): only the values are taken from the instances, by their
fields, as the ORM takes them. The ORM compiles the statement on every save and `bulk_create`,
which was the largest single cost of adding a book to a cart (py-spy of `POST cart/items` under
gunicorn: 14 % of the Python CPU in `QuerySet.create`) and 13 % of a checkout's (its lines and
stock movements).

A new row and its first child row in one statement on PostgreSQL: a round trip fewer on checkout.

`parent_and_child_insert(parent, child, fk)` saves two new instances as `parent.save()` then
`child.save()` would (the ORM's own INSERTs, their values prepared as save() prepares them:
defaults, `auto_now` dates), but on PostgreSQL as one statement, compiled once per pair of models
and prepared: the parent's INSERT is a CTE the child's INSERT selects its id from. Elsewhere, or
when a value is an expression, the two saves. For models without save() overrides or save signals
(neither runs here).

`unless_taken=` (a `bookstore.integrity.Unique` of the parent's) makes a duplicate of that one
constraint no error: nothing is inserted and the call answers False (a random order number that
another order drew: the caller draws again). On PostgreSQL that is `ON CONFLICT DO NOTHING`, with
no savepoint (two round trips fewer); elsewhere the saves run in a savepoint that the duplicate
rolls back. A duplicate of any other constraint raises IntegrityError, as save() does.
"""

import functools
import re
from collections.abc import Sequence

from django.db import IntegrityError, connections, transaction
from django.db.models import Model
from django.db.models.sql import InsertQuery

from bookstore.compiled import execute_prepared
from bookstore.integrity import Unique

# The ORM's single-row INSERT: its row of placeholders (`row`), and that row after its first
# placeholder (`rest`: a child's INSERT has its foreign key's value first).
_ROW_INSERT = re.compile(
    r"(?P<into>INSERT INTO .+?) VALUES (?P<row>\(%s(?P<rest>(?:, %s)*)\)) (?P<returning>RETURNING .+)", re.S
)


def parent_and_child_insert(*, parent: Model, child: Model, fk: str, unless_taken: Unique | None = None) -> bool:
    """Inserts `parent`, then `child` with its foreign key `fk` to it; both come back saved, with
    their ids, and the answer is True. False (nothing inserted, the instances unsaved) when the
    parent's value of `unless_taken` is another row's already."""
    connection = connections[type(parent)._default_manager.db]
    if unless_taken is not None and unless_taken.model is not type(parent):
        raise ValueError(f"{unless_taken!r} is not a constraint of {type(parent).__name__}")
    fk_field = type(child)._meta.get_field(fk)
    child_fields = [field for field in _insert_fields(type(child)) if field is not fk_field]  # fk: the parent's new id
    # As save(), an unsaved related object is refused, but before either row is written (a private
    # method of Django's, which the stubs leave out).
    parent._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    child._prepare_related_fields_for_save(operation_name="save", fields=child_fields)  # type: ignore[attr-defined]
    if connection.vendor != "postgresql":
        return _saves(parent, child, fk, unless_taken, connection.alias)
    parent_params = _row_params(parent, _insert_fields(type(parent)), connection)
    child_params = _row_params(child, child_fields, connection)
    if parent_params is None or child_params is None:  # an expression: the ORM compiles it
        return _saves(parent, child, fk, unless_taken, connection.alias)
    sql = _parent_and_child_sql(type(parent), type(child), fk, unless_taken, connection.alias)
    with connection.cursor() as cursor:
        execute_prepared(cursor, sql, [*parent_params, *child_params])
        row = cursor.fetchone()
    if row is None:
        return False
    child_id, parent_id = row
    parent.pk, child.pk = parent_id, child_id
    setattr(child, fk, parent)
    for saved in (parent, child):
        saved._state.adding, saved._state.db = False, connection.alias
    return True


def row_insert(obj: Model) -> None:
    """`rows_insert([obj])`."""
    rows_insert([obj])


def rows_insert(objs: Sequence[Model]) -> None:
    """Inserts the new instances `objs` of one model (ids the database assigns, or the model's own
    such as a UUID) as `obj.save()` would insert each: defaults, `auto_now` dates and each field's
    prepared value; each comes back saved, with its id. One statement, compiled once per model,
    database and number of rows, and prepared on PostgreSQL. For models without save() overrides
    or save signals. A value that is an expression goes through the ORM itself (`save()`,
    `bulk_create()`), and so do several rows elsewhere than on PostgreSQL (SQLite does not
    promise its RETURNING rows in order)."""
    if not objs:
        return
    model = type(objs[0])
    connection = connections[model._default_manager.db]
    fields = _insert_fields(model)
    rows = []
    for obj in objs:
        # As save(): an unsaved related object is refused (a private method of Django's, which the stubs leave out).
        obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
        rows.append(_row_params(obj, fields, connection))
    if any(row is None for row in rows) or (len(objs) > 1 and connection.vendor != "postgresql"):
        if len(objs) == 1:
            objs[0].save(force_insert=True)
        else:
            model._default_manager.bulk_create(objs)
        return
    params = [value for row in rows for value in row]  # type: ignore[union-attr]  # none is None
    with connection.cursor() as cursor:
        execute_prepared(cursor, _rows_insert_sql(model, connection.alias, len(objs)), params)
        ids = cursor.fetchall()
    for obj, (pk,) in zip(objs, ids, strict=True):
        if obj.pk is None:  # (a primary key of the model's own, such as a UUID, was inserted as it is)
            obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias


@functools.lru_cache(maxsize=256)
def _rows_insert_sql(model: type[Model], alias: str, n: int) -> str:
    """The ORM's INSERT of `n` new `model` rows into `alias`, returning their ids: the same text for
    every instance whose values are plain (not expressions), so it is compiled from a blank one,
    its row of placeholders written `n` times."""
    match = _row_insert_match(model, alias)
    return f"{match['into']} VALUES {', '.join([match['row']] * n)} {match['returning']}"


@functools.lru_cache(maxsize=64)
def _parent_and_child_sql(
    parent: type[Model], child: type[Model], fk: str, unless_taken: Unique | None, alias: str
) -> str:
    """One statement inserting a new `parent` row and a `child` row whose `fk` is the parent's new
    id, returning the child's id and the parent's: the parent's INSERT (`ON CONFLICT DO NOTHING` on
    `unless_taken`'s columns) is a CTE the child's INSERT selects its row from, none when the
    parent's was not inserted. Its placeholders: the parent's fields, then the child's but `fk`."""
    quote = connections[alias].ops.quote_name
    fk_column = quote(str(child._meta.get_field(fk).column))  # type: ignore[union-attr]  # a foreign key
    new_parent = _row_insert_match(parent, alias)
    new_child = _row_insert_match(child, alias, first=child._meta.get_field(fk))
    conflict = ""
    if unless_taken is not None:
        columns = ", ".join(quote(str(parent._meta.get_field(name).column)) for name in unless_taken.fields)  # type: ignore[union-attr]
        conflict = f" ON CONFLICT ({columns}) DO NOTHING"
    parent_sql = f"{new_parent['into']} VALUES {new_parent['row']}{conflict} {new_parent['returning']}"
    child_sql = (
        f"{new_child['into']} SELECT new_parent.{quote(str(parent._meta.pk.column))}{new_child['rest']} "  # noqa: S608
        f"FROM new_parent {new_child['returning']}, {quote(child._meta.db_table)}.{fk_column}"
    )
    return f"WITH new_parent AS ({parent_sql}) {child_sql}"


def _row_insert_match(model: type[Model], alias: str, first=None) -> re.Match:
    """The parts of the ORM's INSERT of a new `model` row into `alias`, returning its id (fields in
    `_insert_fields` order, `first` moved ahead), compiled from a blank instance: the text of every
    instance whose values are plain."""
    fields = list(_insert_fields(model))
    if first is not None:
        fields = [first, *(field for field in fields if field is not first)]
    if any(field.has_db_default() for field in fields):  # a blank instance would compile DEFAULT for them
        raise NotImplementedError(f"{model.__name__} has fields with a database default")
    if not connections[alias].features.can_return_columns_from_insert:
        raise NotImplementedError(f"{connections[alias].vendor} cannot return the new id from its INSERT")
    sql, _ = _insert_statement(model(), fields, alias)
    match = _ROW_INSERT.fullmatch(sql)
    if match is None:
        raise RuntimeError(f"unexpected INSERT: {sql}")
    return match


def _saves(parent: Model, child: Model, fk: str, unless_taken: Unique | None, alias: str) -> bool:
    """`parent.save()`, then `child.save()` with its `fk` to it; with `unless_taken`, in a
    savepoint that a duplicate of it rolls back (the answer is then False)."""
    if unless_taken is None:
        _save_both(parent, child, fk)
        return True
    try:
        with transaction.atomic(using=alias):
            _save_both(parent, child, fk)
    except IntegrityError as error:
        if not unless_taken.violated_by(error):
            raise
        return False  # parent.save() failed: neither instance changed
    return True


def _save_both(parent: Model, child: Model, fk: str) -> None:
    parent.save()
    setattr(child, fk, parent)
    child.save()


def _row_params(obj: Model, fields: Sequence, connection) -> list | None:
    """`obj`'s values of `fields` as its INSERT binds them (as save() prepares them: defaults,
    `auto_now` dates), or None when one is an expression (the ORM compiles those into the text)."""
    values = [field.pre_save(obj, True) for field in fields]
    if any(hasattr(value, "resolve_expression") for value in values):
        return None
    return [field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True)]


@functools.cache
def _insert_fields(model: type[Model]) -> tuple:
    """The fields Model.save() inserts for a new row: all but an auto-incremented primary key
    (once per model: the hot paths insert the same models on every request)."""
    meta = model._meta
    return tuple(field for field in meta.local_concrete_fields if not field.generated and field is not meta.auto_field)


def _insert_statement(obj: Model, fields: list, using: str) -> tuple[str, list]:
    """The ORM's INSERT of `obj` (as `save()` would run it), returning its id."""
    query = InsertQuery(type(obj))
    query.insert_values(fields, [obj])
    compiler = query.get_compiler(using=using)
    meta = type(obj)._meta
    compiler.returning_fields = meta.db_returning_fields or [meta.pk]  # (a primary key of its own: none)
    ((sql, params),) = compiler.as_sql()
    return sql, list(params)
