"""Writing many rows at once: multi-row INSERTs built from plain tuples.

Hot paths (bulk order intake, wave release, the outbox) build plain tuples and hand them here
instead of model instances; they are written with one multi-row ``INSERT ... VALUES`` per chunk
(one round trip per table for a bulk call of 1,000 orders). Not COPY: PostgreSQL refuses
``COPY FROM`` on tables under row-level security, which every tenant table is.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection

# PostgreSQL takes at most 65,535 parameters in one statement.
_MAX_PARAMETERS = 65_535


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

    Values of ``json_columns`` are Python lists or dicts; the caller's transaction applies. Values
    are written as given (auto_now fields keep the caller's time). With ``with_ids`` the rows get
    ids drawn from the table's sequence, returned in row order; otherwise the answer is [].
    """
    if not rows:
        return []
    ids = sequence_values(model, len(rows)) if with_ids else []
    if with_ids:
        columns = ["id", *columns]
        rows = [(pk, *row) for pk, row in zip(ids, rows, strict=True)]
    positions = [columns.index(name) for name in json_columns]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(name) for name in columns)
    row_marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    per_statement = max(1, _MAX_PARAMETERS // len(columns))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params: list = []
            for row in chunk:
                if positions:
                    row = list(row)
                    for position in positions:
                        row[position] = json.dumps(row[position])
                params.extend(row)
            # Table and column names come from the model's _meta, never from input.
            cursor.execute(f"INSERT INTO {table} ({names}) VALUES {', '.join([row_marks] * len(chunk))}", params)  # noqa: S608
    return ids


def sequence_values(model, count: int) -> list[int]:
    """``count`` fresh values of ``model``'s id sequence, in one statement."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]
