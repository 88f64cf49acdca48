"""What the benchmarks share: `timed` (every benchmark), and for the PostgreSQL ones Django set
up from the environment and a database of their own (Django's test database for DATABASE_URL:
``test_<name>``, created from the migrations at start and dropped at the end, so no other
database is touched).

    from common import bench_database, setup_django, timed

    setup_django(database="fulfillment_bench")  # before anything imports a model
    ...
    with bench_database(keep=args.keep):
        ...
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(function: Callable, *args, **kwargs) -> tuple[object, float, float]:
    """(what ``function(*args, **kwargs)`` answers, its wall-clock seconds, the CPU seconds of this
    process meanwhile): the machine is shared, so both."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def setup_django(*, database: str, redis_url: str | None = None) -> None:
    """Settings from the environment; unset, DATABASE_URL names ``database`` on the local server
    (and REDIS_URL is ``redis_url``, when given)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfillment.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{database}")
    if redis_url is not None:
        os.environ.setdefault("REDIS_URL", redis_url)
    import django

    django.setup()
    from fulfillment.tenancy import rls

    # A benchmark sets up and checks every tenant's rows: the operator scope of row-level security
    # (its forked workers inherit it; gunicorn and Celery, started as programs, scope themselves).
    rls.enter(rls.OPERATOR)


@contextmanager
def bench_database(*, keep: bool = False) -> Iterator[str]:
    """Django's test database for DATABASE_URL, created from the migrations (its name and the
    time that took are printed); dropped on the way out, unless ``keep``."""
    from django.conf import settings
    from django.db import connection, connections

    creation = connection.creation
    base_name = settings.DATABASES["default"]["NAME"]
    started = time.perf_counter()
    test_name = creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    print(
        f"database: {test_name} (Django test database for {base_name}), "
        f"migrated in {time.perf_counter() - started:.1f}s"
    )
    try:
        yield test_name
    finally:
        if not keep:
            connections.close_all()
            creation.destroy_test_db(base_name, verbosity=0)


def analyze() -> None:
    """Planner statistics for the freshly loaded tables, as autovacuum would have them on a live
    database. ANALYZE is the table owner's: run as the app role (every connection's role) it
    skips each table with only a warning and the planner takes them for empty, so it runs as the
    owner (``fulfillment.db.as_owner``)."""
    from fulfillment.db import as_owner

    with as_owner() as owner, owner.cursor() as cursor:
        cursor.execute("ANALYZE")


class RecordedAnswer:
    """What ``urlopen`` gives karrio (``karrio.core.utils.helpers._urlopen_with_span`` replaced by a
    benchmark): a recorded body to read, and its headers."""

    def __init__(self, body: bytes):
        self._body = body
        self.headers = {"content-type": "application/json"}
        self.status = 200

    def read(self) -> bytes:
        return self._body

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
