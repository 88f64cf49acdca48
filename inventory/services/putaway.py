"""Put-away: where received units should go, confirming them there by scan, manual moves, dock-to-stock time.

Receipts sit in RECEIVING until an associate scans the location they put the units in. The
suggestion is the product's pick face while it has room, else the empty sellable location
nearest to it (walking distance by aisle and bay), else the first empty one in pick sequence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from fulfillment.jobs import enqueue
from inventory import locks
from inventory.models import (
    Location,
    Lot,
    MovementReason,
    PickFace,
    Product,
    Receipt,
    ReceiptStatus,
    StockBalance,
    StockMovement,
    Warehouse,
)
from inventory.services.stock import InsufficientStock, InventoryError, _move


def _on_hand_at(location_ids) -> dict[int, int]:
    rows = (
        StockBalance.objects.filter(location_id__in=list(location_ids))
        .values("location_id")
        .annotate(total=Sum("on_hand"))
    )
    return {row["location_id"]: row["total"] or 0 for row in rows}


def _room(location: Location, on_hand: int) -> float:
    return math.inf if location.capacity is None else location.capacity - on_hand


def _distance(warehouse: Warehouse, a: Location, b: Location) -> float:
    return abs(a.aisle - b.aisle) * float(warehouse.aisle_pitch_m) + abs(a.bay - b.bay) * float(warehouse.bay_width_m)


def putaway_suggest(*, receipt: Receipt) -> Location | None:
    """The product's pick face if it has room, else the empty sellable location nearest to it, else any empty one."""
    warehouse = receipt.location.warehouse
    remaining = receipt.quantity - receipt.put_away_quantity
    faces = [
        face.location
        for face in PickFace.objects.filter(
            tenant_id=receipt.tenant_id,
            product_id=receipt.product_id,
            location__warehouse=warehouse,
            location__is_sellable=True,
        )
        .select_related("location")
        .order_by("location__pick_sequence", "location_id")
    ]
    held = _on_hand_at(face.pk for face in faces)
    for face in faces:
        if _room(face, held.get(face.pk, 0)) >= remaining:
            return face
    anchor = faces[0] if faces else None
    if anchor is None:
        holding = (
            StockBalance.objects.filter(
                tenant_id=receipt.tenant_id,
                product_id=receipt.product_id,
                location__warehouse=warehouse,
                location__is_sellable=True,
                on_hand__gt=0,
            )
            .select_related("location")
            .order_by("location__pick_sequence", "location_id")
            .first()
        )
        anchor = holding.location if holding else None
    # Empty: nothing of any tenant in it; pick faces are kept for their own products.
    empty = list(
        Location.objects.filter(warehouse=warehouse, is_sellable=True, is_virtual=False)
        .exclude(pk__in=StockBalance.objects.filter(location__warehouse=warehouse, on_hand__gt=0).values("location_id"))
        .exclude(pk__in=PickFace.objects.filter(location__warehouse=warehouse).values("location_id"))
        .filter(Q(capacity__isnull=True) | Q(capacity__gte=remaining))
        .order_by("pick_sequence", "pk")
    )
    if not empty:
        return None
    if anchor is not None and anchor.aisle is not None and anchor.bay is not None:
        placed = [loc for loc in empty if loc.aisle is not None and loc.bay is not None]
        if placed:
            return min(placed, key=lambda loc: (_distance(warehouse, anchor, loc), loc.pick_sequence, loc.pk))
    return empty[0]


def _storage_location(*, warehouse_id, barcode: str, field: str) -> Location:
    code = (barcode or "").strip().upper()
    location = Location.objects.filter(warehouse_id=warehouse_id, code=code).first()
    if location is None:
        raise InventoryError(f"no location {barcode} in this warehouse", field=field, code="wrong_location")
    if location.is_held:
        raise InventoryError(
            f"{location.code} is held for a count: put away elsewhere", field=field, code="location_held"
        )
    if location.is_virtual or not location.is_sellable:
        raise InventoryError(f"{location.code} is not a storage location", field=field, code="wrong_location")
    return location


@transaction.atomic
def putaway_confirm(*, receipt_id, location_barcode: str, quantity: int, actor: str = "") -> Receipt:
    """Move ``quantity`` units of a receipt from where they were received to the scanned storage location.

    A wrong, virtual or non-sellable location is refused and changes nothing.
    """
    receipt = (
        locks.own_rows(Receipt.objects)
        .select_related("location", "location__warehouse", "product")
        .filter(pk=receipt_id)
        .first()
    )
    if receipt is None:
        raise InventoryError("receipt not found", code="not_found")
    if receipt.status != ReceiptStatus.AWAITING_PUT_AWAY:
        raise InventoryError("this receipt is already put away", code="already_put_away")
    remaining = receipt.quantity - receipt.put_away_quantity
    if not 1 <= quantity <= remaining:
        raise InventoryError(f"quantity must be between 1 and {remaining}", field="quantity")
    target = _storage_location(
        warehouse_id=receipt.location.warehouse_id, barcode=location_barcode, field="location_barcode"
    )
    if target.capacity is not None:
        held = _on_hand_at([target.pk]).get(target.pk, 0)
        if held + quantity > target.capacity:
            raise InventoryError(
                f"{target.code} has room for {max(0, target.capacity - held)}",
                field="location_barcode",
                code="no_room",
            )
    _move(
        tenant_id=receipt.tenant_id,
        product_id=receipt.product_id,
        lot_id=receipt.lot_id,
        source=receipt.location,
        target=target,
        quantity=quantity,
        reason=MovementReason.PUT_AWAY,
        reference=f"receipt {receipt.pk}",
        actor=actor,
    )
    done = quantity == remaining
    now = timezone.now()
    changes = {"put_away_quantity": F("put_away_quantity") + quantity}
    if done:
        changes.update(status=ReceiptStatus.PUT_AWAY, put_away_at=now)
    updated = Receipt.objects.filter(
        pk=receipt.pk, status=ReceiptStatus.AWAITING_PUT_AWAY, put_away_quantity=receipt.put_away_quantity
    ).update(**changes)
    if updated != 1:  # cannot happen under the row lock; refuse rather than count twice
        raise InventoryError("the receipt changed meanwhile", code="conflict")
    enqueue(
        "orders.tasks.reallocate_backorders",
        warehouse_id=str(receipt.location.warehouse_id),
        product_ids=[str(receipt.product_id)],
    )
    receipt.refresh_from_db()
    return receipt


@transaction.atomic
def stock_move(
    *,
    product: Product,
    warehouse_id,
    from_code: str,
    to_code: str,
    quantity: int,
    lot: str = "",
    actor: str = "",
) -> list[StockMovement]:
    """Move units between two physical locations; reserved units stay (available = on_hand - allocated).

    Without a lot the oldest lots at the source go first.
    """
    if quantity <= 0:
        raise InventoryError("quantity must be positive", field="quantity")
    source = Location.objects.filter(warehouse_id=warehouse_id, code=(from_code or "").strip().upper()).first()
    if source is None or source.is_virtual:
        raise InventoryError(f"unknown location {from_code}", field="from_location", code="unknown_location")
    target = Location.objects.filter(warehouse_id=warehouse_id, code=(to_code or "").strip().upper()).first()
    if target is None or target.is_virtual:
        raise InventoryError(f"unknown location {to_code}", field="to_location", code="unknown_location")
    if source.pk == target.pk:
        raise InventoryError("from and to are the same location", field="to_location")
    rows = StockBalance.objects.filter(tenant_id=product.tenant_id, product=product, location=source, on_hand__gt=0)
    if lot:
        lot_obj = Lot.objects.filter(tenant_id=product.tenant_id, product=product, code=lot).first()
        if lot_obj is None:
            raise InventoryError(f"no lot {lot} of {product.sku}", field="lot", code="unknown_lot")
        rows = rows.filter(lot=lot_obj)
    # Lock the source rows (primary-key order) so that an allocator cannot reserve what we move.
    balances = list(locks.own_rows(rows).order_by("pk").select_related("lot"))
    balances.sort(key=lambda b: (b.lot.received_at, b.pk))
    available = sum(b.on_hand - b.allocated for b in balances)
    if available < quantity:
        raise InsufficientStock(
            f"only {available} unreserved units of {product.sku} at {source.code}",
            field="quantity",
            code="insufficient_stock",
        )
    movements = []
    left = quantity
    for balance in balances:
        take = min(left, balance.on_hand - balance.allocated)
        if take <= 0:
            continue
        movements.append(
            _move(
                tenant_id=product.tenant_id,
                product_id=product.pk,
                lot_id=balance.lot_id,
                source=source,
                target=target,
                quantity=take,
                reason=MovementReason.MOVE,
                reference=f"move {source.code} -> {target.code}",
                actor=actor,
            )
        )
        left -= take
        if not left:
            break
    if target.is_sellable:
        enqueue("orders.tasks.reallocate_backorders", warehouse_id=str(warehouse_id), product_ids=[str(product.pk)])
    return movements


# -- dock-to-stock ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DockToStock:
    warehouse: str
    days: int
    receipts: int
    average_seconds: float | None
    p90_seconds: float | None


def dock_to_stock(*, warehouse: Warehouse, days: int = 7, now=None) -> DockToStock:
    """Time from receipt to the last unit put away, for receipts completed in the last ``days`` days.

    p90 is the nearest-rank 90th percentile (the smallest time that 90% of receipts met).
    """
    now = now or timezone.now()
    pairs = Receipt.objects.filter(
        location__warehouse=warehouse,
        status=ReceiptStatus.PUT_AWAY,
        put_away_at__gte=now - timedelta(days=days),
        put_away_at__lte=now,
    ).values_list("received_at", "put_away_at")
    seconds = sorted(max(0.0, (done - received).total_seconds()) for received, done in pairs)
    if not seconds:
        return DockToStock(warehouse=warehouse.code, days=days, receipts=0, average_seconds=None, p90_seconds=None)
    rank = math.ceil(0.9 * len(seconds))
    return DockToStock(
        warehouse=warehouse.code,
        days=days,
        receipts=len(seconds),
        average_seconds=round(sum(seconds) / len(seconds), 3),
        p90_seconds=seconds[rank - 1],
    )
