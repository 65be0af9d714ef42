"""A new row and its first child row in one statement on PostgreSQL: a round trip fewer on checkout.

`parent_and_child_insert(parent, child, fk)` saves two new instances as `parent.save()` then
`child.save()` would (the ORM's own INSERTs, compiled from the instances: defaults, `auto_now`
dates, prepared values), but on PostgreSQL as one statement: the parent's INSERT is a CTE the
child's INSERT reads its id from. Elsewhere, the two saves. For models without save() overrides
or save signals (neither runs here).
"""

from django.db import connections
from django.db.models import Model
from django.db.models.sql import InsertQuery

from bookstore.compiled import execute_prepared


def parent_and_child_insert(*, parent: Model, child: Model, fk: str) -> None:
    """Inserts `parent`, then `child` with its foreign key `fk` to it; both come back saved, with their ids."""
    connection = connections[type(parent)._default_manager.db]
    field = type(child)._meta.get_field(fk)
    if connection.vendor != "postgresql":
        parent.save()
        setattr(child, fk, parent)
        child.save()
        return
    child_fields = [field, *(f for f in _insert_fields(type(child)) if f is not field)]
    parent_sql, parent_params = _insert_statement(parent, _insert_fields(type(parent)), connection.alias, [])
    child_sql, child_params = _insert_statement(child, child_fields, connection.alias, [field])
    first_value = "VALUES (%s, "
    if first_value not in child_sql:
        raise RuntimeError(f"unexpected INSERT: {child_sql}")
    parent_id_column = connection.ops.quote_name(str(type(parent)._meta.pk.column))
    child_sql = child_sql.replace(first_value, f"VALUES ((SELECT {parent_id_column} FROM new_parent), ", 1)  # noqa: S608
    with connection.cursor() as cursor:
        # One shape per pair of models (every field inserted): prepared, planned once per connection.
        execute_prepared(cursor, f"WITH new_parent AS ({parent_sql}) {child_sql}", [*parent_params, *child_params[1:]])
        child_id, parent_id = cursor.fetchone()
    parent.pk, child.pk = parent_id, child_id
    setattr(child, fk, parent)
    for saved in (parent, child):
        saved._state.adding, saved._state.db = False, connection.alias


def _insert_fields(model: type[Model]) -> list:
    """The fields Model.save() inserts for a new row with a database-assigned primary key."""
    meta = model._meta
    return [field for field in meta.local_concrete_fields if not field.generated and field is not meta.auto_field]


def _insert_statement(obj: Model, fields: list, using: str, also_returned: list) -> tuple[str, list]:
    """The ORM's INSERT of `obj` (as `save()` would run it), returning its id and `also_returned`."""
    query = InsertQuery(type(obj))
    query.insert_values(fields, [obj])
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = [*type(obj)._meta.db_returning_fields, *also_returned]
    ((sql, params),) = compiler.as_sql()
    return sql, list(params)
