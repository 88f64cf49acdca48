"""Tracking: carrier scans (polled through karrio, or pushed and entered by hand) move a shipment
along, and on delivery its order.

Locks: the order row first, then the shipment (as packing does). The carrier is asked with no
transaction open; the scans are then stored in a short one that re-reads state under the locks,
so a second run with nothing new adds nothing. (Issue 14 deepens this: several events per
status, intervals per status, delays.)
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from fulfillment.errors import FieldRefusal
from fulfillment.webhooks.services import event_publish
from orders import services as orders_services
from orders.models import Status as OrderStatus
from packing import services as packing_services
from packing.models import Shipment, ShipmentStatus
from shipping import locks, selectors
from shipping.carriers import gateway
from shipping.models import CarrierAccount, TrackingCode, TrackingEvent
from shipping.services.labels import shipment_payload

logger = logging.getLogger(__name__)

ACTOR = "shipping"

# The shipment status a carrier scan puts the parcel in.
STATUS_FOR_CODE = {
    TrackingCode.LABEL_CREATED: ShipmentStatus.LABEL_PURCHASED,
    TrackingCode.IN_TRANSIT: ShipmentStatus.IN_TRANSIT,
    TrackingCode.OUT_FOR_DELIVERY: ShipmentStatus.OUT_FOR_DELIVERY,
    TrackingCode.DELIVERED: ShipmentStatus.DELIVERED,
    TrackingCode.EXCEPTION: ShipmentStatus.EXCEPTION,
}


# karrio's normalised statuses -> the tracking codes shipments keep.
CODE_FOR_STATUS = {
    "picked_up": TrackingCode.IN_TRANSIT,
    "in_transit": TrackingCode.IN_TRANSIT,
    "out_for_delivery": TrackingCode.OUT_FOR_DELIVERY,
    "delivered": TrackingCode.DELIVERED,
    "on_hold": TrackingCode.EXCEPTION,
    "delivery_delayed": TrackingCode.EXCEPTION,
    "delivery_failed": TrackingCode.EXCEPTION,
    "return_to_sender": TrackingCode.EXCEPTION,
    "ready_for_pickup": TrackingCode.OUT_FOR_DELIVERY,
}
KARRIO_STATUSES = [
    "pending",
    "picked_up",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "on_hold",
    "delivery_delayed",
    "delivery_failed",
    "ready_for_pickup",
    "return_to_sender",
    "cancelled",
    "unknown",
]


def normalise(code: str, status: str = "") -> str | None:
    """The tracking code of a scan: karrio's normalised status when given, else the code itself when
    it is one of ours or karrio's; None for scans that move nothing (pending, unknown)."""
    for value in (status, code):
        value = (value or "").strip().lower()
        if value in TrackingCode.values:
            return value
        if value in CODE_FOR_STATUS:
            return CODE_FOR_STATUS[value]
    return None


@transaction.atomic
def _store_scans(shipment_id, updates: list[tuple[str, str, datetime, str]]) -> int:
    """Store scans (code, description, occurred_at, location) not seen yet; move shipment and order."""
    order, shipment = locks.order_and_shipment_lock(shipment_id)
    if shipment is None or shipment.status not in selectors.TRACKABLE:
        return 0
    seen = set(TrackingEvent.objects.filter(shipment=shipment).values_list("code", flat=True))
    added = 0
    for code, description, occurred_at, location in sorted(updates, key=lambda u: u[2]):
        if code in seen:
            continue
        seen.add(code)
        event = TrackingEvent.objects.create(
            tenant_id=shipment.tenant_id,
            shipment=shipment,
            code=code,
            description=description[:200],
            location=location[:100],
            occurred_at=occurred_at,
        )
        added += 1
        target = STATUS_FOR_CODE.get(code)
        if target:
            packing_services.shipment_set_status(shipment_id=shipment.pk, status=target, at=occurred_at)
            shipment.refresh_from_db()
        event_publish(
            tenant_id=shipment.tenant_id, type="shipment.tracking_updated", data=shipment_payload(shipment, event)
        )
        if code == TrackingCode.DELIVERED and order.status in {OrderStatus.SHIPPED, OrderStatus.EXCEPTION}:
            order = orders_services.order_mark_delivered(order_id=order.pk, actor=ACTOR)
    return added


def shipment_track(*, shipment_id, now: datetime | None = None) -> int:
    """Ask the shipment's carrier for its scans (outside any transaction) and store the new ones.

    Returns the number of new tracking events; 0 for a carrier without tracking (the rate-sheet
    carrier: its scans come in through the tracking-events endpoint)."""
    shipment = Shipment.objects.filter(pk=shipment_id).first()
    if shipment is None or shipment.status not in selectors.TRACKABLE or not shipment.tracking_number:
        return 0
    account = CarrierAccount.objects.filter(carrier_id=shipment.carrier_code).prefetch_related("services").first()
    if account is None:
        logger.warning("shipment %s: carrier account %s no longer exists", shipment.pk, shipment.carrier_code)
        return 0
    found = gateway.track(selectors.connection(account), tracking_numbers=[shipment.tracking_number])
    updates = []
    for tracked in found:
        for event in tracked.events:
            code = normalise(event.code, event.status)
            if code and event.occurred_at:
                at = event.occurred_at if event.occurred_at.tzinfo else timezone.make_aware(event.occurred_at)
                updates.append((code, event.description, at, event.location))
        if tracked.delivered and not any(u[0] == TrackingCode.DELIVERED for u in updates):
            updates.append((TrackingCode.DELIVERED, "Delivered", now or timezone.now(), ""))
    return _store_scans(shipment.pk, updates) if updates else 0


def shipment_tracking_event_add(
    *, shipment_id, code: str, description: str = "", occurred_at: datetime, location: str = ""
) -> int:
    """A carrier's pushed event or a manual scan, normalised as polled ones are; 1 when it was new.

    FieldRefusal for a code that is neither karrio's status nor ours, or a naive timestamp."""
    normalised = normalise(code)
    if normalised is None:
        raise FieldRefusal(
            f"unknown tracking status {code!r}; one of {', '.join(KARRIO_STATUSES)}",
            field="code",
            code="unknown_status",
        )
    if occurred_at.tzinfo is None:
        raise FieldRefusal("occurred_at needs a time zone", field="occurred_at", code="naive_datetime")
    if not Shipment.objects.filter(
        pk=shipment_id, status__in=[*selectors.TRACKABLE, ShipmentStatus.DELIVERED]
    ).exists():
        raise FieldRefusal(
            "Only a shipment with a label, not yet delivered, takes tracking events.", code="not_trackable", status=409
        )
    return _store_scans(
        shipment_id, [(normalised, description or normalised.replace("_", " ").capitalize(), occurred_at, location)]
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


def tracking_poll(*, now: datetime | None = None) -> int | None:
    """Poll the carriers for every shipment on its way; the number of new tracking events, or None
    when another poll is still running (it is left to finish; nothing is polled twice).

    Each shipment is its own transaction, so that one carrier failing does not hold back the rest.
    """
    if not _try_poll_lock():
        logger.info("tracking poll skipped: the previous one is still running")
        return None
    try:
        now = now or timezone.now()
        added = 0
        for shipment_id in selectors.shipments_to_track():
            try:
                added += shipment_track(shipment_id=shipment_id, now=now)
            except gateway.CarrierError as error:
                logger.warning("shipment %s: tracking failed (%s); retrying next poll", shipment_id, error.code)
        return added
    finally:
        _release_poll_lock()
