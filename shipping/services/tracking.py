"""Tracking: carrier scans (polled through karrio, pushed by a carrier, or entered by hand) tell a
shipment's journey in karrio's normalised statuses, move the shipment and its order along, and
flag parcels that will be late.

- Every scan is kept (a shipment has any number); the same scan told twice is stored once.
- The newest scan's status wins: a scan that happened before the newest one known is kept in the
  history but never moves the status back.
- ``delivered`` makes the order ``delivered``; ``delivery_failed``, ``return_to_sender`` and an
  ``on_hold`` longer than TRACKING_ON_HOLD_EXCEPTION_HOURS make it ``exception`` with the reason,
  once, with the ``shipment.exception`` webhook.
- A shipment that can no longer arrive by the order's promised date is flagged ``delayed`` once,
  with the ``shipment.delayed`` webhook and the shopper's e-mail.

Scans are stored a batch at a time (``_store``: the carrier's answer for up to 30 shipments, or one
pushed scan) in one short transaction with set-wise reads and writes. Asking the carriers is
``shipping.services.polling``; when to ask next follows the status (POLL_EVERY).

Locks: orders (primary-key order), then their shipments (primary-key order), then tracking states;
the house order (order > shipment), taken for many rows at once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from fulfillment.errors import FieldRefusal
from fulfillment.jobs import enqueue
from fulfillment.webhooks.services import events_publish_many
from orders import locks as order_locks
from orders import services as orders_services
from orders.models import Status as OrderStatus
from packing import locks as packing_locks
from packing import services as packing_services
from packing.models import Shipment, ShipmentStatus
from picking.selectors_performance import local_today
from shipping import selectors
from shipping.carriers import gateway
from shipping.models import CarrierAccount, TrackingEvent, TrackingState, TrackingStatus
from shipping.services.payloads import shipment_payload

logger = logging.getLogger(__name__)

ACTOR = "shipping"
KARRIO_STATUSES = list(TrackingStatus.values)

# Codes this system wrote before statuses were karrio's (and that scripts may still send).
LEGACY_CODES = {"label_created": TrackingStatus.PENDING, "exception": TrackingStatus.ON_HOLD}

# The shipment status (packing's coarse one) a karrio status moves the parcel to.
SHIPMENT_STATUS_FOR = {
    TrackingStatus.PICKED_UP: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.IN_TRANSIT: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.ON_HOLD: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.DELIVERY_DELAYED: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.OUT_FOR_DELIVERY: ShipmentStatus.OUT_FOR_DELIVERY,
    TrackingStatus.READY_FOR_PICKUP: ShipmentStatus.OUT_FOR_DELIVERY,
    TrackingStatus.DELIVERED: ShipmentStatus.DELIVERED,
    TrackingStatus.DELIVERY_FAILED: ShipmentStatus.EXCEPTION,
    TrackingStatus.RETURN_TO_SENDER: ShipmentStatus.EXCEPTION,
}

# Of two scans at the same instant, the one further along wins.
RANK = {
    TrackingStatus.UNKNOWN: 0,
    TrackingStatus.PENDING: 0,
    TrackingStatus.PICKED_UP: 1,
    TrackingStatus.IN_TRANSIT: 2,
    TrackingStatus.ON_HOLD: 3,
    TrackingStatus.DELIVERY_DELAYED: 3,
    TrackingStatus.READY_FOR_PICKUP: 4,
    TrackingStatus.OUT_FOR_DELIVERY: 4,
    TrackingStatus.DELIVERY_FAILED: 5,
    TrackingStatus.RETURN_TO_SENDER: 6,
    TrackingStatus.CANCELLED: 6,
    TrackingStatus.DELIVERED: 7,
}
# Scans that say nothing about where the parcel is: kept in the history, never the status once
# the parcel has moved.
SILENT = {TrackingStatus.UNKNOWN, TrackingStatus.PENDING}
EXCEPTION_STATUSES = {TrackingStatus.DELIVERY_FAILED, TrackingStatus.RETURN_TO_SENDER}
FINAL = {TrackingStatus.DELIVERED, TrackingStatus.CANCELLED}

# How long until the carrier is asked again, by status: often once the parcel is near.
POLL_EVERY = {
    TrackingStatus.PENDING: timedelta(hours=6),
    TrackingStatus.UNKNOWN: timedelta(hours=6),
    TrackingStatus.PICKED_UP: timedelta(hours=4),
    TrackingStatus.IN_TRANSIT: timedelta(hours=4),
    TrackingStatus.ON_HOLD: timedelta(hours=2),
    TrackingStatus.DELIVERY_DELAYED: timedelta(hours=3),
    TrackingStatus.DELIVERY_FAILED: timedelta(hours=2),
    TrackingStatus.READY_FOR_PICKUP: timedelta(hours=6),
    TrackingStatus.OUT_FOR_DELIVERY: timedelta(hours=1),
    TrackingStatus.RETURN_TO_SENDER: timedelta(hours=12),
}
# A carrier that failed is asked again sooner than the status says, but not at every beat.
RETRY_AFTER_FAILURE = timedelta(minutes=30)

# Shopper e-mails a status sends (orders.notifications kinds), once each.
EMAIL_FOR = {
    TrackingStatus.OUT_FOR_DELIVERY: "out_for_delivery",
    TrackingStatus.DELIVERED: "delivered",
}
SHOPPER_EMAIL_TASK = "orders.tasks.send_shopper_email"


@dataclass(frozen=True)
class Scan:
    """One carrier event in karrio's words (``status``, ``reason``) and the carrier's (``code``)."""

    status: str
    code: str
    description: str
    occurred_at: datetime
    location: str = ""
    reason: str = ""
    source: str = "poll"

    @property
    def key(self) -> tuple:
        return (self.occurred_at, self.status, self.code[:60], self.location[:100])


def is_later(a: tuple[datetime | None, str], b: tuple[datetime | None, str]) -> bool:
    """Whether the (occurred_at, status) ``a`` is newer than ``b`` (a tie goes to the further along)."""
    if b[0] is None:
        return True
    if a[0] != b[0]:
        return a[0] > b[0]
    return RANK.get(a[1], 0) > RANK.get(b[1], 0)


def poll_interval(status: str) -> timedelta:
    return POLL_EVERY.get(status, timedelta(hours=6))


def normalise(code: str, status: str = "", *, carrier_name: str = "") -> tuple[str, str] | None:
    """(karrio status, incident reason) of a scan: karrio's status when given, else the code when it
    is karrio's (or one of ours from before), else the carrier's own code read through its karrio
    connector's tables; None when nothing says what it means."""
    given = (status or "").strip().lower()
    if given in TrackingStatus.values:
        return given, gateway.status_of(carrier_name, code)[1] if carrier_name else ""
    value = (code or "").strip().lower()
    if value in TrackingStatus.values:
        return value, ""
    if value in LEGACY_CODES:
        return str(LEGACY_CODES[value]), ""
    if carrier_name:
        found, reason = gateway.status_of(carrier_name, code)
        if found in TrackingStatus.values:
            return found, reason
    return None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else timezone.make_aware(value)


def scans_of(tracked: gateway.Tracked, *, carrier_name: str, now: datetime) -> list[Scan]:
    """The scans of one carrier answer, normalised (an event karrio cannot name is ``unknown``)."""
    scans = []
    for event in tracked.events:
        if event.occurred_at is None:
            continue
        status, reason = normalise(event.code, event.status, carrier_name=carrier_name) or (
            TrackingStatus.UNKNOWN,
            "",
        )
        scans.append(
            Scan(
                status=status,
                code=str(event.code or status)[:60],
                description=event.description,
                occurred_at=_aware(event.occurred_at),
                location=event.location,
                reason=event.reason or reason,
            )
        )
    if tracked.delivered and not any(s.status == TrackingStatus.DELIVERED for s in scans):
        scans.append(Scan(TrackingStatus.DELIVERED, "delivered", "Delivered", now))
    return scans


# -- storing scans ----------------------------------------------------------------------------


def tracking_start(*, shipment: Shipment, now: datetime) -> TrackingEvent:
    """A label was bought (inside the purchase's transaction): the scan history starts again with
    the label, and the carrier is first asked after the pending interval."""
    TrackingEvent.objects.filter(shipment_id=shipment.pk).delete()  # a voided label's scans
    event = TrackingEvent.objects.create(
        tenant_id=shipment.tenant_id,
        shipment_id=shipment.pk,
        status=TrackingStatus.PENDING,
        code="label_created",
        description="Shipping label created",
        occurred_at=now,
        source="system",
    )
    TrackingState.objects.update_or_create(
        shipment_id=shipment.pk,
        defaults={
            "tenant_id": shipment.tenant_id,
            "status": TrackingStatus.PENDING,
            "status_at": now,
            "reason": "",
            "next_poll_at": now + poll_interval(TrackingStatus.PENDING),
            "last_polled_at": None,
            "last_news_at": now,
            "poll_failures": 0,
            "delayed_at": None,
            "exception_at": None,
        },
    )
    return event


def tracking_forget(*, shipment_id) -> None:
    """A voided label: its scans and tracking state go with it."""
    TrackingEvent.objects.filter(shipment_id=shipment_id).delete()
    TrackingState.objects.filter(shipment_id=shipment_id).delete()


def _existing_keys(shipment_ids) -> dict:
    keys: dict = defaultdict(set)
    for row in TrackingEvent.objects.filter(shipment_id__in=shipment_ids).values_list(
        "shipment_id", "occurred_at", "status", "code", "location"
    ):
        keys[row[0]].add(row[1:])
    return keys


def _fresh(news: dict, existing: dict) -> dict:
    """The scans of ``news`` not stored yet (nor repeated within the batch), oldest first."""
    fresh = {}
    for shipment_id, scans in news.items():
        seen = set(existing.get(shipment_id, ()))
        kept = []
        for scan in sorted(scans, key=lambda s: (s.occurred_at, RANK.get(s.status, 0))):
            if scan.key not in seen:
                seen.add(scan.key)
                kept.append(scan)
        if kept:
            fresh[shipment_id] = kept
    return fresh


def scan_data(scan: Scan) -> dict:
    return {
        "status": scan.status,
        "code": scan.code,
        "description": scan.description,
        "occurred_at": scan.occurred_at.isoformat(),
        "location": scan.location,
    }


def _payload(shipment: Shipment, order, state: TrackingState, scans: list[Scan]) -> dict:
    """The data of ``shipment.*`` webhooks sent by tracking: payloads.shipment_payload's fields, the
    tracking status, delay and reason, and the new scans (the newest as ``event``)."""
    shipment.order = order  # the locked row: shipment_payload reads its number without a query
    return {
        **shipment_payload(shipment),
        "tracking_status": state.status,
        "delayed": state.delayed_at is not None,
        "reason": state.reason,
        "event": scan_data(scans[-1]) if scans else None,
        "events": [scan_data(s) for s in scans],
    }


def _reason_text(scan: Scan) -> str:
    words = scan.description or scan.status.replace("_", " ")
    if scan.reason:
        words = f"{words} ({scan.reason.replace('_', ' ')})"
    return f"{scan.status.replace('_', ' ').capitalize()}: {words}"[:200]


def _lock(shipment_ids) -> tuple[dict, dict, dict]:
    """({order_id: Order}, {shipment_id: Shipment}, {shipment_id: TrackingState}), locked in the
    house order; shipments without a label (voided meanwhile) are left out."""
    order_ids = list(Shipment.objects.filter(pk__in=shipment_ids).values_list("order_id", flat=True).distinct())
    orders = {o.pk: o for o in order_locks.order_qs_select_for_update().filter(pk__in=order_ids)}
    shipments = {
        s.pk: s
        for s in packing_locks.shipment_qs_select_for_update()
        .filter(pk__in=shipment_ids, label_purchased_at__isnull=False)
        .defer("label_pdf", "label_zpl")
        .order_by("pk")
    }
    states = {
        s.shipment_id: s
        for s in TrackingState.objects.select_for_update(no_key=True)
        .filter(shipment_id__in=list(shipments))
        .order_by("shipment_id")
    }
    return orders, shipments, states


@dataclass
class _Batch:
    """What one store of scans changed, to be told once the rows are written."""

    webhooks: dict  # tenant_id -> [(type, data)]
    notes: list  # order timeline: (tenant_id, order_id, message, data)
    emails: list  # (tenant_id, order_id, kind)

    @classmethod
    def empty(cls) -> _Batch:
        return cls(defaultdict(list), [], [])


def _store(news: dict, *, estimates: dict | None = None, now: datetime, polled: bool = False) -> int:
    """Store the scans of ``news`` ({shipment_id: [Scan]}) and the carriers' ``estimates``
    ({shipment_id: date}) in one transaction (``polled``: the carrier was just asked about every
    shipment of ``news``); the number of new scans."""
    estimates = {k: v for k, v in (estimates or {}).items() if v}
    fresh = _fresh(news, _existing_keys(list(news)))
    candidates = set(fresh)
    if estimates:
        # Only an estimate that differs from the shipment's is news.
        known = dict(
            Shipment.objects.filter(pk__in=list(estimates), delivered_at__isnull=True).values_list(
                "pk", "estimated_delivery_date"
            )
        )
        candidates |= {sid for sid, estimate in estimates.items() if sid in known and known[sid] != estimate}
    if not candidates:
        return 0
    with transaction.atomic():
        orders, shipments, states = _lock(list(candidates))
        fresh = _fresh({sid: news.get(sid, []) for sid in shipments}, _existing_keys(list(shipments)))
        batch = _Batch.empty()
        new_events: list[TrackingEvent] = []
        moves: dict = {}
        new_estimates: dict = {}
        delivered, failed = [], []
        for shipment_id, shipment in shipments.items():
            order = orders[shipment.order_id]
            state = states.get(shipment_id) or TrackingState(
                shipment_id=shipment_id,
                tenant_id=shipment.tenant_id,
                status=TrackingStatus.PENDING,
                status_at=shipment.label_purchased_at,
                last_news_at=shipment.label_purchased_at or now,
            )
            states[shipment_id] = state
            scans = fresh.get(shipment_id, [])
            estimate = estimates.get(shipment_id)
            if estimate and estimate != shipment.estimated_delivery_date and shipment.delivered_at is None:
                new_estimates[shipment_id] = estimate
                shipment.estimated_delivery_date = estimate
            if not scans and shipment_id not in new_estimates:
                continue
            new_events.extend(
                TrackingEvent(
                    tenant_id=shipment.tenant_id,
                    shipment_id=shipment_id,
                    status=s.status,
                    code=s.code[:60],
                    reason=s.reason[:60],
                    description=s.description[:200],
                    location=s.location[:100],
                    occurred_at=s.occurred_at,
                    source=s.source,
                )
                for s in scans
            )
            before = state.status
            newest = None
            for scan in scans:
                if (
                    state.status in FINAL
                    or scan.status == TrackingStatus.UNKNOWN
                    or (scan.status in SILENT and state.status not in SILENT)
                ):
                    continue  # delivered (or cancelled) stays so; later scans are history
                # A silent status (the label, an unreadable scan) gives way to any scan that says
                # where the parcel is; between those, the newest wins.
                current_at = None if state.status in SILENT and scan.status not in SILENT else state.status_at
                if is_later((scan.occurred_at, scan.status), (current_at, state.status)):
                    newest = scan
                    state.status, state.status_at = scan.status, scan.occurred_at
            if scans:
                state.last_news_at = now
            if newest is not None and newest.status != before:
                state.reason = (
                    _reason_text(newest)
                    if newest.reason
                    or newest.status
                    in {
                        TrackingStatus.ON_HOLD,
                        TrackingStatus.DELIVERY_DELAYED,
                        *EXCEPTION_STATUSES,
                    }
                    else ""
                )
                target = SHIPMENT_STATUS_FOR.get(newest.status)
                if target and target != shipment.status:
                    moves[shipment_id] = (target, newest.occurred_at)
                batch.notes.append(
                    (
                        order.tenant_id,
                        order.pk,
                        f"Tracking {shipment.tracking_number}: {newest.status.replace('_', ' ')}"
                        + (f" — {newest.description}" if newest.description else ""),
                        {"shipment": str(shipment_id), "status": newest.status, "code": newest.code},
                    )
                )
                if newest.status == TrackingStatus.DELIVERED:
                    delivered.append(order)
                elif newest.status in EXCEPTION_STATUSES and state.exception_at is None:
                    failed.append((order, shipment, state))
                kind = EMAIL_FOR.get(newest.status)
                if kind:
                    batch.emails.append((order.tenant_id, order.pk, kind))
            state.next_poll_at = None if state.status in FINAL else now + poll_interval(state.status)
            if polled:
                state.last_polled_at = now
            state.poll_failures = 0
        TrackingEvent.objects.bulk_create(new_events, batch_size=2000)
        moved = packing_services.shipments_set_status_many(moves=moves, estimates=new_estimates)
        for shipment_id in moved:
            shipments[shipment_id].status = moves[shipment_id][0]
        for shipment_id, shipment in shipments.items():
            if fresh.get(shipment_id) or shipment_id in new_estimates:
                batch.webhooks[shipment.tenant_id].append(
                    (
                        "shipment.tracking_updated",
                        _payload(shipment, orders[shipment.order_id], states[shipment_id], fresh.get(shipment_id, [])),
                    )
                )
        if delivered:
            orders_services.orders_mark_delivered_many(order_ids=[o.pk for o in delivered], actor=ACTOR)
        for order, shipment, state in failed:
            _exception(order, shipment, state, batch=batch, now=now)
        _save_states(states.values())
        _flag_delays(shipments, orders, states, batch=batch, now=now)
        _tell(batch)
    return len(new_events)


_STATE_FIELDS = [
    "status",
    "status_at",
    "reason",
    "next_poll_at",
    "last_polled_at",
    "last_news_at",
    "poll_failures",
    "delayed_at",
    "exception_at",
    "updated_at",
]


# One UPDATE ... FROM (VALUES ...) for a batch of states (Django's bulk_update builds a CASE per
# field and row, which costs more than the rest of a poll). Built once from the field list.
_SET = ", ".join(f"{name} = v.{name}" for name in _STATE_FIELDS)
_COLUMNS = ", ".join(_STATE_FIELDS)
# Column names from _STATE_FIELDS; every value is a parameter.
_STATE_UPDATE_SQL = f"UPDATE shipping_trackingstate AS s SET {_SET} FROM (VALUES {{rows}}) AS v(shipment_id, {_COLUMNS}) WHERE s.shipment_id = v.shipment_id"  # noqa: S608, E501
# The VALUES row's placeholders, each cast to its column's type (read from the model, so that the
# list cannot fall out of step with _STATE_FIELDS).
_CAST = {"DateTimeField": "timestamptz", "DateField": "date", "PositiveIntegerField": "integer", "UUIDField": "uuid"}
_STATE_CASTS = ", ".join(
    f"%s::{_CAST[field.get_internal_type()]}" if field.get_internal_type() in _CAST else "%s"
    for field in [TrackingState._meta.get_field("shipment").target_field]
    + [TrackingState._meta.get_field(name) for name in _STATE_FIELDS]
)


def _save_states(states) -> None:
    now = timezone.now()
    existing, missing = [], []
    for state in states:
        state.updated_at = now
        (existing if state._state.adding is False else missing).append(state)
    for start in range(0, len(existing), 2000):
        chunk = existing[start : start + 2000]
        params = [
            value for state in chunk for value in (state.shipment_id, *(getattr(state, name) for name in _STATE_FIELDS))
        ]
        rows = ", ".join(f"({_STATE_CASTS})" for _ in chunk)
        with connection.cursor() as cursor:
            cursor.execute(_STATE_UPDATE_SQL.format(rows=rows), params)
    TrackingState.objects.bulk_create(missing, batch_size=1000, ignore_conflicts=True)


def _exception(order, shipment, state: TrackingState, *, batch: _Batch, now: datetime) -> None:
    """The parcel cannot be delivered as it is: the order goes to ``exception`` with the reason and
    ``shipment.exception`` is sent, once per label."""
    state.exception_at = now
    reason = state.reason or f"Carrier reports {state.status.replace('_', ' ')}"
    if order.status == OrderStatus.SHIPPED:
        orders_services.order_mark_exception(
            order_id=order.pk, reason=reason, actor=ACTOR, data={"shipment": str(shipment.pk), "status": state.status}
        )
        order.status = OrderStatus.EXCEPTION
    if shipment.status != ShipmentStatus.EXCEPTION and packing_services.shipment_set_status(
        shipment_id=shipment.pk, status=ShipmentStatus.EXCEPTION
    ):
        shipment.status = ShipmentStatus.EXCEPTION
    batch.webhooks[shipment.tenant_id].append(("shipment.exception", _payload(shipment, order, state, [])))


def _tell(batch: _Batch) -> None:
    """The order timeline, webhooks and shopper e-mails of a stored batch (e-mails after commit)."""
    if batch.notes:
        orders_services.order_notes_add(notes=batch.notes, type="tracking", actor=ACTOR)
    for tenant_id, events in batch.webhooks.items():
        events_publish_many(tenant_id=tenant_id, events=events)
    if batch.emails:
        wanting = selectors.tenants_sending_shopper_emails({tenant_id for tenant_id, _, _ in batch.emails})
        for tenant_id, order_id, kind in batch.emails:
            if tenant_id in wanting and wanting[tenant_id].sends_shopper_email(kind):
                enqueue(SHOPPER_EMAIL_TASK, order_id=str(order_id), kind=kind)


# -- estimates and delays ---------------------------------------------------------------------


def is_late(*, estimate: date | None, promised: date | None, status: str, today: date) -> bool:
    """Whether a parcel not delivered yet can no longer arrive by the promised date: its estimate is
    after it, the promised day has passed, or the carrier says it is delayed with no estimate that
    still keeps the promise."""
    if promised is None or status in FINAL:
        return False
    if today > promised:
        return True
    if estimate is not None and estimate > promised:
        return True
    return status == TrackingStatus.DELIVERY_DELAYED and (estimate is None or estimate > promised or today == promised)


def _flag_delays(shipments: dict, orders: dict, states: dict, *, batch: _Batch, now: datetime) -> list:
    """Flag the late ones among locked shipments (not flagged yet): ``delayed_at``, the timeline,
    ``shipment.delayed`` and the shopper's e-mail, once. Their states are saved here."""
    flagged = []
    warehouses = selectors.warehouses_by_id({s.warehouse_id for s in shipments.values()})
    for shipment_id, shipment in shipments.items():
        state = states.get(shipment_id)
        if state is None or state.delayed_at is not None or shipment.delivered_at is not None:
            continue
        if shipment.status == ShipmentStatus.DELIVERED:
            continue
        order = orders[shipment.order_id]
        today = local_today(warehouses[shipment.warehouse_id], now=now)
        if not is_late(
            estimate=shipment.estimated_delivery_date,
            promised=order.promised_delivery_date,
            status=state.status,
            today=today,
        ):
            continue
        state.delayed_at = now
        flagged.append(state)
        batch.notes.append(
            (
                order.tenant_id,
                order.pk,
                f"Shipment {shipment.tracking_number} will miss the promised {order.promised_delivery_date:%Y-%m-%d}"
                + (
                    f"; now expected {shipment.estimated_delivery_date:%Y-%m-%d}"
                    if shipment.estimated_delivery_date
                    else ""
                ),
                {"shipment": str(shipment_id), "estimated_delivery_date": str(shipment.estimated_delivery_date or "")},
            )
        )
        batch.webhooks[shipment.tenant_id].append(("shipment.delayed", _payload(shipment, order, state, [])))
        batch.emails.append((order.tenant_id, order.pk, "delayed"))
    if flagged:
        TrackingState.objects.bulk_update(flagged, ["delayed_at", "updated_at"], batch_size=1000)
    return flagged


def shipments_flag_delays(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Periodic: flag every shipment on its way that has become late (the rate-sheet ones, which
    no carrier tracks, included) and put the long holds in exception; the number flagged."""
    now = now or timezone.now()
    hold_cutoff = now - timedelta(hours=settings.TRACKING_ON_HOLD_EXCEPTION_HOURS)
    candidates = selectors.shipments_maybe_late(now=now, hold_cutoff=hold_cutoff, limit=limit)
    if not candidates:
        return 0
    with transaction.atomic():
        orders, shipments, states = _lock(candidates)
        batch = _Batch.empty()
        for shipment_id, shipment in shipments.items():
            if shipment_id not in states:
                states[shipment_id] = TrackingState(
                    shipment_id=shipment_id,
                    tenant_id=shipment.tenant_id,
                    status=TrackingStatus.PENDING,
                    status_at=shipment.label_purchased_at,
                    last_news_at=shipment.label_purchased_at or now,
                    next_poll_at=None,
                )
        held = [
            (orders[shipments[sid].order_id], shipments[sid], state)
            for sid, state in states.items()
            if state.status == TrackingStatus.ON_HOLD
            and state.exception_at is None
            and state.status_at is not None
            and state.status_at <= hold_cutoff
        ]
        for order, shipment, state in held:
            state.reason = state.reason or "On hold with the carrier"
            state.reason = f"{state.reason} for more than {settings.TRACKING_ON_HOLD_EXCEPTION_HOURS} hours"[:200]
            _exception(order, shipment, state, batch=batch, now=now)
        _save_states(states.values())
        flagged = _flag_delays(shipments, orders, states, batch=batch, now=now)
        _tell(batch)
    return len(flagged) + len(held)


def pushed_time_check(occurred_at: datetime, *, now: datetime) -> None:
    """FieldRefusal (field occurred_at) for a pushed scan's time without a zone or in the future."""
    if occurred_at.tzinfo is None:
        raise FieldRefusal("occurred_at needs a time zone", field="occurred_at", code="naive_datetime")
    if occurred_at > now + timedelta(minutes=5):
        raise FieldRefusal("occurred_at is in the future", field="occurred_at", code="in_the_future")


def pushed_scan(
    *,
    code: str,
    status: str = "",
    reason: str = "",
    description: str = "",
    occurred_at: datetime,
    location: str = "",
    source: str = "push",
    carrier_name: str = "",
) -> Scan:
    """A pushed (or typed-in) scan read as polled ones are: karrio's status, or the carrier's own code
    through its connector. FieldRefusal (field code, unknown_status) when nothing can read it."""
    normalised = normalise(code, status, carrier_name=carrier_name)
    if normalised is None:
        raise FieldRefusal(
            f"unknown tracking status {code!r}: give one of {', '.join(KARRIO_STATUSES)}, or the carrier's own code",
            field="code",
            code="unknown_status",
        )
    found_status, found_reason = normalised
    return Scan(
        status=found_status,
        code=(code or found_status).strip()[:60],
        description=(description or found_status.replace("_", " ").capitalize())[:200],
        occurred_at=occurred_at,
        location=(location or "")[:100],
        reason=(reason or found_reason)[:60],
        source=source,
    )


def shipment_tracking_event_add(
    *,
    shipment_id,
    code: str,
    description: str = "",
    occurred_at: datetime,
    location: str = "",
    status: str = "",
    reason: str = "",
    source: str = "push",
    now: datetime | None = None,
) -> int:
    """A carrier's pushed event or a manual scan, normalised as polled ones are (the carrier's own
    code is read through its karrio connector); 1 when it was new, 0 for a duplicate.

    FieldRefusal for a code nothing can read, a naive timestamp, one in the future, or a shipment
    without a label or already delivered."""
    now = now or timezone.now()
    pushed_time_check(occurred_at, now=now)
    shipment = (
        Shipment.objects.filter(pk=shipment_id, label_purchased_at__isnull=False)
        .only("pk", "status", "carrier_code")
        .first()
    )
    carrier_name = (
        CarrierAccount.objects.filter(carrier_id=shipment.carrier_code).values_list("carrier_name", flat=True).first()
        if shipment is not None
        else None
    )
    if shipment is None or shipment.status not in [*selectors.TRACKABLE, ShipmentStatus.DELIVERED]:
        raise FieldRefusal("Only a shipment with a label takes tracking events.", code="not_trackable", status=409)
    scan = pushed_scan(
        code=code,
        status=status,
        reason=reason,
        description=description,
        occurred_at=occurred_at,
        location=location,
        source=source,
        carrier_name=carrier_name or "",
    )
    return _store({shipment.pk: [scan]}, now=now)
