"""The project's database backend: Django's PostgreSQL backend that runs as the app role under
row-level security (``fulfillment.db.base``). Use ``ENGINE = "fulfillment.db"``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections


@contextmanager
def as_owner(using: str = "default") -> Iterator[object]:
    """Run on a connection as the user of the settings (the schema owner), in the operator scope:
    for migrations, the test database set-up and flush. Reconnects as the app role afterwards."""
    connection = connections[using]
    connection.close()
    connection.owner = True
    try:
        yield connection
    finally:
        connection.close()
        connection.owner = False
