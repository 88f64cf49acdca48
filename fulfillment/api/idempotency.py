"""Idempotency-Key records, as Stripe defines them.

The first request with a key claims a record (committed on its own, before the view runs) and
stores its answer when it is done; a retry with the same key and body gets that answer replayed.
A retry that arrives while the first is still running waits for it (up to ``WAIT_SECONDS``)
instead of being refused at once:

The claimant holds a session-level advisory lock keyed on (owner, key) for the whole request; a
retry blocks on the same lock, so it wakes up the moment the first answer is stored. A record
still unanswered when the lock is free belongs to a request that died (its connection closed and
PostgreSQL dropped the lock): the retry takes it over.

Past the wait the retry is answered 409 with ``Retry-After``. Keys expire after ``TTL``: an older
record is reused for a new request, and ``purge_expired`` deletes them (a periodic task).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from rest_framework import exceptions

from fulfillment.api.errors import Conflict
from fulfillment.tenancy.models import IdempotencyRecord

WAIT_SECONDS = 10.0
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
RETRY_AFTER_SECONDS = 1


class Replay(Exception):
    """The request was answered before: replay ``record``."""

    def __init__(self, record: IdempotencyRecord):
        self.record = record


class InProgress(Conflict):
    default_detail = "A request with this Idempotency-Key is still being processed; retry later."
    default_code = "idempotency_key_in_use"

    def __init__(self):
        super().__init__(retry_after=RETRY_AFTER_SECONDS)


def validate_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise exceptions.ValidationError(
            {"Idempotency-Key": [f"Must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."]}
        )


def request_digest(body: bytes) -> str:
    return hashlib.sha256(body or b"").hexdigest()


def lock_id(owner: str, key: str) -> int:
    """The bigint of the advisory lock for (owner, key)."""
    digest = hashlib.sha256(f"idempotency\x00{owner}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def acquire_lock(owner: str, key: str, *, wait: float) -> int:
    """Hold the (owner, key) advisory lock, waiting up to ``wait`` seconds.

    Returns the lock id to pass to ``release_lock``; raises InProgress when another request still
    holds it after the wait.
    """
    lock = lock_id(owner, key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock])
        if cursor.fetchone()[0]:
            return lock
    # Someone else is answering this key: block until it is done, bounded by lock_timeout
    # (local to this small transaction, so nothing leaks into the rest of the request). The
    # lock itself is session-level and outlives the transaction.
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)",
                [f"{max(int(wait * 1000), 1)}ms"],
            )
            previous = cursor.fetchone()[0]
            cursor.execute("SELECT pg_advisory_lock(%s)", [lock])
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    except OperationalError:  # lock_timeout: the first request is still running
        raise InProgress() from None
    return lock


def release_lock(lock: int | None) -> None:
    if lock is None:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [lock])


def claim(*, owner: str, key: str, method: str, path: str, digest: str):
    """The record this request now owns (and must answer), or raise Replay / Conflict.

    The caller holds the (owner, key) advisory lock (``acquire_lock``), so an unanswered record is
    an orphan of a request that died, not one in flight.
    """
    while True:
        record = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
        if record is None:
            try:
                with transaction.atomic():
                    return IdempotencyRecord.objects.create(
                        owner=owner, key=key, method=method, path=path, request_hash=digest
                    )
            except IntegrityError:
                continue  # another request claimed it between our read and insert: look again
        if record.created_at < timezone.now() - TTL:
            # An expired key is free for a new request (Stripe: keys expire after 24 hours).
            # Compare-and-set on created_at so that two requests cannot both reuse it.
            reused = IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at).update(
                method=method,
                path=path,
                request_hash=digest,
                status_code=None,
                response_body=None,
                created_at=timezone.now(),
            )
            if reused:
                return IdempotencyRecord.objects.get(pk=record.pk)
            continue
        if record.request_hash != digest or record.path != path:
            raise Conflict("This Idempotency-Key was used with a different request.", code="idempotency_key_reused")
        if record.status_code is not None:
            raise Replay(record)
        return record  # its first request died without answering: this retry answers it


def store_answer(record: IdempotencyRecord, *, status_code: int, body) -> None:
    if status_code >= 500:
        # A server failure is not an answer: the client may retry it with the same key.
        IdempotencyRecord.objects.filter(pk=record.pk, status_code=None).delete()
        return
    record.status_code = status_code
    record.response_body = body
    record.save(update_fields=["status_code", "response_body"])


def abandon(record: IdempotencyRecord) -> None:
    """The request failed before it had an answer: free the key for a retry."""
    IdempotencyRecord.objects.filter(pk=record.pk, status_code=None).delete()


def purge_expired(*, now=None) -> int:
    """Delete the records of expired keys; returns how many."""
    cutoff = (now or timezone.now()) - TTL
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
