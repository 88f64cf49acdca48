"""Writing many rows at once: PostgreSQL COPY, or bulk_create elsewhere.

Hot paths (bulk order intake) build plain tuples and hand them here instead of model
instances: on PostgreSQL they stream through ``COPY ... FROM STDIN`` (binary-free text
format, one round trip per table); on SQLite they become model instances for bulk_create,
so that both databases receive the same rows from the same code.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a bulk call builds its many short-lived objects.

    Building thousands of rows makes CPython run full collections over the whole heap (a fifth
    of a 1,000-order bulk call, measured); reference counting still frees everything at once,
    and the collector catches up when it is switched back on.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def copy_rows(
    model, columns: Sequence[str], rows: list[tuple], *, json_columns: Sequence[str] = (), with_ids: bool = False
) -> list[int]:
    """Insert ``rows`` (tuples in ``columns`` order; column = the field's attname) into ``model``'s table.

    Values of ``json_columns`` are Python lists or dicts; the caller's transaction applies. With
    ``with_ids`` the rows get their auto ids (drawn from the sequence on PostgreSQL), returned in
    row order; otherwise the answer is [].
    """
    if not rows:
        return []
    if connection.vendor != "postgresql":
        return _insert_rows(model, columns, rows, with_ids=with_ids)
    ids = sequence_values(model, len(rows)) if with_ids else []
    if with_ids:
        columns = ["id", *columns]
        rows = [(pk, *row) for pk, row in zip(ids, rows, strict=True)]
    positions = [columns.index(name) for name in json_columns]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(name) for name in columns)
    # Django's cursor wraps psycopg's; COPY needs the driver cursor itself. Names come from _meta.
    # wrap_database_errors turns a unique violation into Django's IntegrityError, as for any query.
    marks = ", ".join(["%s"] * len(columns))  # LOCALHACK
    out = []
    for row in rows:
        if positions:
            row = list(row)
            for position in positions:
                row[position] = json.dumps(row[position])
        out.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", out)
    return ids


def sequence_values(model, count: int) -> list[int]:
    """``count`` fresh values of ``model``'s id sequence (one statement on PostgreSQL)."""
    if count <= 0:
        return []
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
    return [row.pk for row in model.objects.bulk_create([model() for _ in range(count)])]


def _insert_rows(model, columns: Sequence[str], rows: list[tuple], *, with_ids: bool) -> list[int]:
    """Plain INSERTs with each field's own database conversion (SQLite and other back ends).

    Unlike bulk_create, values are written as given: auto_now fields keep the caller's time.
    """
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_attname[name] for name in columns]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    ids = []
    with connection.cursor() as cursor:
        for row in rows:
            values = [f.get_db_prep_save(value, connection) for f, value in zip(fields, row, strict=True)]
            cursor.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)  # noqa: S608 (names from _meta)
            if with_ids:
                ids.append(cursor.lastrowid)
    return ids
