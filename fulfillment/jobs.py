"""Enqueue Celery tasks after the current transaction commits.

Tasks are named, not imported, so that a lower stage can start work in a higher one
(receiving stock re-allocates backorders) without breaking the layer contract. The
database stays the source of truth: if the broker is down the message is lost, and a
periodic sweep finds the work by reading state.
"""

from __future__ import annotations

import logging
import threading

from django.db import transaction

from fulfillment.celery import app

logger = logging.getLogger(__name__)


_loaded = threading.Event()
_loading = threading.Lock()


def _load_tasks() -> None:
    """Import every app's tasks once (threads enqueueing at the same moment wait for the first)."""
    if _loaded.is_set():
        return
    with _loading:
        if not _loaded.is_set():
            app.loader.import_default_modules()
            _loaded.set()


def send_now(task_name: str, *, countdown: float | None = None, **kwargs) -> None:
    _load_tasks()
    try:
        app.tasks[task_name].apply_async(kwargs=kwargs, countdown=countdown)
    except Exception:
        if app.conf.task_always_eager:
            raise
        logger.exception("could not enqueue %s(%s); the periodic sweep will pick it up", task_name, kwargs)


def enqueue(task_name: str, *, countdown: float | None = None, **kwargs) -> None:
    transaction.on_commit(lambda: send_now(task_name, countdown=countdown, **kwargs))
