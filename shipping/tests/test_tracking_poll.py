"""One tracking poll at a time (PostgreSQL advisory lock; a second connection plays the other run)."""

import psycopg
import pytest
from django.conf import settings

from shipping import services
from shipping.services.polling import POLL_LOCK_NAME

pytestmark = pytest.mark.django_db


def _other_connection():
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        dbname=db["NAME"],
        autocommit=True,
    )


def test_a_poll_while_another_runs_polls_nothing_and_the_next_one_runs(monkeypatch):
    asked = []
    monkeypatch.setattr(
        services.polling.selectors, "shipments_due_for_tracking", lambda **kwargs: asked.append(1) or []
    )

    with _other_connection() as other:
        other.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [POLL_LOCK_NAME])

        assert services.tracking_poll() is None
        assert asked == []

        other.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [POLL_LOCK_NAME])

    assert services.tracking_poll() == 0
    assert asked == [1]
    assert services.tracking_poll() == 0  # the lock was given back
    assert asked == [1, 1]


def test_a_poll_that_fails_gives_the_lock_back(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services.polling.selectors, "shipments_due_for_tracking", broken)
    with pytest.raises(RuntimeError):
        services.tracking_poll()
    monkeypatch.setattr(services.polling.selectors, "shipments_due_for_tracking", lambda **kwargs: [])

    assert services.tracking_poll() == 0
