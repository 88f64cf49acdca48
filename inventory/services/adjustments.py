"""Adjustments: corrections of stock with a reason code; above the thresholds a manager approves them.

An adjustment is a row (who asked, why, how many, what it is worth) and, once posted, one
StockMovement between the location and the warehouse's V-ADJUSTMENT location, so the ledger
keeps every correction. Posting locks the balance row it takes units from, and only ever
takes unreserved units: a correction never breaks a reservation a picker is walking to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from fulfillment.jobs import enqueue
from fulfillment.tenancy.actor import Actor
from inventory import locks
from inventory.models import (
    Adjustment,
    AdjustmentReason,
    AdjustmentStatus,
    Location,
    Lot,
    MovementReason,
    Product,
    StockBalance,
    StockMovement,
)
from inventory.services.stock import (
    InsufficientStock,
    InventoryError,
    _move,
    lot_for_receipt,
    special_location,
)

# Defaults; a deployment overrides them with settings of the same name.
ADJUSTMENT_APPROVAL_UNITS = 10
ADJUSTMENT_APPROVAL_VALUE = Decimal("100.00")

REASONS = frozenset(AdjustmentReason.values)


class AdjustmentStateError(InventoryError):
    """The adjustment was already decided (approve/reject raced with another manager)."""

    status = 409


@dataclass(frozen=True)
class Thresholds:
    units: int
    value: Decimal


def approval_thresholds() -> Thresholds:
    """Read at call time so that settings (and tests) can change them."""
    return Thresholds(
        units=int(getattr(settings, "ADJUSTMENT_APPROVAL_UNITS", ADJUSTMENT_APPROVAL_UNITS)),
        value=Decimal(str(getattr(settings, "ADJUSTMENT_APPROVAL_VALUE", ADJUSTMENT_APPROVAL_VALUE))),
    )


def needs_approval(*, quantity_delta: int, value: Decimal) -> bool:
    limits = approval_thresholds()
    return abs(quantity_delta) > limits.units or value > limits.value


def _require_manager(actor: Actor) -> None:
    if actor is None or not actor.is_manager:
        raise PermissionDenied("Only a manager may approve or reject adjustments.")


def _resolve(*, tenant_id, warehouse_id, sku: str, location_code: str) -> tuple[Product, Location]:
    product = Product.objects.filter(tenant_id=tenant_id, sku=sku).first()
    if product is None:
        raise InventoryError(f"unknown SKU {sku}", field="sku", code="unknown_sku")
    location = Location.objects.filter(warehouse_id=warehouse_id, code=location_code.strip().upper()).first()
    if location is None or location.is_virtual:
        raise InventoryError(f"unknown location {location_code}", field="location", code="unknown_location")
    return product, location


def _free_balance(*, adjustment: Adjustment, quantity: int) -> StockBalance:
    """Lock the location's balances of the product (primary-key order) and pick one with ``quantity`` free units.

    Newest lot first: the oldest lots are the ones allocation (FIFO/FEFO) reserves next.
    """
    candidates = locks.balances(StockBalance.objects).filter(
        tenant_id=adjustment.tenant_id,
        product_id=adjustment.product_id,
        location_id=adjustment.location_id,
        on_hand__gt=F("allocated"),
    )
    if adjustment.lot_id:
        candidates = candidates.filter(lot_id=adjustment.lot_id)
    locked = list(candidates.select_related("lot").order_by("pk"))
    for balance in sorted(locked, key=lambda b: (b.lot.received_at, b.pk), reverse=True):
        if balance.on_hand - balance.allocated >= quantity:
            return balance
    raise InsufficientStock(
        f"only unreserved units can be adjusted away at {adjustment.location.code}",
        field="quantity_delta",
        code="insufficient_stock",
    )


def _post(adjustment: Adjustment, *, actor: str) -> StockMovement:
    """Write the movement of a (locked) adjustment and mark it posted; the caller's transaction holds both."""
    location = adjustment.location
    virtual = special_location(warehouse_id=adjustment.warehouse_id, code="V-ADJUSTMENT")
    quantity = abs(adjustment.quantity_delta)
    # Lock order, as everywhere in the ledger: the physical location's row first, then the virtual
    # one (a pick write-off does the same), so that adjustments, picks and write-offs cannot deadlock.
    if adjustment.quantity_delta > 0:
        lot_id = adjustment.lot_id
        locks.balances(StockBalance.objects).filter(
            tenant_id=adjustment.tenant_id, product_id=adjustment.product_id, location_id=location.pk, lot_id=lot_id
        ).first()
        source, target = virtual, location
    else:
        balance = _free_balance(adjustment=adjustment, quantity=quantity)
        lot_id = balance.lot_id
        source, target = location, virtual
    movement = _move(
        tenant_id=adjustment.tenant_id,
        product_id=adjustment.product_id,
        lot_id=lot_id,
        source=source,
        target=target,
        quantity=quantity,
        reason=MovementReason.COUNT if adjustment.reason == AdjustmentReason.COUNT else MovementReason.ADJUSTMENT,
        reference=f"adjustment {adjustment.reason}: {adjustment.note}".strip(": ")[:100],
        actor=actor,
    )
    adjustment.status = AdjustmentStatus.POSTED
    adjustment.movement = movement
    adjustment.lot_id = lot_id
    adjustment.save(update_fields=["status", "movement", "lot"])
    if adjustment.quantity_delta > 0 and location.is_sellable:
        # New sellable units may fill waiting orders (orders sits above us: named task, after commit).
        enqueue(
            "orders.tasks.reallocate_backorders",
            warehouse_id=str(adjustment.warehouse_id),
            product_ids=[str(adjustment.product_id)],
        )
    return movement


@transaction.atomic
def adjustment_create(
    *,
    tenant_id,
    warehouse_id,
    sku: str,
    location_code: str,
    quantity_delta: int,
    reason: str,
    lot: str = "",
    expiry_date: date | None = None,
    note: str = "",
    actor: str = "",
    approved: bool = False,
    count_line_id=None,
) -> Adjustment:
    """Record a correction; it posts at once within the thresholds (or when ``approved``), else waits.

    ``approved`` is for callers whose own review stands for the approval (a cycle count a manager
    accepted, or a variance within the count's tolerance).
    """
    if quantity_delta == 0:
        raise InventoryError("quantity_delta must not be zero", field="quantity_delta")
    if reason not in REASONS:
        raise InventoryError(
            f"reason must be one of {', '.join(sorted(REASONS))}", field="reason", code="invalid_choice"
        )
    product, location = _resolve(tenant_id=tenant_id, warehouse_id=warehouse_id, sku=sku, location_code=location_code)
    lot_obj: Lot | None = None
    if quantity_delta > 0:
        # Found units need a lot now, even when the posting waits, so the approval posts exactly this.
        lot_obj = lot_for_receipt(
            product=product,
            code=lot,
            expiry_date=expiry_date,
            default_code=f"ADJ-{timezone.now():%Y%m%d}",
            field="adjustment",
        )
    elif lot:
        lot_obj = Lot.objects.filter(tenant_id=tenant_id, product=product, code=lot).first()
        if lot_obj is None:
            raise InventoryError(f"unknown lot {lot}", field="lot", code="unknown_lot")
    value = (abs(quantity_delta) * product.unit_value).quantize(Decimal("0.01"))
    adjustment = Adjustment.objects.create(
        tenant_id=tenant_id,
        warehouse_id=warehouse_id,
        product=product,
        location=location,
        lot=lot_obj,
        quantity_delta=quantity_delta,
        reason=reason,
        note=note[:200],
        value=value,
        status=AdjustmentStatus.PENDING_APPROVAL,
        requested_by=actor[:100],
        count_line_id=count_line_id,
    )
    if quantity_delta < 0:
        # Refuse now what could not post now; the approval checks again (stock moves meanwhile).
        _free_balance(adjustment=adjustment, quantity=-quantity_delta)
    if approved or not needs_approval(quantity_delta=quantity_delta, value=value):
        _post(adjustment, actor=actor)
    return adjustment


def _locked_pending(adjustment_id) -> Adjustment:
    adjustment = locks.own_rows(Adjustment.objects).select_related("location").filter(pk=adjustment_id).first()
    if adjustment is None:
        raise InventoryError("no such adjustment", code="not_found")
    if adjustment.status != AdjustmentStatus.PENDING_APPROVAL:
        raise AdjustmentStateError(f"the adjustment is already {adjustment.status}", code="invalid_state")
    return adjustment


@transaction.atomic
def adjustment_approve(*, adjustment_id, actor: Actor) -> Adjustment:
    """Post a pending adjustment. Refused (and still pending) when the units to remove are gone or reserved."""
    _require_manager(actor)
    # The row lock makes approve/reject by two managers at once decide exactly once.
    adjustment = _locked_pending(adjustment_id)
    adjustment.decided_by = actor.label[:100]
    adjustment.decided_at = timezone.now()
    adjustment.save(update_fields=["decided_by", "decided_at"])
    try:
        _post(adjustment, actor=actor.label)
    except InsufficientStock as exc:
        # The units were there when it was requested and have moved since: a conflict with the stock
        # as it is now (409), not bad input; the adjustment stays pending and may be rejected.
        raise InsufficientStock(exc.message, field=exc.field, code=exc.code, status=409) from None
    return adjustment


@transaction.atomic
def adjustment_reject(*, adjustment_id, actor: Actor, note: str = "") -> Adjustment:
    _require_manager(actor)
    adjustment = _locked_pending(adjustment_id)
    updated = Adjustment.objects.filter(pk=adjustment.pk, status=AdjustmentStatus.PENDING_APPROVAL).update(
        status=AdjustmentStatus.REJECTED,
        decided_by=actor.label[:100],
        decided_at=timezone.now(),
        note=" | ".join(filter(None, [adjustment.note, note and f"rejected: {note}"]))[:200],
    )
    if updated != 1:  # cannot happen under the row lock; refuse rather than decide twice
        raise AdjustmentStateError("the adjustment was decided meanwhile", code="invalid_state")
    adjustment.refresh_from_db()
    return adjustment


@transaction.atomic
def stock_adjust(
    *,
    tenant_id,
    warehouse_id,
    sku: str,
    location_code: str,
    quantity_delta: int,
    reason: str,
    lot: str = "",
    expiry_date: date | None = None,
    actor: str = "",
) -> StockMovement:
    """A correction that posts at once, whatever its size (system flows: returns, tests, scripts).

    Kept for callers of the first version: a free-text ``reason`` that is not a reason code is
    kept as the note, with the code found/lost taken from the sign.
    """
    if not reason.strip():
        raise InventoryError("a reason is required", field="reason")
    code, note = reason, ""
    if reason not in REASONS:
        code = AdjustmentReason.FOUND if quantity_delta > 0 else AdjustmentReason.LOST
        note = reason
    adjustment = adjustment_create(
        tenant_id=tenant_id,
        warehouse_id=warehouse_id,
        sku=sku,
        location_code=location_code,
        quantity_delta=quantity_delta,
        reason=code,
        lot=lot,
        expiry_date=expiry_date,
        note=note,
        actor=actor,
        approved=True,
    )
    return adjustment.movement
