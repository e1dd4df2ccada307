"""Set-based SQL: many rows in one statement's worth of work.

The services change a set of cards at a time (a single card is a set of one), and the deadline
sweeps and `ekort bulk` hand them thousands. These functions are where that is made cheap, each
behind a name that says what it does; the services call them and read as the rules they carry
out. Every figure below is from `make bench` (docs/benchmarks.md), 2-core machine, PostgreSQL.

- `AnyOf` (`field__any_of=ids`): on PostgreSQL `field = ANY(%s::bigint[])` with one array
  parameter, an index scan; `IN (...)` makes the ORM and the driver prepare and quote each of
  thousands of ids in Python. `Ids` hands the ORM thousands of ids as one value.
- `insert_rows`: PostgreSQL's COPY (psycopg encodes each row in C); `bulk_create` builds a
  model instance per row and quotes every value. The audit trail's entries, the certificates
  of a batch, its letters. Rows that share their instant have it formatted once.
- `insert_alike`: one `INSERT ... SELECT unnest(ids)` for rows alike but for the id: the
  database makes the rows (a sweep's block records: a million in about 6 s).
- `update_each`, `upsert_rows`: one UPDATE (or INSERT ... ON CONFLICT) joined to the rows
  unnested from one array per column, where Django's `bulk_update` writes a CASE per field
  and row. `insert_new` the same way, keeping the rows a unique constraint already holds
  (the e-mail notices a job records once).
- `update_returning`: an UPDATE that returns what it changed (RETURNING), so that a set's
  audit entries need no SELECT before it (the letters a block takes out of the print queue).

No signals and no `save()`: the callers are services, which write the audit trail themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, overload

from django.db import connection
from django.db.models import Field, ForeignObject, Lookup, Model, QuerySet
from django.db.models.sql import UpdateQuery
from django.db.models.sql.compiler import SQLCompiler
from psycopg.abc import Buffer
from psycopg.types.datetime import DatetimeDumper


def id_array(ids: Iterable[int]) -> str:
    """PostgreSQL's text form of an array of integer ids, for a `%s::bigint[]` parameter.
    psycopg adapts a list element by element in Python; one join is quicker (a million-card
    sweep sends each id four or five times: its workers' CPU time fell by about 1.2 s)."""
    if isinstance(ids, Ids):
        return ids.text
    return "{" + ",".join(map(str, map(int, ids))) + "}"


class Ids(Sequence[int]):
    """Row ids to filter by (`any_of`) or insert for (`insert_alike`), many at a time.

    One value to the ORM: given a list or a tuple, `filter()` resolves each element as a
    possible expression, one call each. Filtering a 5,000-card chunk took 5.8 ms with a list
    and 2.2 ms with `Ids` (`make bench`, 2-core machine), and a sweep's chunk filters its ids
    four times. Their PostgreSQL array text (`id_array`) is made once, however often sent."""

    __slots__ = ("_ids", "_text")

    def __init__(self, ids: Iterable[int]) -> None:
        self._ids = list(map(int, ids))
        self._text: str | None = None

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> list[int]: ...

    def __getitem__(self, index: int | slice) -> int | list[int]:
        return self._ids[index]

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids)

    @property
    def text(self) -> str:
        """`{1,2,3}`: the array's text for a `%s::bigint[]` parameter."""
        if self._text is None:
            self._text = "{" + ",".join(map(str, self._ids)) + "}"
        return self._text


class AnyOf(Lookup):
    """`filter(id__any_of=ids)`: the rows whose integer column is one of `ids` (best an
    `Ids`, which the ORM passes on as one value)."""

    lookup_name = "any_of"
    prepare_rhs = False  # a list of ids, not one value of the field

    def get_prep_lookup(self) -> Ids:
        return self.rhs if isinstance(self.rhs, Ids) else Ids(self.rhs)

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, list[Any]]:
        if connection.vendor == "postgresql":
            return "%s", [id_array(value)]
        ids = list(value)
        return "(" + ", ".join(["%s"] * len(ids)) + ")", ids

    def as_sql(self, compiler: SQLCompiler, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.get_db_prep_lookup(self.rhs, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY({rhs}::bigint[])", [*lhs_params, *rhs_params]
        if not rhs_params:
            return "1 = 0", []
        return f"{lhs} IN {rhs}", [*lhs_params, *rhs_params]


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # related fields keep lookups of their own


def _table_and_columns(model: type[Model], columns: Sequence[str]) -> tuple[str, str]:
    quote = connection.ops.quote_name
    return quote(model._meta.db_table), ", ".join(quote(column) for column in columns)


class _RepeatedInstantDumper(DatetimeDumper):
    """psycopg's text form of an aware datetime, kept for the last one dumped: the rows of a
    set that share their instant (the same object: a sweep's audit entries, each chunk's
    certificates) have it formatted once. psycopg formats each row's own copy, 3.0 µs a row
    against 1.6 µs for COPY's whole row with this (audit entries, 5,000 at a time, on the
    benchmark machine): a tenth of a million-card sweep's Python time."""

    _last: datetime | None = None
    _text: Buffer = b""

    def dump(self, obj: datetime) -> Buffer:
        if obj is not self._last:
            self._last, self._text = obj, super().dump(obj) or b""
        return self._text


def insert_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert `rows` (tuples in `columns` order, database column names, database-ready values:
    JSON columns as JSON text) into `model`'s table, in the current transaction."""
    table, quoted = _table_and_columns(model, columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg's cursor under Django's wrapper: COPY is not in the ORM
            raw.adapters.register_dumper(datetime, _RepeatedInstantDumper)  # this cursor's only
            with raw.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"  # noqa: S608 - model's names
            cursor.executemany(sql, [_for_sqlite(row) for row in rows])


def insert_alike(
    model: type[Model], id_column: str, ids: Sequence[int], values: Mapping[str, Any]
) -> None:
    """Insert one row per id (in `id_column`), each with the same other `values`.

    On PostgreSQL one INSERT ... SELECT over the ids as one array parameter, whose foreign keys
    are checked as the statement ends rather than at commit (Django declares them deferred):
    the referenced rows are then checked while the caller still holds their locks, and the
    commit, which comes after the audit trail's head is locked, has nothing left to check."""
    if not ids:
        return
    if connection.vendor != "postgresql":
        insert_rows(model, (id_column, *values), [(pk, *values.values()) for pk in ids])
        return
    table, quoted = _table_and_columns(model, (id_column, *values))
    marks = ", ".join(["%s"] * len(values))
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            f"INSERT INTO {table} ({quoted}) SELECT UNNEST(%s::bigint[]), {marks}",
            [id_array(ids), *values.values()],
        )
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _fields(model: type[Model], names: Sequence[str]) -> list[Field[Any, Any]]:
    fields = []
    for name in names:
        field = model._meta.get_field(name)
        assert isinstance(field, Field), name
        fields.append(field)
    return fields


def upsert_rows(
    model: type[Model], columns: Sequence[str], unique: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert `rows` (values in `columns` order, field names), or where a row with the same
    `unique` fields is there already (a unique constraint), set its other columns."""
    if not rows:
        return
    fields = _fields(model, columns)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = [quote(str(field.column)) for field in fields]
    keys = {quote(str(field.column)) for field in _fields(model, unique)}
    target = ", ".join(name for name in names if name in keys)
    sets = ", ".join(f"{name} = EXCLUDED.{name}" for name in names if name not in keys)
    values = [
        [field.get_db_prep_save(row[i], connection) for row in rows]
        for i, field in enumerate(fields)
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(names)}) SELECT * FROM unnest({arrays}) "  # noqa: S608 - model's names
                f"ON CONFLICT ({target}) DO UPDATE SET {sets}",
                values,
            )
        else:
            marks = ", ".join(["%s"] * len(names))
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks}) "  # noqa: S608 - model's names
                f"ON CONFLICT ({target}) DO UPDATE SET {sets}",
                list(zip(*values, strict=True)),
            )


def insert_new(
    model: type[Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    shared: Mapping[str, Any] | None = None,
) -> int:
    """Insert those of `rows` (values in `columns` order, field names; ids, strings, numbers,
    dates, aware instants or None) that no row already
    there matches on a unique constraint (ON CONFLICT DO NOTHING), each with the `shared`
    values (field names) too; how many were new. What makes a job that records things once
    (the e-mail notices) idempotent, and safe when two runs overlap."""
    if not rows:
        return 0
    shared = dict(shared or {})
    fields = _fields(model, columns)
    constants = _fields(model, list(shared))
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(str(field.column)) for field in [*fields, *constants])
    fixed = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(constants, shared.values(), strict=True)
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
            marks = "".join(f", %s::{field.db_type(connection)}" for field in constants)
            # Ids, strings, dates and instants as they are: psycopg adapts each column's list
            # in C (a field's get_db_prep_save per value cost ten times as much).
            values = [[row[i] for row in rows] for i in range(len(fields))]
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT u.*{marks} FROM unnest({arrays}) AS u "  # noqa: S608 - model's names
                "ON CONFLICT DO NOTHING",
                [*fixed, *values],  # in the order of the placeholders
            )
        else:
            marks = ", ".join(["%s"] * (len(fields) + len(constants)))
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING",  # noqa: S608 - model's names
                [
                    [
                        *(
                            f.get_db_prep_save(v, connection)
                            for f, v in zip(fields, row, strict=True)
                        ),
                        *fixed,
                    ]
                    for row in rows
                ],
            )
        return max(cursor.rowcount, 0)


def update_each(model: type[Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Set `columns` (field names) of many rows of `model`, each its own values: every row is
    the primary key followed by the values in `columns` order (a batch's card numbers and
    sealed PUKs)."""
    if not rows:
        return
    meta = model._meta
    assert meta.pk is not None
    fields: list[Field[Any, Any]] = [meta.pk, *_fields(model, columns)]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    names = [quote(str(field.column)) for field in fields]
    values = [
        [field.get_db_prep_save(row[i], connection) for row in rows]
        for i, field in enumerate(fields)
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
            sets = ", ".join(f"{name} = v.{name}" for name in names[1:])
            sql = (
                f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({', '.join(names)}) "  # noqa: S608 - model's names
                f"WHERE {table}.{names[0]} = v.{names[0]}"
            )
            cursor.execute(sql, values)
        else:
            sets = ", ".join(f"{name} = %s" for name in names[1:])
            sql = f"UPDATE {table} SET {sets} WHERE {names[0]} = %s"  # noqa: S608 - model's names
            cursor.executemany(sql, [(*row[1:], row[0]) for row in zip(*values, strict=True)])


def update_returning(
    queryset: QuerySet[Any], values: Mapping[str, Any], returning: Sequence[str]
) -> list[tuple[Any, ...]]:
    """One UPDATE of the rows `queryset` selects, setting `values` (field names), that returns
    the `returning` columns of each row it changed: what `queryset.update()` does, without a
    SELECT before it to learn which rows those were (a sweep's chunk withdraws its cards'
    letters so). PostgreSQL and SQLite (3.35 and later) both take RETURNING. The queryset
    filters on its own table's columns only."""
    query = queryset.query.chain(UpdateQuery)
    assert isinstance(query, UpdateQuery)
    query.add_update_values(dict(values))
    sql, params = query.get_compiler(queryset.db).as_sql()
    if not sql:  # no values to set
        return []
    quote = connection.ops.quote_name
    sql += " RETURNING " + ", ".join(quote(column) for column in returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def _for_sqlite(row: Sequence[Any]) -> tuple[Any, ...]:
    # The ORM stores datetimes on SQLite as naive UTC text; the raw driver would not.
    adapt = connection.ops.adapt_datetimefield_value
    return tuple(adapt(value) if isinstance(value, datetime) else value for value in row)


def save_fields(
    model: type[Model], objects: Sequence[Model], shared: Sequence[str], own: Sequence[str] = ()
) -> None:
    """Store fields of many `objects`: `shared`, alike for most of them (a state, an instant),
    with one UPDATE per distinct set of values, and `own`, each object's own (a card number, a
    sealed PUK), with one `update_each`. A set of one is one UPDATE, as `save()` would be."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for obj in objects:
        groups.setdefault(tuple(getattr(obj, name) for name in shared), []).append(obj.pk)
    if shared:
        for values, ids in groups.items():
            model._default_manager.filter(pk__any_of=ids).update(
                **dict(zip(shared, values, strict=True))
            )
    if own:
        update_each(
            model, own, [(obj.pk, *(getattr(obj, name) for name in own)) for obj in objects]
        )
