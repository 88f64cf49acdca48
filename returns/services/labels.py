"""Prepaid return labels: bought on the merchant's chosen carrier account as a karrio return
shipment (from the shopper to the warehouse the order left), then tracked like any parcel.

A purchase runs in three steps, none holding a transaction open during the carrier call:

1. read the RMA and its policy (no locks), and claim the purchase with a session advisory lock on
   the RMA (a second caller at the same moment is told a label is being bought);
2. call the carrier (no transaction; the purchase key is the RMA's id, so a rate-sheet carrier
   prints the same numbers if it is asked again);
3. lock the orders, then the return (common.lock_return), re-check that the RMA is still ``requested`` with no label,
   and record the label, the RMA ``label_issued`` and the order timeline entry in one transaction.

A refusal by the carrier leaves the RMA ``requested`` with nothing written. A merchant whose policy
names no carrier account gets RMAs without a label (the shopper sends the parcel to the warehouse).

Tracking: ``return_labels_poll`` asks the carriers that track about every label whose
``next_poll_at`` is due (in the account's batch size, no transaction during the call), and
``return_label_scan_add`` takes a scan pushed by a carrier or typed in; both store through
``_store_scans``: the first carrier scan (picked up, in transit, ...) puts the label and the RMA
``in_transit``, delivered puts the label ``delivered``; the RMA stays ``in_transit`` until the
warehouse receives it (``return_receive``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from fulfillment.errors import FieldRefusal
from fulfillment.fees import services as fees
from orders.services import order_note
from packing import selectors as packing_selectors
from packing.cartonization import ItemSpec, cartonize
from returns.models import LabelStatus, Resolution, Return, ReturnLabel, ReturnSource, ReturnStatus
from returns.selectors import return_policy
from returns.services.common import ReturnError, field_error, lock_return
from returns.services.rmas import return_create
from shipping import selectors as shipping_selectors
from shipping.carriers import gateway
from shipping.models import CarrierAccount, TrackingStatus
from shipping.services import tracking as shipping_tracking

logger = logging.getLogger(__name__)

EMAIL_TASK = "returns.tasks.send_return_email"
# The box a return travels in when the products' sizes are not all known (mm), and the weight of a
# unit whose weight is not known (g); the packaging the shopper finds adds BOX_TARE_G.
DEFAULT_BOX_MM = (350, 250, 150)
DEFAULT_UNIT_WEIGHT_G = 500
BOX_TARE_G = 200

# Scans that mean the carrier has the parcel (the label is in transit from the first of them).
MOVING = {
    TrackingStatus.PICKED_UP,
    TrackingStatus.IN_TRANSIT,
    TrackingStatus.OUT_FOR_DELIVERY,
    TrackingStatus.ON_HOLD,
    TrackingStatus.DELIVERY_DELAYED,
    TrackingStatus.DELIVERY_FAILED,
    TrackingStatus.READY_FOR_PICKUP,
    TrackingStatus.RETURN_TO_SENDER,
    TrackingStatus.DELIVERED,
}


def _carrier_refusal(error: gateway.CarrierError) -> ReturnError:
    message = f"The return label could not be bought: {error.message}"
    code = "carrier_unavailable" if error.retryable else "carrier_refused"
    refusal = ReturnError(message, code=code, errors=[field_error(None, code, message)])  # the code, for API callers
    if error.retryable:
        refusal.status = 502  # the carrier could not be reached: asking again later may work
    return refusal


@contextmanager
def _as_return_error():
    """Shipping's refusal of a pushed scan (its time, its code) as the returns' own, naming the field."""
    try:
        yield
    except FieldRefusal as refusal:
        raise ReturnError(
            refusal.message, errors=[field_error(refusal.field, refusal.code, refusal.message)]
        ) from refusal


@contextmanager
def _purchase_claim(rma_id):
    """A session advisory lock on the RMA's label purchase (no transaction held during the call);
    ReturnError 409 when another caller is buying it right now."""
    key = f"returns:label:{rma_id}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [key])
        claimed = bool(cursor.fetchone()[0])
    if not claimed:
        raise ReturnError("A return label is being bought for this RMA right now.", code="invalid_state")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])


def return_parcels(rma: Return) -> list[gateway.Parcel]:
    """The parcel the shopper sends back: the returned units cartonized over the active boxes when
    every product's size and weight are known and they fit one box; else DEFAULT_BOX_MM with the
    units' weights (DEFAULT_UNIT_WEIGHT_G for an unknown one) plus BOX_TARE_G."""
    lines = list(rma.lines.select_related("product").order_by("pk"))
    known = all(
        line.product.weight_g and line.product.length_mm and line.product.width_mm and line.product.height_mm
        for line in lines
    )
    if known and lines:
        items = [
            ItemSpec(
                sku=line.sku,
                quantity=line.quantity,
                length_mm=line.product.length_mm,
                width_mm=line.product.width_mm,
                height_mm=line.product.height_mm,
                weight_g=line.product.weight_g,
                upright=line.product.keep_upright,
                fragile=line.product.fragile,
                poly_ok=line.product.poly_mailer_ok,
            )
            for line in lines
        ]
        boxes = [packing_selectors.box_spec(box) for box in packing_selectors.active_boxes()]
        plan = cartonize(items, boxes) if boxes else []
        if len(plan) == 1:
            package = plan[0]
            return [
                gateway.Parcel(
                    weight_g=package.weight_g,
                    length_mm=package.length_mm,
                    width_mm=package.width_mm,
                    height_mm=package.height_mm,
                    reference=rma.number,
                )
            ]
    weight = sum((line.product.weight_g or DEFAULT_UNIT_WEIGHT_G) * line.quantity for line in lines) + BOX_TARE_G
    length, width, height = DEFAULT_BOX_MM
    return [gateway.Parcel(weight_g=weight, length_mm=length, width_mm=width, height_mm=height, reference=rma.number)]


def _label_account(tenant_id) -> tuple[CarrierAccount | None, str]:
    """(the policy's active carrier account with its services, the service to buy) or (None, "")."""
    policy = return_policy(tenant_id=tenant_id)
    if policy.label_account_id is None:
        return None, ""
    account = (
        CarrierAccount.objects.filter(pk=policy.label_account_id, active=True).prefetch_related("services").first()
    )
    if account is None:
        return None, ""
    services = [s for s in account.services.all() if s.active]
    service = next((s for s in services if s.service_code == policy.label_service_code), None)
    if service is None and not policy.label_service_code:
        service = services[0] if services else None
    if service is None:
        return None, ""
    return account, service.service_code


def return_label_issue(*, return_id, actor: str = "", now: datetime | None = None) -> ReturnLabel | None:
    """Buy the RMA's prepaid return label on the policy's carrier account and service: the RMA goes
    ``requested`` -> ``label_issued`` with an order timeline entry. The label already bought is
    answered again (a second call buys nothing). None when the policy names no (active) account
    or service: the RMA stays ``requested`` without a label.

    ReturnError: not_found (404); invalid_state (409: the RMA is past ``requested``, or a label is
    being bought right now); carrier_refused (422) or carrier_unavailable (502) with the RMA left
    ``requested`` and nothing written."""
    rma = Return.objects.select_related("order", "warehouse").filter(pk=return_id).first()
    if rma is None:
        raise ReturnError("return not found", code="not_found")
    existing = ReturnLabel.objects.filter(rma_id=rma.pk).first()
    if existing is not None:
        return existing
    if rma.status != ReturnStatus.REQUESTED:
        raise ReturnError(f"Return {rma.number} is {rma.status}: a label is bought for a new RMA only.",
                          code="invalid_state")  # fmt: skip
    account, service_code = _label_account(rma.tenant_id)
    if account is None:
        return None
    with _purchase_claim(rma.pk):
        existing = ReturnLabel.objects.filter(rma_id=rma.pk).first()
        if existing is not None:  # bought by the caller that held the claim before
            return existing
        try:
            label = gateway.buy(
                shipping_selectors.connection(account),
                shipper=shipping_selectors.ship_to(rma.order),
                recipient=shipping_selectors.ship_from(rma.warehouse),
                parcels=return_parcels(rma),
                service_code=service_code,
                purchase_key=str(rma.pk),
                reference=rma.number,
                label_type="PDF",
                is_return=True,
            )
        except gateway.CarrierError as error:
            logger.warning("return %s: the carrier refused the return label: %s", rma.number, error.message)
            raise _carrier_refusal(error) from error
        try:
            return _record(rma.pk, account=account, service_code=service_code, label=label, actor=actor,
                           now=now or timezone.now())  # fmt: skip
        except ReturnError:
            _void_orphan(account, label, service_code=service_code, number=rma.number)
            raise


def return_label_offer(*, return_id, actor: str = "") -> tuple[ReturnLabel | None, str]:
    """A new RMA's prepaid label where the policy buys them, as a courtesy rather than a condition:
    (the label or None, why not). A carrier that refuses or cannot be reached leaves the RMA
    ``requested`` without a label, its message kept for the caller to show; it may be asked again
    (``return_label_buy``)."""
    try:
        return return_label_issue(return_id=return_id, actor=actor), ""
    except ReturnError as error:
        if error.code == "not_found":
            raise
        return None, error.message


@dataclass(frozen=True)
class OpenedReturn:
    """The RMA, its label (None: none configured, or the carrier refused: ``label_error`` says why)."""

    rma: Return
    label: ReturnLabel | None
    label_error: str = ""


def return_open(
    *,
    tenant_id,
    order_id,
    lines: Sequence[Mapping],
    actor: str,
    resolution: str = Resolution.REFUND,
    exchange_lines: Sequence[Mapping] = (),
    source: str = ReturnSource.API,
    label: bool = True,
    notify_shopper: bool = False,
) -> OpenedReturn:
    """A return the merchant opens (API, portal): ``return_create``, then, after its commit, the
    prepaid label where the policy buys them (``return_label_offer``; ``label=False``: none) and, when
    asked, the shopper's e-mail. A refused return raises ReturnError with nothing written."""
    rma = return_create(
        tenant_id=tenant_id,
        order_id=order_id,
        lines=lines,
        actor=actor,
        resolution=resolution,
        exchange_lines=exchange_lines,
        source=source,
    )
    bought, label_error = return_label_offer(return_id=rma.pk, actor=actor) if label else (None, "")
    if notify_shopper:
        return_shopper_email_queue(return_id=rma.pk)
    return OpenedReturn(rma=rma, label=bought, label_error=label_error)


def return_label_buy(*, return_id, actor: str = "") -> ReturnLabel:
    """The merchant asks for the RMA's prepaid label (again, after a carrier refused it): as
    ``return_label_issue``, and a policy that names no active label account or service is a refusal
    (invalid_state, 409) rather than no label."""
    label = return_label_issue(return_id=return_id, actor=actor)
    if label is None:
        raise ReturnError(
            "Your return policy names no active carrier account and service for return labels: choose them"
            " in the return policy first.",
            code="invalid_state",
        )
    return label


def _void_orphan(account: CarrierAccount, label: gateway.Label, *, service_code: str, number: str) -> None:
    """A label bought for an RMA that moved on during the call: voided with the carrier where it can
    (a rate-sheet label is billed only once scanned), so that nobody pays for it."""
    try:
        gateway.void(
            shipping_selectors.connection(account),
            shipment_identifier=label.shipment_identifier,
            service_code=service_code,
        )
    except gateway.CarrierError as error:
        logger.warning("return %s: the orphaned return label could not be voided: %s", number, error.message)


def _record(return_id, *, account: CarrierAccount, service_code: str, label: gateway.Label, actor: str,
            now: datetime) -> ReturnLabel:  # fmt: skip
    with transaction.atomic():
        rma = lock_return(return_id)
        if rma.status != ReturnStatus.REQUESTED or ReturnLabel.objects.filter(rma_id=return_id).exists():
            raise ReturnError("The RMA changed while its label was being bought.", code="invalid_state")
        tracks = "tracking" in gateway.capabilities(account.carrier_name)
        service_name = next(
            (s.service_name for s in account.services.all() if s.service_code == service_code), service_code
        )
        number = label.tracking_numbers[0] if label.tracking_numbers else label.shipment_identifier
        created = ReturnLabel.objects.create(
            tenant_id=rma.tenant_id,
            rma=rma,
            account=account,
            service_code=service_code,
            service_name=str(label.meta.get("service_name") or service_name)[:100],
            carrier_shipment_id=label.shipment_identifier[:100],
            tracking_number=number[:64],
            label=label.label,
            label_type=label.label_type,
            total_charge=label.total_charge,
            currency=label.currency,
            status=LabelStatus.ISSUED,
            tracking_status=TrackingStatus.PENDING,
            tracking_at=None,  # no carrier scan yet: the first one, whenever it happened, is the newest
            events=[],
            # A carrier without tracking (the rate sheet) is never polled: its scans are pushed.
            next_poll_at=now + shipping_tracking.poll_interval(TrackingStatus.PENDING) if tracks else None,
        )
        Return.objects.filter(pk=rma.pk, status=ReturnStatus.REQUESTED).update(
            status=ReturnStatus.LABEL_ISSUED, updated_at=now
        )
        if label.total_charge is not None:
            fees.fee_for_label(
                tenant_id=rma.tenant_id,
                source_type=fees.SourceType.RETURN,
                source_id=rma.pk,
                reference=f"return {rma.number} {created.tracking_number}".strip(),
                label_key=f"return-label:{created.pk}",
                charge=label.total_charge,
                currency=label.currency or "",
                warehouse_code=rma.warehouse.code,
                actor=actor,
            )
        order_note(
            order_id=rma.order_id,
            type="return_label_issued",
            message=f"Return label for {rma.number}: {account.display_name} {created.tracking_number}",
            data={
                "return": str(rma.pk),
                "number": rma.number,
                "carrier": account.carrier_id,
                "service": service_code,
                "tracking_number": created.tracking_number,
            },
            actor=actor,
        )
    return created


def return_label_document(*, rma: Return) -> bytes | None:
    """The RMA's return label as PDF, None when it has none (or the label was voided)."""
    found = ReturnLabel.objects.filter(rma_id=rma.pk).exclude(status=LabelStatus.VOIDED).first()
    if found is None or found.label_type != "PDF":
        return None
    return bytes(found.label)


def return_shopper_email_queue(*, return_id) -> None:
    """Queue the shopper's e-mail of an RMA (its number, instructions and label) after commit;
    the task decides whether the merchant sends shopper e-mails and sends it once."""
    from fulfillment.jobs import enqueue

    enqueue(EMAIL_TASK, return_id=str(return_id))


# -- tracking ------------------------------------------------------------------------------------


def _key(event: dict) -> tuple:
    return (event.get("occurred_at"), event.get("status"), (event.get("code") or "")[:60], event.get("location") or "")


def _event_data(scan: shipping_tracking.Scan) -> dict:
    """A scan as the label's ``events`` keep it: shipping's scan data and where it came from."""
    return {**shipping_tracking.scan_data(scan), "source": scan.source}


def _store_scans(return_id, scans: list[shipping_tracking.Scan], *, now: datetime, polled: bool = False) -> int:
    """Keep the new scans of one label (a scan told twice is kept once) and move the label and the
    RMA along; the number of new scans. Locks: the orders, the return (common.lock_return), then the label."""
    with transaction.atomic():
        rma = lock_return(return_id)
        label = ReturnLabel.objects.select_for_update(no_key=True).filter(rma_id=return_id).first()
        if label is None:
            return 0
        was_delivered = label.status == LabelStatus.DELIVERED
        known = {_key(event) for event in label.events or []}
        fresh = []
        for scan in scans:
            data = _event_data(scan)
            if _key(data) not in known:
                known.add(_key(data))
                fresh.append((scan, data))
        newest = (label.tracking_at, label.tracking_status)
        status_scan = None
        for scan, _data in fresh:
            if scan.status in shipping_tracking.SILENT and label.tracking_status not in shipping_tracking.SILENT:
                continue
            if shipping_tracking.is_later((scan.occurred_at, scan.status), newest):
                newest, status_scan = (scan.occurred_at, scan.status), scan
        fields = ["updated_at"]
        if fresh:
            label.events = sorted([*(label.events or []), *(d for _, d in fresh)], key=lambda e: e["occurred_at"])
            fields.append("events")
        if status_scan is not None:
            label.tracking_status, label.tracking_at = status_scan.status, status_scan.occurred_at
            fields += ["tracking_status", "tracking_at"]
        moved = [s for s, _ in fresh if s.status in MOVING]
        if label.status == LabelStatus.ISSUED and moved:
            label.status = LabelStatus.IN_TRANSIT
            fields.append("status")
        if label.status in {LabelStatus.ISSUED, LabelStatus.IN_TRANSIT} and any(
            s.status == TrackingStatus.DELIVERED for s, _ in fresh
        ):
            label.status = LabelStatus.DELIVERED
            fields.append("status")
        if polled or fresh:
            if (
                label.status in {LabelStatus.DELIVERED, LabelStatus.VOIDED}
                or label.tracking_status in shipping_tracking.FINAL
            ):
                label.next_poll_at = None
            elif polled or label.next_poll_at is not None:
                label.next_poll_at = now + shipping_tracking.poll_interval(label.tracking_status)
            fields.append("next_poll_at")
        label.save(update_fields=list(dict.fromkeys(fields)))
        if moved and rma.status == ReturnStatus.LABEL_ISSUED:
            Return.objects.filter(pk=rma.pk, status=ReturnStatus.LABEL_ISSUED).update(
                status=ReturnStatus.IN_TRANSIT, updated_at=now
            )
            first = min(moved, key=lambda s: s.occurred_at)
            order_note(
                order_id=rma.order_id,
                type="return_in_transit",
                message=f"Return {rma.number} is on its way back: {first.description or first.status}"
                + (f" ({first.location})" if first.location else ""),
                data={"return": str(rma.pk), "number": rma.number, "tracking_number": label.tracking_number},
                actor="returns",
            )
        if label.status == LabelStatus.DELIVERED and not was_delivered:
            order_note(
                order_id=rma.order_id,
                type="return_delivered",
                message=f"Return {rma.number} was delivered to the warehouse by the carrier",
                data={"return": str(rma.pk), "number": rma.number, "tracking_number": label.tracking_number},
                actor="returns",
            )
    return len(fresh)


def return_label_scan_add(
    *,
    return_id,
    code: str,
    occurred_at: datetime,
    description: str = "",
    location: str = "",
    status: str = "",
    source: str = "push",
    now: datetime | None = None,
) -> int:
    """A scan of a return label pushed by the carrier (or typed in), read as shipping reads pushed
    scans (karrio's status, or the carrier's own code through its connector); 1 when new, 0 for a
    duplicate. ReturnError: no such RMA or no label (404), a naive or future time, an unknown code (422)."""
    now = now or timezone.now()
    with _as_return_error():
        shipping_tracking.pushed_time_check(occurred_at, now=now)
    label = ReturnLabel.objects.select_related("account").filter(rma_id=return_id).first()
    if label is None:
        raise ReturnError("return label not found", code="not_found")
    with _as_return_error():
        scan = shipping_tracking.pushed_scan(
            code=code,
            status=status,
            description=description,
            occurred_at=occurred_at,
            location=location,
            source=source,
            carrier_name=label.account.carrier_name,
        )
    return _store_scans(return_id, [scan], now=now)


def return_labels_poll(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Ask the carriers about every return label whose poll is due (the longest overdue first), one
    account at a time in its batch size, with no transaction open during a call; the number of new
    scans. A carrier that fails is asked again after shipping's RETRY_AFTER_FAILURE; a label of an
    account that cannot track is not asked again (its scans are pushed)."""
    now = now or timezone.now()
    due = list(
        ReturnLabel.objects.filter(next_poll_at__lte=now, status__in=[LabelStatus.ISSUED, LabelStatus.IN_TRANSIT])
        .order_by("next_poll_at", "rma_id")
        .values_list("account_id", "rma_id", "tracking_number")[:limit]
    )
    by_account: dict = defaultdict(list)
    for account_id, rma_id, number in due:
        by_account[account_id].append((rma_id, number))
    accounts = CarrierAccount.objects.filter(pk__in=list(by_account)).prefetch_related("services").in_bulk()
    added = 0
    for account_id, labels in by_account.items():
        account = accounts.get(account_id)
        if account is None or "tracking" not in gateway.capabilities(account.carrier_name):
            ReturnLabel.objects.filter(rma_id__in=[rma_id for rma_id, _ in labels]).update(next_poll_at=None)
            continue
        conn = shipping_selectors.connection(account)
        size = max(1, settings.TRACKING_BATCH_SIZE.get(account.carrier_name, settings.TRACKING_BATCH_SIZE["default"]))
        for start in range(0, len(labels), size):
            chunk = labels[start : start + size]
            by_number = {number: rma_id for rma_id, number in chunk}
            try:
                found = gateway.track(conn, tracking_numbers=list(by_number))
            except gateway.CarrierError as error:
                logger.warning("%s: tracking %s return labels failed (%s)", account.carrier_id, len(chunk), error.code)
                ReturnLabel.objects.filter(rma_id__in=list(by_number.values())).update(
                    next_poll_at=now + shipping_tracking.RETRY_AFTER_FAILURE
                )
                continue
            answered = set()
            for tracked in found:
                rma_id = by_number.get(tracked.tracking_number)
                if rma_id is None:
                    continue
                answered.add(rma_id)
                scans = shipping_tracking.scans_of(tracked, carrier_name=account.carrier_name, now=now)
                added += _store_scans(rma_id, scans, now=now, polled=True)
            silent = [rma_id for rma_id in by_number.values() if rma_id not in answered]
            if silent:
                ReturnLabel.objects.filter(rma_id__in=silent).update(
                    next_poll_at=now + shipping_tracking.poll_interval(TrackingStatus.PENDING)
                )
    return added
