"""Adjustments: corrections of stock with a reason."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from fulfillment.jobs import enqueue
from inventory.models import (
    Location,
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
    """Correct the count at a location: found units come from, lost units go to, the adjustment location."""
    if quantity_delta == 0:
        raise InventoryError("quantity_delta must not be zero", field="quantity_delta")
    if not reason.strip():
        raise InventoryError("a reason is required", field="reason")
    product = Product.objects.filter(tenant_id=tenant_id, sku=sku).first()
    if product is None:
        raise InventoryError(f"unknown SKU {sku}", field="sku", code="unknown_sku")
    location = Location.objects.filter(warehouse_id=warehouse_id, code=location_code.strip().upper()).first()
    if location is None or location.is_virtual:
        raise InventoryError(
            f"unknown location {location_code}",
            field="location",
            code="unknown_location",
        )
    adjustment = special_location(warehouse_id=warehouse_id, code="V-ADJUSTMENT")
    if quantity_delta > 0:
        lot_obj = lot_for_receipt(
            product=product,
            code=lot,
            expiry_date=expiry_date,
            default_code=f"ADJ-{timezone.now():%Y%m%d}",
            field="adjustment",
        )
        source, target = adjustment, location
    else:
        candidates = StockBalance.objects.select_for_update().filter(
            tenant_id=tenant_id,
            product=product,
            location=location,
            on_hand__gt=F("allocated"),
        )
        if lot:
            candidates = candidates.filter(lot__code=lot)
        balance = candidates.order_by("-lot__received_at", "pk").first()
        if balance is None or balance.on_hand - balance.allocated < -quantity_delta:
            raise InsufficientStock(
                f"only unreserved units can be adjusted away at {location.code}",
                field="quantity_delta",
                code="insufficient_stock",
            )
        lot_obj = balance.lot
        source, target = location, adjustment
    movement = _move(
        tenant_id=tenant_id,
        product_id=product.pk,
        lot_id=lot_obj.pk,
        source=source,
        target=target,
        quantity=abs(quantity_delta),
        reason=MovementReason.ADJUSTMENT,
        reference=reason[:100],
        actor=actor,
    )
    if quantity_delta > 0 and location.is_sellable:
        enqueue("orders.tasks.reallocate_backorders", warehouse_id=str(warehouse_id), product_ids=[str(product.pk)])
    return movement
