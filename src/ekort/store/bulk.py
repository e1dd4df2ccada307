"""Appending many rows in one statement's worth of work: PostgreSQL COPY, SQLite executemany.

For the set-based jobs (the deadline sweeps), where building a model instance per row and
letting the ORM quote every value costs more than the database's own work. Rows are tuples in
`columns` order, with database-ready values (JSON columns as JSON text); no signals, no
`save()`: callers are services that write the audit trail themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model, QuerySet

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
    where = f"{table}.{connection.ops.quote_name(column)} = ANY(%s)"
    return queryset.extra(where=[where], params=[list(ids)])  # noqa: S610 - our own names
