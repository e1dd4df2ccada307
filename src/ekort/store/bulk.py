"""Appending many rows in one statement's worth of work: PostgreSQL COPY, SQLite executemany.

For the set-based jobs (the deadline sweeps), where building a model instance per row and
letting the ORM quote every value costs more than the database's own work. Rows are tuples in
`columns` order, with database-ready values (JSON columns as JSON text); no signals, no
`save()`: callers are services that write the audit trail themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model, QuerySet

M = TypeVar("M", bound=Model)


def insert_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert `rows` into `model`'s table on the current connection (and transaction)."""
    table = model._meta.db_table
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg's cursor under Django's wrapper: COPY is not in the ORM
            with raw.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"  # noqa: S608 - model's names
            cursor.executemany(sql, [_for_sqlite(row) for row in rows])


def insert_for_ids(
    model: type[Model], id_column: str, ids: Sequence[int], values: Mapping[str, Any]
) -> None:
    """Insert one row per id (in `id_column`), each with the same other `values`. On
    PostgreSQL one INSERT ... SELECT over the ids as one array parameter: the database makes
    the rows."""
    if connection.vendor != "postgresql":
        columns = (id_column, *values)
        insert_rows(model, columns, [(pk, *values.values()) for pk in ids])
        return
    table = model._meta.db_table
    quote = connection.ops.quote_name
    columns_sql = ", ".join(quote(column) for column in (id_column, *values))
    marks = ", ".join(["%s"] * len(values))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns_sql}) SELECT UNNEST(%s::bigint[]), {marks}",
            [id_array(ids), *values.values()],
        )


def id_array(ids: Sequence[int]) -> str:
    """PostgreSQL's text form of an array of integer ids, for a `%s::bigint[]` parameter.
    psycopg adapts a list element by element in Python; one join is quicker. A million-card
    sweep sends each id four or five times: its workers' CPU time fell by about 1.2 s."""
    return "{" + ",".join(map(str, map(int, ids))) + "}"


Encode = Callable[[Sequence[Any]], Any]  # a run of columns' values → their encoded form
Join = Callable[[Any, Sequence[Any], Any], Any]  # first value, encoded runs, last values → a row


def encoder_around() -> tuple[Encode, Join]:
    """For rows whose middle columns are known before their first and last ones: how to encode
    a run of middle columns (in any thread), and how to join the first column's value, the
    encoded runs (in column order) and the last columns' values into what `insert_encoded`
    takes. A run shared by many rows (columns of the same value) is encoded once. The audit
    trail's entries: their sequence number and MACs are known only once its head is locked."""
    if connection.vendor == "postgresql":

        def encode(values: Sequence[Any]) -> str:
            return "\t".join(map(_copy_field, values))

        def join(first: Any, runs: Sequence[Any], last: Any) -> str:
            middle = "\t".join(runs)
            ends = "\t".join(map(_copy_field, last))
            return f"{_copy_field(first)}\t{middle}\t{ends}\n"

        return encode, join
    adapt = connection.ops.adapt_datetimefield_value

    def encode_for_sqlite(values: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(adapt(v) if isinstance(v, datetime) else v for v in values)

    def join_for_sqlite(first: Any, runs: Sequence[Any], last: Any) -> tuple[Any, ...]:
        return (first, *(value for run in runs for value in run), *last)

    return encode_for_sqlite, join_for_sqlite


def insert_encoded(model: type[Model], columns: Sequence[str], encoded: Sequence[Any]) -> None:
    """`insert_rows` for rows already encoded (`encoder_around`)."""
    table = model._meta.db_table
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                copy.write("".join(encoded))
        else:
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"  # noqa: S608 - model's names
            cursor.executemany(sql, list(encoded))


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        # Four substring tests are quicker than one regular expression on short text.
        if "\\" in value or "\n" in value or "\r" in value or "\t" in value:
            return value.translate(_COPY_ESCAPES)
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    raise TypeError(f"no COPY text for {type(value).__name__}")


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
    `unique` fields is there already (a unique constraint), set its other columns. One
    statement on PostgreSQL (INSERT ... SELECT over one array per column, ON CONFLICT DO
    UPDATE), executemany elsewhere: Django's bulk upsert builds and quotes every row."""
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


def update_rows(model: type[Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Set `columns` (field names) of many rows of `model`, each its own values: every row is
    the primary key followed by the values in `columns` order. One statement on PostgreSQL
    (an UPDATE joined to the rows unnested from one array per column), executemany
    elsewhere: where Django's bulk_update writes a CASE per field and row. No signals."""
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


def _for_sqlite(row: Sequence[Any]) -> tuple[Any, ...]:
    # The ORM stores datetimes on SQLite as naive UTC text; the raw driver would not.
    adapt = connection.ops.adapt_datetimefield_value
    return tuple(adapt(value) if isinstance(value, datetime) else value for value in row)


def with_ids(queryset: QuerySet[M], column: str, ids: Sequence[int]) -> QuerySet[M]:
    """`queryset` narrowed to rows whose `column` (an integer column's name) is one of
    thousands of `ids`. On PostgreSQL that is `column = ANY(%s)` with one array parameter: an
    index scan, where `IN (...)` makes the ORM and the driver prepare and quote each id in
    Python. Elsewhere it is `__in`."""
    if connection.vendor != "postgresql":
        return queryset.filter(**{f"{column}__in": list(ids)})
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    where = f"{table}.{connection.ops.quote_name(column)} = ANY(%s::bigint[])"
    return queryset.extra(where=[where], params=[id_array(ids)])  # noqa: S610 - our own names
