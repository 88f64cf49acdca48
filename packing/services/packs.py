"""Every write of packing: packing an order into a shipment, and the shipment updates shipping makes.

Locks: the order row first (as orders.services does), then the shipment; then the merchant's
stock balances at PACKING (inserts) and last the operator's material balances (warehouse, material).
Packing never imports shipping: label purchase is started by task name after commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, DateField, DateTimeField, Value, When
from django.utils import timezone

from fulfillment.errors import Refusal
from fulfillment.fees import services as fees
from fulfillment.jobs import enqueue
from orders import locks as order_locks
from orders import services as orders_services
from orders.models import Order, OrderLine, Status
from packing import selectors
from packing.models import (
    SHIPMENT_ALLOWED,
    Box,
    Package,
    PackSession,
    PackSessionStatus,
    Shipment,
    ShipmentStatus,
)
from packing.services import inserts, materials

logger = logging.getLogger(__name__)

PURCHASE_LABEL_TASK = "shipping.tasks.purchase_label"


class PackingError(Refusal):
    """A refused packing action. ``invalid_state`` and ``being_packed`` (an open pack session of
    someone else holds the order) are conflicts (409); else bad input (422)."""

    CONFLICTS = frozenset({"invalid_state", "being_packed"})

    def __init__(
        self, message: str, *, errors: list[dict] | None = None, code: str = "invalid", extra: dict | None = None
    ):
        status = 409 if code in self.CONFLICTS else 422
        super().__init__(message, errors=errors, code=code, status=status, extra=extra)


@dataclass(frozen=True)
class PackItemInput:
    sku: str
    quantity: int


@dataclass(frozen=True)
class PackageInput:
    box: str
    items: list[PackItemInput]
    weight_g: int | None = None


def _as_package_input(value) -> PackageInput:
    """Accept a PackageInput or the API's dict ``{"box", "weight_g"?, "items": [{"sku", "quantity"}]}``."""
    if isinstance(value, PackageInput):
        return value
    items = [
        item if isinstance(item, PackItemInput) else PackItemInput(sku=item["sku"], quantity=item["quantity"])
        for item in value.get("items", [])
    ]
    return PackageInput(box=value.get("box", ""), items=items, weight_g=value.get("weight_g"))


def _error(field: str, code: str, message: str) -> dict:
    return {"field": field, "code": code, "message": message}


def _validated_packages(*, order: Order, picked: dict[str, int], packages: list[PackageInput]) -> list[Package]:
    """Unsaved Package rows for an operator's packing, or PackingError with field paths."""
    codes = {p.box for p in packages}
    boxes = {b.code: b for b in Box.objects.filter(code__in=codes, is_active=True)}
    unit_weight = dict(OrderLine.objects.filter(order=order).values_list("sku", "product__weight_g"))
    errors: list[dict] = []
    packed: dict[str, int] = {}
    rows = []
    for i, package in enumerate(packages):
        box = boxes.get(package.box)
        if box is None:
            errors.append(_error(f"packages[{i}].box", "unknown_box", f"unknown or inactive box {package.box!r}"))
        if package.weight_g is not None and package.weight_g <= 0:
            errors.append(_error(f"packages[{i}].weight_g", "min_value", "weight_g must be positive"))
        if not package.items:
            errors.append(_error(f"packages[{i}].items", "empty", "a package needs at least one item"))
        contents: dict[str, int] = {}
        for j, item in enumerate(package.items):
            if item.sku not in picked:
                errors.append(
                    _error(
                        f"packages[{i}].items[{j}].sku", "not_picked", f"SKU {item.sku} was not picked for this order"
                    )
                )
            if item.quantity <= 0:
                errors.append(_error(f"packages[{i}].items[{j}].quantity", "min_value", "quantity must be positive"))
            contents[item.sku] = contents.get(item.sku, 0) + item.quantity
            packed[item.sku] = packed.get(item.sku, 0) + item.quantity
        if box is not None:
            content_weight = sum(unit_weight.get(sku, 0) * qty for sku, qty in contents.items())
            rows.append(
                Package(
                    tenant_id=order.tenant_id,
                    number=i + 1,
                    box=box,
                    weight_g=package.weight_g or content_weight + box.tare_weight_g,
                    length_mm=box.length_mm,
                    width_mm=box.width_mm,
                    height_mm=box.height_mm,
                    items=[{"sku": sku, "quantity": qty} for sku, qty in contents.items()],
                )
            )
    if not errors:
        for sku, quantity in picked.items():
            if packed.get(sku, 0) != quantity:
                errors.append(
                    _error(
                        "packages",
                        "quantity_mismatch",
                        f"SKU {sku}: {packed.get(sku, 0)} packed but {quantity} picked",
                    )
                )
    if errors:
        raise PackingError("The packages do not match what was picked for this order.", errors=errors)
    return rows


def _planned_packages(*, order: Order) -> list[Package]:
    """Unsaved Package rows from cartonization of the picked units over the active boxes."""
    boxes = {b.code: b for b in selectors.active_boxes()}
    plan = selectors.recommended_packages(order=order, boxes=list(boxes.values()))
    return [
        Package(
            tenant_id=order.tenant_id,
            number=n,
            box=boxes[planned.box.code] if planned.box else None,
            weight_g=planned.weight_g,
            length_mm=planned.length_mm,
            width_mm=planned.width_mm,
            height_mm=planned.height_mm,
            items=planned.items_json(),
        )
        for n, planned in enumerate(plan, start=1)
    ]


def _open_session(order: Order, *, pack_session) -> PackSession | None:
    """The order's open pack session, other than ``pack_session`` (the one closing with this pack)."""
    held = PackSession.objects.filter(order=order, status=PackSessionStatus.OPEN).select_related("packer")
    if pack_session is not None:
        held = held.exclude(pk=pack_session.pk)
    return held.first()


@transaction.atomic
def order_pack(
    *, order_id, actor: str = "", packages: list | None = None, actor_obj=None, pack_session=None
) -> Shipment:
    """Pack a picked order: a shipment with its packages; label purchase starts in Celery on commit.

    ``packages`` (PackageInput or dicts) is the operator's packing and must hold exactly the picked
    units; None or empty uses cartonization. ``actor_obj`` (an Actor), when given, must see the order.
    ``pack_session``: the open session that is closing with this pack (packing.services.sessions).
    An open pack session of someone else refuses the pack (``being_packed``); the actor's own open
    session is closed with this shipment.
    The packages consume their boxes' materials (``materials.materials_consume``: balances may go
    negative, an alert is raised, the pack is never refused for it) and the merchant's inserts
    leave PACKING (``inserts.inserts_consume``: skipped, with a timeline entry, when PACKING has
    too few), all in this transaction.
    Raises Order.DoesNotExist, or PackingError (code "invalid_state" when the order is not picked).
    """
    if actor_obj is not None and not Order.objects.visible_to(actor_obj).filter(pk=order_id).exists():
        raise Order.DoesNotExist
    # Lock the order first: a concurrent pack of the same order waits here and then sees "packed".
    order = order_locks.order_lock(order_id)
    if order is None:
        raise Order.DoesNotExist
    if order.status != Status.PICKED:
        raise PackingError(f"An order in {order.status} cannot be packed; it must be picked.", code="invalid_state")
    picked = selectors.picked_quantities(order=order)
    if not picked:
        raise PackingError("Nothing was picked for this order.", code="invalid_state")
    open_session = _open_session(order, pack_session=pack_session)
    if open_session is not None and (actor_obj is None or open_session.packer_id != actor_obj.user_id):
        holder = open_session.packer.get_username()
        message = f"Order {order.number} is being packed by {holder}" + (
            f" at {open_session.station}." if open_session.station else "."
        )
        raise PackingError(
            message,
            code="being_packed",
            errors=[{"field": None, "code": "being_packed", "message": message}],
            extra={"held_by": holder, "station": open_session.station, "session": str(open_session.pk)},
        )
    if packages:
        rows = _validated_packages(order=order, picked=picked, packages=[_as_package_input(p) for p in packages])
    else:
        rows = _planned_packages(order=order)
    shipment = Shipment.objects.create(
        tenant_id=order.tenant_id, order=order, warehouse_id=order.warehouse_id, status=ShipmentStatus.PACKED
    )
    for row in rows:
        row.shipment = shipment
    Package.objects.bulk_create(rows)
    boxes = ", ".join(row.box.code if row.box else "as is" for row in rows)
    orders_services.order_mark_packed(
        order_id=order.pk, actor=actor, message=f"Packed in {len(rows)} package(s): {boxes}"
    )
    if open_session is not None:
        # The packer packed their own session's order directly: the session ends with this shipment.
        PackSession.objects.filter(pk=open_session.pk, status=PackSessionStatus.OPEN).update(
            status=PackSessionStatus.CLOSED, closed_at=timezone.now(), shipment=shipment
        )
    inserts.inserts_consume(order=order, actor=actor)
    materials.materials_consume(
        shipment=shipment,
        packages=rows,
        reference=f"order {order.number}",
        actor=actor,
        user_id=actor_obj.user_id if actor_obj is not None and actor_obj.is_staff else None,
    )
    fees.fees_for_packages(
        tenant_id=order.tenant_id,
        shipment_id=shipment.pk,
        reference=f"order {order.number}",
        packages=len(rows),
        boxes=[(row.box.code, row.box.cost) for row in rows if row.box is not None],
        warehouse_code=order.warehouse.code,
        actor=actor,
    )
    enqueue(PURCHASE_LABEL_TASK, shipment_id=str(shipment.pk))
    return shipment


# -- shipment updates made by shipping ------------------------------------------------------


@dataclass(frozen=True)
class LabelRecord:
    carrier_code: str
    service_code: str
    tracking_number: str
    rate_amount: Decimal
    rate_currency: str
    label_pdf: bytes | None
    label_zpl: str
    estimated_delivery_date: date | None
    package_tracking_numbers: tuple[str, ...] = ()  # in package order; the first is the shipment's


@transaction.atomic
def shipment_record_label(*, shipment_id, label: LabelRecord, purchased_at: datetime | None = None) -> bool:
    """Store a bought label; compare-and-set from packed, so a second purchase cannot overwrite the first."""
    changed = Shipment.objects.filter(
        pk=shipment_id, status=ShipmentStatus.PACKED, label_purchased_at__isnull=True
    ).update(
        status=ShipmentStatus.LABEL_PURCHASED,
        carrier_code=label.carrier_code,
        service_code=label.service_code,
        tracking_number=label.tracking_number,
        rate_amount=label.rate_amount,
        rate_currency=label.rate_currency,
        label_pdf=label.label_pdf,
        label_zpl=label.label_zpl,
        estimated_delivery_date=label.estimated_delivery_date,
        label_purchased_at=purchased_at or timezone.now(),
        updated_at=timezone.now(),
    )
    if changed != 1:
        return False
    numbers = list(label.package_tracking_numbers) or [label.tracking_number]
    packages = list(Package.objects.filter(shipment_id=shipment_id).order_by("number"))
    for index, package in enumerate(packages):
        # A carrier without multi-piece numbers gives one number for every parcel.
        package.tracking_number = numbers[index] if index < len(numbers) else numbers[0]
    Package.objects.bulk_update(packages, ["tracking_number"])
    return True


@transaction.atomic
def shipment_store_label_document(*, shipment_id, label_pdf: bytes | None = None, label_zpl: str = "") -> bool:
    """Keep a label format made after the purchase (the other format of the same label)."""
    fields: dict = {}
    if label_pdf:
        fields["label_pdf"] = label_pdf
    if label_zpl:
        fields["label_zpl"] = label_zpl
    if not fields:
        return False
    return Shipment.objects.filter(pk=shipment_id, label_purchased_at__isnull=False).update(**fields) == 1


@transaction.atomic
def shipment_clear_label(*, shipment_id) -> bool:
    """A voided label: the shipment is packed again, without carrier, tracking numbers or label.
    Compare-and-set from label_purchased (a parcel the carrier has already scanned cannot be voided)."""
    changed = Shipment.objects.filter(pk=shipment_id, status=ShipmentStatus.LABEL_PURCHASED).update(
        status=ShipmentStatus.PACKED,
        carrier_code="",
        service_code="",
        tracking_number="",
        rate_amount=None,
        rate_currency="",
        label_pdf=None,
        label_zpl="",
        estimated_delivery_date=None,
        label_purchased_at=None,
        updated_at=timezone.now(),
    )
    if changed != 1:
        return False
    Package.objects.filter(shipment_id=shipment_id).update(tracking_number="")
    return True


@transaction.atomic
def shipment_set_status(*, shipment_id, status: str, at: datetime | None = None) -> bool:
    """Move a shipment along SHIPMENT_ALLOWED (compare-and-set); False when it is not allowed from where it is."""
    current = Shipment.objects.filter(pk=shipment_id).values_list("status", flat=True).first()
    if current is None or status not in SHIPMENT_ALLOWED.get(current, set()):
        return False
    fields: dict = {"status": status, "updated_at": timezone.now()}
    if status == ShipmentStatus.DELIVERED:
        fields["delivered_at"] = at or timezone.now()
    return Shipment.objects.filter(pk=shipment_id, status=current).update(**fields) == 1


@transaction.atomic
def shipments_set_status_many(*, moves: dict, estimates: dict | None = None) -> set:
    """Tracking news for many shipments at once (the caller holds their locks): ``moves`` is
    {shipment_id: (status, at)}, each applied where SHIPMENT_ALLOWED lets it (compare-and-set from
    the statuses that may precede it, one UPDATE per target status); ``estimates`` is
    {shipment_id: date}, the carrier's newer estimated delivery. Returns the ids that moved."""
    now = timezone.now()
    moved: set = set()
    by_target: dict[str, list] = {}
    for shipment_id, (status, _at) in moves.items():
        by_target.setdefault(status, []).append(shipment_id)
    for target, ids in by_target.items():
        sources = [source for source, targets in SHIPMENT_ALLOWED.items() if target in targets]
        query = Shipment.objects.filter(pk__in=ids, status__in=sources)
        fields: dict = {"status": target, "updated_at": now}
        if target == ShipmentStatus.DELIVERED:
            fields["delivered_at"] = Case(
                *[When(pk=shipment_id, then=Value(moves[shipment_id][1])) for shipment_id in ids],
                default=Value(now),
                output_field=DateTimeField(),
            )
        moved.update(query.values_list("pk", flat=True))
        query.update(**fields)
    if estimates:
        Shipment.objects.filter(pk__in=list(estimates), delivered_at__isnull=True).update(
            estimated_delivery_date=Case(
                *[When(pk=shipment_id, then=Value(estimate)) for shipment_id, estimate in estimates.items()],
                output_field=DateField(),
            ),
            updated_at=now,
        )
    return moved
