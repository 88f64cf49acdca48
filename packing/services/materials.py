"""Packing materials: the operator's stock of boxes, mailers, void fill and tape per warehouse.

Every change of a balance is a MaterialMovement (append-only: the database refuses UPDATE and
DELETE) written in the same transaction as the balance update, so the movements of a material in
a warehouse always sum to its balance. Balances are locked in the fixed order (warehouse,
material id) by ``packing.locks.material_balances_lock``.

Packing consumes materials (``materials_consume``, called by ``order_pack``): one unit of the
box's material per package, plus the box's ``void_fill_per_package`` units of the void fill
material. A balance may go negative there (the box was used, whatever the books say: the pack is
never refused for it); like any balance at or below the material's reorder point it then raises
one low-stock alert, which stays open, and is not raised again, until the stock rises above the
reorder point.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from fulfillment.errors import FieldRefusal
from packing import locks
from packing.models import (
    MANUAL_MATERIAL_REASONS,
    Box,
    Material,
    MaterialAlert,
    MaterialBalance,
    MaterialKind,
    MaterialMovement,
    MaterialReason,
    Package,
    Shipment,
)

MAX_QUANTITY = 1_000_000

MANUAL_REASONS = tuple(value for value, _ in MANUAL_MATERIAL_REASONS)


class MaterialError(FieldRefusal):
    """A refused materials action (422, or 409 for a duplicate code)."""

    STATUSES = {"duplicate": 409, "not_found": 404}

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message, field=field, code=code, status=self.STATUSES.get(code, 422))


@dataclass(frozen=True)
class Change:
    """One movement to write: ``quantity_delta`` of ``material_id`` (for a package, when consumed)."""

    material_id: object
    quantity_delta: int
    reason: str
    package_id: object | None = None
    shipment_id: object | None = None
    reference: str = ""
    note: str = ""


# -- the catalog -----------------------------------------------------------------------------


@transaction.atomic
def material_create(
    *,
    code: str,
    name: str,
    kind: str,
    box_code: str | None = None,
    unit_cost: Decimal | int | str = 0,
    currency: str = "USD",
    reorder_point: int = 0,
    weight_g: int = 0,
) -> Material:
    """A material the operator stocks; ``box_code`` names the catalog box it is (at most one material each)."""
    code = code.strip()
    if not code:
        raise MaterialError("code is required", field="code")
    if kind not in MaterialKind.values:
        raise MaterialError(
            f"kind must be one of {', '.join(MaterialKind.values)}", field="kind", code="invalid_choice"
        )
    if Material.objects.filter(code=code).exists():
        raise MaterialError(f"a material with code {code} exists", field="code", code="duplicate")
    box = None
    if box_code:
        box = Box.objects.filter(code=box_code).first()
        if box is None:
            raise MaterialError(f"unknown box {box_code}", field="box", code="unknown_box")
        if Material.objects.filter(box=box).exists():
            raise MaterialError(f"box {box_code} already has a material", field="box", code="duplicate_box")
    if kind == MaterialKind.VOID_FILL and Material.objects.filter(kind=MaterialKind.VOID_FILL).exists():
        raise MaterialError("there is a void fill material already", field="kind", code="duplicate_void_fill")
    if reorder_point < 0:
        raise MaterialError("reorder_point must not be negative", field="reorder_point", code="min_value")
    if weight_g < 0:
        raise MaterialError("weight_g must not be negative", field="weight_g", code="min_value")
    try:
        with transaction.atomic():
            return Material.objects.create(
                code=code,
                name=name.strip() or code,
                kind=kind,
                box=box,
                unit_cost=Decimal(str(unit_cost)),
                currency=currency,
                reorder_point=reorder_point,
                weight_g=weight_g,
            )
    except IntegrityError:
        # A concurrent create of the same code, box or void fill won the race.
        raise MaterialError(f"a material like {code} was just created", field="code", code="duplicate") from None


@transaction.atomic
def material_update(
    *,
    code: str,
    name: str | None = None,
    unit_cost: Decimal | int | str | None = None,
    currency: str | None = None,
    reorder_point: int | None = None,
    weight_g: int | None = None,
) -> Material:
    """Change the fields given (None: keep). A new reorder point re-decides every warehouse's alert
    at once: a balance now at or below it is alerted, one now above it is resolved."""
    material = locks.material_lock(code=code)
    if material is None:
        raise MaterialError(f"no material {code}", code="not_found")
    if reorder_point is not None and reorder_point < 0:
        raise MaterialError("reorder_point must not be negative", field="reorder_point", code="min_value")
    if weight_g is not None and weight_g < 0:
        raise MaterialError("weight_g must not be negative", field="weight_g", code="min_value")
    fields = []
    for field, value in (
        ("name", name),
        ("unit_cost", None if unit_cost is None else Decimal(str(unit_cost))),
        ("currency", currency),
        ("reorder_point", reorder_point),
        ("weight_g", weight_g),
    ):
        if value is not None and getattr(material, field) != value:
            setattr(material, field, value)
            fields.append(field)
    if not fields:
        return material
    material.save(update_fields=fields)
    if "reorder_point" in fields:
        now = timezone.now()
        for balance in locks.material_balances_everywhere_lock(material_id=material.pk):
            balance.material = material
            _alert_refresh(balance, now=now)
    return material


# -- the ledger ------------------------------------------------------------------------------


def _locked_balances(*, warehouse_id, material_ids) -> dict:
    """The balances of these materials in the warehouse, created at zero when missing, then locked."""
    ids = sorted(set(material_ids), key=str)
    MaterialBalance.objects.bulk_create(
        [MaterialBalance(warehouse_id=warehouse_id, material_id=material_id, on_hand=0) for material_id in ids],
        ignore_conflicts=True,
    )
    return locks.material_balances_lock(warehouse_id=warehouse_id, material_ids=ids)


def _alert_refresh(balance: MaterialBalance, *, now) -> str:
    """Open the low-stock alert of a (locked) balance at or below its reorder point, unless one is
    open: a crossing is alerted once. Resolve it once the balance is above. "opened", "resolved" or ""."""
    material = balance.material
    open_alerts = MaterialAlert.objects.filter(
        warehouse_id=balance.warehouse_id, material_id=material.pk, resolved_at__isnull=True
    )
    if balance.on_hand > material.reorder_point:
        return "resolved" if open_alerts.update(resolved_at=now) else ""
    if open_alerts.exists():
        return ""
    short = "negative: more used than the books had" if balance.on_hand < 0 else "low"
    try:
        # The balance row lock serialises this per warehouse and material; the partial unique
        # constraint would settle a race anyway.
        with transaction.atomic():
            MaterialAlert.objects.create(
                warehouse_id=balance.warehouse_id,
                material=material,
                on_hand=balance.on_hand,
                reorder_point=material.reorder_point,
                message=f"{material.code} {short}: {balance.on_hand} on hand, reorder point {material.reorder_point}",
                created_at=now,
            )
    except IntegrityError:
        return ""
    return "opened"


def _apply(*, warehouse_id, changes: list[Change], actor: str = "", user_id=None) -> list[MaterialMovement]:
    """Write the movements and their balance changes; must run in the caller's transaction."""
    assert transaction.get_connection().in_atomic_block, "material changes need a transaction"
    if not changes:
        return []
    now = timezone.now()
    balances = _locked_balances(warehouse_id=warehouse_id, material_ids=[c.material_id for c in changes])
    totals: dict[object, int] = defaultdict(int)
    for change in changes:
        totals[change.material_id] += change.quantity_delta
    for material_id, delta in totals.items():
        if delta:
            MaterialBalance.objects.filter(pk=balances[material_id].pk).update(
                on_hand=F("on_hand") + delta, updated_at=now
            )
    movements = MaterialMovement.objects.bulk_create(
        [
            MaterialMovement(
                warehouse_id=warehouse_id,
                material_id=change.material_id,
                quantity_delta=change.quantity_delta,
                reason=change.reason,
                package_id=change.package_id,
                shipment_id=change.shipment_id,
                reference=change.reference[:100],
                note=change.note[:200],
                actor=actor[:100],
                user_id=user_id,
                at=now,
            )
            for change in changes
        ]
    )
    for material_id in totals:
        balance = balances[material_id]
        balance.refresh_from_db(fields=["on_hand"])
        _alert_refresh(balance, now=now)
    return movements


def _material(code: str) -> Material:
    material = Material.objects.filter(code=code).first()
    if material is None:
        raise MaterialError(f"no material {code}", code="not_found")
    return material


@transaction.atomic
def material_movement_record(
    *,
    warehouse_id,
    material_code: str,
    reason: str,
    quantity: int,
    reference: str = "",
    note: str = "",
    actor: str = "",
    user_id=None,
) -> MaterialMovement:
    """A person's change of a material's stock in a warehouse (the caller checks the warehouse is theirs).

    - ``received``: ``quantity`` (> 0) units arrived (a delivery of boxes);
    - ``adjusted``: ``quantity`` (not 0) is the correction, + found, - damaged or lost;
    - ``counted``: ``quantity`` (>= 0) is what was counted; the movement is the difference with
      the books (0 when they agree: the count is kept all the same).
    """
    if reason not in MANUAL_REASONS:
        raise MaterialError(f"reason must be one of {', '.join(MANUAL_REASONS)}", field="reason", code="invalid_choice")
    if abs(quantity) > MAX_QUANTITY:
        raise MaterialError(f"quantity must be at most {MAX_QUANTITY}", field="quantity", code="max_value")
    if reason == MaterialReason.RECEIVED and quantity <= 0:
        raise MaterialError("a receipt needs a positive quantity", field="quantity", code="min_value")
    if reason == MaterialReason.ADJUSTED and quantity == 0:
        raise MaterialError("an adjustment must not be zero", field="quantity", code="invalid")
    if reason == MaterialReason.COUNTED and quantity < 0:
        raise MaterialError("a count must not be negative", field="quantity", code="min_value")
    material = _material(material_code)
    delta = quantity
    if reason == MaterialReason.COUNTED:
        # Under the balance lock: a pack consuming at the same moment is counted before or after, never half.
        balance = _locked_balances(warehouse_id=warehouse_id, material_ids=[material.pk])[material.pk]
        delta = quantity - balance.on_hand
        note = " · ".join(filter(None, [f"counted {quantity}, books {balance.on_hand}", note]))
    (movement,) = _apply(
        warehouse_id=warehouse_id,
        changes=[Change(material.pk, delta, reason, reference=reference, note=note)],
        actor=actor,
        user_id=user_id,
    )
    return movement


def material_receive(*, warehouse_id, material_code: str, quantity: int, **kwargs) -> MaterialMovement:
    """A delivery of ``quantity`` units of a material."""
    return material_movement_record(
        warehouse_id=warehouse_id,
        material_code=material_code,
        reason=MaterialReason.RECEIVED,
        quantity=quantity,
        **kwargs,
    )


def _package_changes(*, packages: list[Package], shipment: Shipment, reference: str) -> list[Change]:
    box_ids = {p.box_id for p in packages if p.box_id}
    by_box = dict(Material.objects.filter(box_id__in=box_ids).values_list("box_id", "pk"))
    void_fill = {b.pk: b.void_fill_per_package for b in Box.objects.filter(pk__in=box_ids, void_fill_per_package__gt=0)}
    void_fill_id = Material.objects.filter(kind=MaterialKind.VOID_FILL).values_list("pk", flat=True).first()
    changes = []
    for package in sorted(packages, key=lambda p: p.number):
        if package.box_id is None:
            continue  # ships in its own packaging: no box used
        ref = f"{reference} package {package.number}".strip()
        if package.box_id in by_box:
            changes.append(
                Change(by_box[package.box_id], -1, MaterialReason.CONSUMED, package.pk, shipment.pk, reference=ref)
            )
        if void_fill_id is not None and void_fill.get(package.box_id):
            changes.append(
                Change(
                    void_fill_id,
                    -void_fill[package.box_id],
                    MaterialReason.CONSUMED,
                    package.pk,
                    shipment.pk,
                    reference=ref,
                )
            )
    return changes


def materials_consume(
    *, shipment: Shipment, packages: list[Package], reference: str = "", actor: str = "", user_id=None
) -> list[MaterialMovement]:
    """The materials the packages of a shipment used, in its warehouse (in ``order_pack``'s transaction).

    Boxes without a material are not stock-kept and use nothing; the balances may go negative.
    """
    changes = _package_changes(packages=packages, shipment=shipment, reference=reference)
    return _apply(warehouse_id=shipment.warehouse_id, changes=changes, actor=actor, user_id=user_id)
