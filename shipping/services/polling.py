"""Polling the carriers: every shipment whose next poll is due, asked of its carrier account in the
connector's batch size (one karrio call per batch, no transaction open during it), each batch then
stored in one short transaction by ``shipping.services.tracking``. When to ask next follows the
status (tracking.POLL_EVERY); a failing carrier is asked again after RETRY_AFTER_FAILURE without
holding back the others; a shipment stops being polled once delivered or cancelled, or after
TRACKING_GIVE_UP_DAYS without news. One poll runs at a time (a session advisory lock).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.utils import timezone

from packing.models import Shipment
from shipping import selectors
from shipping.carriers import gateway
from shipping.models import CarrierAccount, TrackingState, TrackingStatus
from shipping.services.tracking import (
    FINAL,
    POLL_EVERY,
    RETRY_AFTER_FAILURE,
    _store,
    poll_interval,
    scans_of,
    shipments_flag_delays,
)

logger = logging.getLogger(__name__)


def _poll_account(account: CarrierAccount, due: list[tuple], *, now: datetime) -> int:
    """Ask one carrier account about its due shipments ((shipment_id, tracking_number)), in the
    connector's batch size, and store each batch; the number of new scans."""
    conn = selectors.connection(account)
    size = max(1, settings.TRACKING_BATCH_SIZE.get(account.carrier_name, settings.TRACKING_BATCH_SIZE["default"]))
    added = 0
    for start in range(0, len(due), size):
        chunk = due[start : start + size]
        by_number = {number: shipment_id for shipment_id, number in chunk}
        try:
            found = gateway.track(conn, tracking_numbers=list(by_number))
        except gateway.CarrierError as error:
            logger.warning(
                "%s: tracking %s shipments failed (%s); retrying later", account.carrier_id, len(chunk), error.code
            )
            _polled(list(by_number.values()), now=now, failed=True)
            continue
        added += _store_answer(account, by_number, found, now=now)
    return added


def _store_answer(account: CarrierAccount, by_number: dict, found: list, *, now: datetime) -> int:
    """Store a carrier's answer for the shipments asked ({tracking_number: shipment_id}) and set
    when each is asked next; the number of new scans."""
    news: dict = {shipment_id: [] for shipment_id in by_number.values()}
    estimates: dict = {}
    for tracked in found:
        shipment_id = by_number.get(tracked.tracking_number)
        if shipment_id is None:
            continue
        news[shipment_id].extend(scans_of(tracked, carrier_name=account.carrier_name, now=now))
        if tracked.estimated_delivery:
            estimates[shipment_id] = tracked.estimated_delivery
    added = _store(news, estimates=estimates, now=now, polled=True)
    _polled(list(by_number.values()), now=now)
    return added


def _polled(shipment_ids: list, *, now: datetime, failed: bool = False) -> None:
    """Set when each polled shipment is asked next (one UPDATE per status): after its status's
    interval; sooner after a failure; never again after TRACKING_GIVE_UP_DAYS without news. A
    shipment whose scans were just stored already has its next poll (it is not moved back)."""
    give_up = now - timedelta(days=settings.TRACKING_GIVE_UP_DAYS)
    _states_create_missing(shipment_ids, now=now)
    due = TrackingState.objects.filter(shipment_id__in=shipment_ids).filter(
        Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=now)
    )
    if failed:
        due.filter(next_poll_at__isnull=False).update(
            next_poll_at=now + RETRY_AFTER_FAILURE, poll_failures=F("poll_failures") + 1, updated_at=now
        )
        return
    due.update(
        next_poll_at=Case(
            When(Q(last_news_at__lt=give_up) | Q(status__in=FINAL), then=Value(None)),
            *[When(status=status, then=Value(now + every)) for status, every in POLL_EVERY.items()],
            default=Value(now + poll_interval("")),
            output_field=DateTimeField(),
        ),
        last_polled_at=now,
        poll_failures=0,
        updated_at=now,
    )


def _states_create_missing(shipment_ids: list, *, now: datetime) -> None:
    """Tracking states for labelled shipments that have none (labels bought before states existed)."""
    have = set(TrackingState.objects.filter(shipment_id__in=shipment_ids).values_list("shipment_id", flat=True))
    missing = [sid for sid in shipment_ids if sid not in have]
    if not missing:
        return
    TrackingState.objects.bulk_create(
        [
            TrackingState(
                shipment_id=sid,
                tenant_id=tenant_id,
                status=TrackingStatus.PENDING,
                status_at=purchased_at,
                last_news_at=purchased_at or now,
                next_poll_at=now,
            )
            for sid, tenant_id, purchased_at in Shipment.objects.filter(
                pk__in=missing, label_purchased_at__isnull=False
            ).values_list("pk", "tenant_id", "label_purchased_at")
        ],
        ignore_conflicts=True,
    )


# The session-level advisory lock one tracking poll holds, so that two runs (a slow poll and the
# next beat tick, or two beats) never poll the same shipments at once.
POLL_LOCK_NAME = "shipping:tracking-poll"


def _try_poll_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [POLL_LOCK_NAME])
        return bool(cursor.fetchone()[0])


def _release_poll_lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [POLL_LOCK_NAME])


def tracking_poll(*, now: datetime | None = None, limit: int | None = None) -> int | None:
    """Poll the carriers for every shipment whose next poll is due (the longest overdue first, so
    none starves), one account at a time in its batch size; then flag delays and long holds. The
    number of new scans, or None when another poll is still running (nothing is polled twice).
    A carrier that fails is retried at a later poll without holding back the others."""
    if not _try_poll_lock():
        logger.info("tracking poll skipped: the previous one is still running")
        return None
    try:
        now = now or timezone.now()
        added = 0
        due = selectors.shipments_due_for_tracking(now=now, limit=limit or settings.TRACKING_POLL_LIMIT)
        accounts = {
            a.carrier_id: a
            for a in CarrierAccount.objects.filter(carrier_id__in={carrier for carrier, _, _ in due}).prefetch_related(
                "services"
            )
        }
        by_account: dict = defaultdict(list)
        for carrier, shipment_id, number in due:
            by_account[carrier].append((shipment_id, number))
        for carrier, shipments in by_account.items():
            account = accounts.get(carrier)
            if account is None:
                logger.warning("%s shipments: carrier account %s no longer exists", len(shipments), carrier)
                _polled([sid for sid, _ in shipments], now=now, failed=True)
                continue
            added += _poll_account(account, shipments, now=now)
        shipments_flag_delays(now=now)
        return added
    finally:
        _release_poll_lock()


def shipment_track(*, shipment_id, now: datetime | None = None) -> int:
    """Ask the shipment's carrier now (outside any transaction) and store what is new; the number
    of new scans (0 for a carrier that has no tracking: its scans are pushed)."""
    now = now or timezone.now()
    shipment = Shipment.objects.filter(pk=shipment_id).only("pk", "status", "tracking_number", "carrier_code").first()
    if shipment is None or shipment.status not in selectors.TRACKABLE or not shipment.tracking_number:
        return 0
    account = CarrierAccount.objects.filter(carrier_id=shipment.carrier_code).prefetch_related("services").first()
    if account is None:
        logger.warning("shipment %s: carrier account %s no longer exists", shipment.pk, shipment.carrier_code)
        return 0
    found = gateway.track(selectors.connection(account), tracking_numbers=[shipment.tracking_number])
    return _store_answer(account, {shipment.tracking_number: shipment.pk}, found, now=now)
