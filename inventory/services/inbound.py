"""Inbound: advance shipping notices and receipts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from fulfillment.jobs import enqueue
from inventory.models import (
    InboundLine,
    InboundShipment,
    InboundStatus,
    Location,
    MovementReason,
    Product,
    Warehouse,
)
from inventory.services.stock import (
    InventoryError,
    _move,
    lot_for_receipt,
    special_location,
)


@dataclass(frozen=True)
class InboundLineInput:
    sku: str
    quantity: int
    lot: str = ""
    expiry_date: date | None = None


def _products_by_sku(*, tenant_id, skus, field_prefix: str = "lines") -> dict[str, Product]:
    products = {p.sku: p for p in Product.objects.filter(tenant_id=tenant_id, sku__in=set(skus))}
    for index, sku in enumerate(skus):
        if sku not in products:
            raise InventoryError(
                f"unknown SKU {sku}",
                field=f"{field_prefix}[{index}].sku",
                code="unknown_sku",
            )
    return products


@transaction.atomic
def inbound_create(
    *,
    tenant_id,
    warehouse: Warehouse,
    lines: list[InboundLineInput],
    reference: str = "",
    expected_at=None,
) -> InboundShipment:
    if not lines:
        raise InventoryError("an inbound shipment needs at least one line", field="lines")
    products = _products_by_sku(tenant_id=tenant_id, skus=[line.sku for line in lines])
    for index, line in enumerate(lines):
        if line.quantity <= 0:
            raise InventoryError("quantity must be positive", field=f"lines[{index}].quantity")
    shipment = InboundShipment.objects.create(
        tenant_id=tenant_id,
        warehouse=warehouse,
        reference=reference,
        expected_at=expected_at,
    )
    InboundLine.objects.bulk_create(
        [
            InboundLine(
                tenant_id=tenant_id,
                shipment=shipment,
                product=products[line.sku],
                quantity=line.quantity,
                lot_code=line.lot,
                expiry_date=line.expiry_date,
            )
            for line in lines
        ]
    )
    return shipment


@dataclass(frozen=True)
class ReceiptLineInput:
    sku: str
    quantity: int
    location: str
    lot: str = ""
    expiry_date: date | None = None


@transaction.atomic
def inbound_receive(*, shipment_id, tenant_id=None, lines: list[ReceiptLineInput], actor: str = "") -> InboundShipment:
    """Receive units of an ASN into locations; stock becomes available and backorders re-allocate."""
    query = InboundShipment.objects.select_for_update().filter(pk=shipment_id)
    if tenant_id is not None:
        query = query.filter(tenant_id=tenant_id)
    shipment = query.first()
    if shipment is None:
        raise InventoryError("inbound shipment not found", code="not_found")
    if not lines:
        raise InventoryError("nothing to receive", field="lines")
    products = _products_by_sku(tenant_id=shipment.tenant_id, skus=[line.sku for line in lines])
    codes = {line.location.strip().upper() for line in lines}
    locations = {loc.code: loc for loc in Location.objects.filter(warehouse_id=shipment.warehouse_id, code__in=codes)}
    supplier = special_location(warehouse_id=shipment.warehouse_id, code="V-SUPPLIER")
    asn_lines = list(shipment.lines.select_for_update().order_by("pk"))
    default_lot = f"RCV-{timezone.now():%Y%m%d}-{shipment.id.hex[:6]}"
    for index, line in enumerate(lines):
        field = f"lines[{index}]"
        if line.quantity <= 0:
            raise InventoryError("quantity must be positive", field=f"{field}.quantity")
        location = locations.get(line.location.strip().upper())
        if location is None or location.is_virtual:
            raise InventoryError(
                f"unknown location {line.location} in {shipment.warehouse.code}",
                field=f"{field}.location",
                code="unknown_location",
            )
        product = products[line.sku]
        lot = lot_for_receipt(
            product=product,
            code=line.lot,
            expiry_date=line.expiry_date,
            default_code=default_lot,
            field=field,
        )
        _move(
            tenant_id=shipment.tenant_id,
            product_id=product.pk,
            lot_id=lot.pk,
            source=supplier,
            target=location,
            quantity=line.quantity,
            reason=MovementReason.RECEIPT,
            reference=f"ASN {shipment.reference or shipment.id}",
            actor=actor,
        )
        asn_line = next(
            (a for a in asn_lines if a.product_id == product.pk and a.lot_code in ("", line.lot)),
            None,
        )
        if asn_line is None:  # an unexpected product: recorded as a line with nothing expected
            asn_line = InboundLine.objects.create(
                tenant_id=shipment.tenant_id,
                shipment=shipment,
                product=product,
                quantity=0,
                lot_code=line.lot,
            )
            asn_lines.append(asn_line)
        InboundLine.objects.filter(pk=asn_line.pk).update(received_quantity=F("received_quantity") + line.quantity)
    totals = shipment.lines.aggregate(expected=Sum("quantity"), received=Sum("received_quantity"))
    shipment.status = (
        InboundStatus.RECEIVED if totals["received"] >= totals["expected"] else InboundStatus.PARTIALLY_RECEIVED
    )
    shipment.save(update_fields=["status", "updated_at"])
    enqueue(
        "orders.tasks.reallocate_backorders",
        warehouse_id=str(shipment.warehouse_id),
        product_ids=sorted({str(p.pk) for p in products.values()}),
    )
    return shipment
