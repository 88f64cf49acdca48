"""Inbound: advance shipping notices, receipts, discrepancies and closing an ASN.

Receiving writes, in one transaction: the ledger movement (V-SUPPLIER -> RECEIVING or a storage
location; damaged units -> QUARANTINE), a Receipt row that put-away works from, the line's
received and damaged counters, and a discrepancy row for units beyond the ASN.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from fulfillment.fees import services as fees
from fulfillment.jobs import enqueue
from inventory import locks
from inventory.models import (
    DiscrepancyKind,
    InboundDiscrepancy,
    InboundLine,
    InboundShipment,
    InboundStatus,
    Location,
    LocationKind,
    MovementReason,
    Product,
    Receipt,
    ReceiptStatus,
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


# -- CSV upload of ASNs ----------------------------------------------------------------------

ASN_CSV_COLUMNS = ("sku", "quantity", "lot", "expiry_date")
ASN_CSV_MAX_ROWS = 5000


@dataclass
class AsnImport:
    """The outcome of an ASN CSV: the lines read, row-level errors, and the shipment when created."""

    lines: list[InboundLineInput] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    shipment: InboundShipment | None = None


def asn_csv_read(*, tenant_id, content: bytes | str) -> AsnImport:
    """Read and validate an ASN CSV (columns sku, quantity, lot, expiry_date); rows are numbered from 2."""
    result = AsnImport()
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            result.errors.append({"row": None, "field": "file", "message": "the file is not UTF-8 text"})
            return result
    reader = csv.DictReader(io.StringIO(content))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("sku", "quantity") if c not in header]
    if missing:
        result.errors.append({"row": 1, "field": "header", "message": f"missing column(s): {', '.join(missing)}"})
        return result
    rows = []
    for number, row in enumerate(reader, start=2):
        if number - 1 > ASN_CSV_MAX_ROWS:
            result.errors.append({"row": number, "field": "file", "message": f"at most {ASN_CSV_MAX_ROWS} rows"})
            return result
        clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if isinstance(v, str)}
        if not any(clean.values()):
            continue
        rows.append((number, clean))
    if not rows:
        result.errors.append({"row": None, "field": "file", "message": "the file has no rows"})
        return result
    known = set(
        Product.objects.filter(tenant_id=tenant_id, sku__in={r["sku"] for _, r in rows}).values_list("sku", flat=True)
    )
    for number, row in rows:
        errors_before = len(result.errors)
        sku = row.get("sku", "")
        if not sku:
            result.errors.append({"row": number, "field": "sku", "message": "required"})
        elif sku not in known:
            result.errors.append({"row": number, "field": "sku", "message": f"unknown SKU {sku}"})
        quantity = None
        try:
            quantity = int(row.get("quantity", ""))
            if quantity <= 0:
                raise ValueError
        except ValueError:
            result.errors.append({"row": number, "field": "quantity", "message": "must be a positive whole number"})
        expiry = None
        if row.get("expiry_date"):
            try:
                expiry = date.fromisoformat(row["expiry_date"])
            except ValueError:
                result.errors.append({"row": number, "field": "expiry_date", "message": "must be a date YYYY-MM-DD"})
        lot = row.get("lot", "")
        if len(lot) > 64:
            result.errors.append({"row": number, "field": "lot", "message": "at most 64 characters"})
        if len(result.errors) == errors_before:
            result.lines.append(InboundLineInput(sku=sku, quantity=quantity, lot=lot, expiry_date=expiry))
    return result


@transaction.atomic
def inbound_import_csv(
    *, tenant_id, warehouse: Warehouse, content: bytes | str, reference: str = "", expected_at=None, dry_run=False
) -> AsnImport:
    """An ASN from a CSV file: all rows or nothing; ``dry_run`` validates and creates nothing."""
    result = asn_csv_read(tenant_id=tenant_id, content=content)
    if result.errors or dry_run:
        return result
    result.shipment = inbound_create(
        tenant_id=tenant_id, warehouse=warehouse, lines=result.lines, reference=reference, expected_at=expected_at
    )
    return result


# -- receiving -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptLineInput:
    sku: str
    quantity: int
    location: str = ""  # default: the warehouse's RECEIVING location
    lot: str = ""
    expiry_date: date | None = None
    damaged_quantity: int = 0  # units that arrived damaged, on top of ``quantity``: they go to QUARANTINE


def _record(*, shipment, line: InboundLine, kind: str, quantity: int, note: str) -> None:
    """Add to the shipment's discrepancy of this kind for this line (one row per line and kind)."""
    if quantity <= 0:
        return
    updated = InboundDiscrepancy.objects.filter(shipment=shipment, line=line, kind=kind).update(
        quantity=F("quantity") + quantity
    )
    if not updated:
        InboundDiscrepancy.objects.create(
            tenant_id=shipment.tenant_id,
            shipment=shipment,
            line=line,
            product_id=line.product_id,
            kind=kind,
            quantity=quantity,
            note=note[:200],
        )


def _account(*, shipment, line: InboundLine, good: int, damaged: int) -> None:
    """Bump the line's counters and record what differs from the ASN (the shipment row is locked)."""
    arrived_before = line.received_quantity + line.damaged_quantity
    arrived = good + damaged
    InboundLine.objects.filter(pk=line.pk).update(
        received_quantity=F("received_quantity") + good, damaged_quantity=F("damaged_quantity") + damaged
    )
    line.received_quantity += good
    line.damaged_quantity += damaged
    sku = line.product.sku
    if line.quantity == 0:
        _record(
            shipment=shipment,
            line=line,
            kind=DiscrepancyKind.UNEXPECTED,
            quantity=arrived,
            note=f"{sku} not on the ASN",
        )
    else:
        over = arrived_before + arrived - max(line.quantity, arrived_before)
        _record(
            shipment=shipment,
            line=line,
            kind=DiscrepancyKind.OVER,
            quantity=min(over, arrived),
            note=f"{line.quantity} expected",
        )
    _record(shipment=shipment, line=line, kind=DiscrepancyKind.DAMAGED, quantity=damaged, note="moved to QUARANTINE")
    # Units arriving after the ASN was closed short make the shortfall smaller.
    short = InboundDiscrepancy.objects.filter(shipment=shipment, line=line, kind=DiscrepancyKind.SHORT).first()
    if short is not None:
        remaining = short.quantity - min(short.quantity, arrived)
        if remaining:
            InboundDiscrepancy.objects.filter(pk=short.pk).update(quantity=remaining)
        else:
            short.delete()


@transaction.atomic
def inbound_receive(*, shipment_id, tenant_id=None, lines: list[ReceiptLineInput], actor: str = "") -> InboundShipment:
    """Receive units of an ASN (into RECEIVING unless a location is named); damaged units go to QUARANTINE.

    Every line writes a Receipt: awaiting put-away in RECEIVING, already put away elsewhere.
    Units that reach sellable locations re-run allocation of backorders.
    """
    query = locks.own_rows(InboundShipment.objects).filter(pk=shipment_id)
    if tenant_id is not None:
        query = query.filter(tenant_id=tenant_id)
    shipment = query.select_related("warehouse").first()
    if shipment is None:
        raise InventoryError("inbound shipment not found", code="not_found")
    if not lines:
        raise InventoryError("nothing to receive", field="lines")
    products = _products_by_sku(tenant_id=shipment.tenant_id, skus=[line.sku for line in lines])
    codes = {(line.location or "RECEIVING").strip().upper() for line in lines} | {"QUARANTINE"}
    locations = {loc.code: loc for loc in Location.objects.filter(warehouse_id=shipment.warehouse_id, code__in=codes)}
    supplier = special_location(warehouse_id=shipment.warehouse_id, code="V-SUPPLIER")
    asn_lines = list(locks.own_rows(shipment.lines).select_related("product").order_by("pk"))
    default_lot = f"RCV-{timezone.now():%Y%m%d}-{shipment.id.hex[:6]}"
    reference = f"ASN {shipment.reference or shipment.id}"
    sellable_products: set[str] = set()
    for index, line in enumerate(lines):
        field_name = f"lines[{index}]"
        if line.quantity < 0:
            raise InventoryError("quantity must not be negative", field=f"{field_name}.quantity")
        if line.damaged_quantity < 0:
            raise InventoryError("damaged_quantity must not be negative", field=f"{field_name}.damaged_quantity")
        if line.quantity + line.damaged_quantity <= 0:
            raise InventoryError("quantity must be positive", field=f"{field_name}.quantity")
        code = (line.location or "RECEIVING").strip().upper()
        location = locations.get(code)
        if location is None or location.is_virtual:
            raise InventoryError(
                f"unknown location {line.location} in {shipment.warehouse.code}",
                field=f"{field_name}.location",
                code="unknown_location",
            )
        product = products[line.sku]
        lot = lot_for_receipt(
            product=product,
            code=line.lot,
            expiry_date=line.expiry_date,
            default_code=default_lot,
            field=field_name,
        )
        common = {"tenant_id": shipment.tenant_id, "product_id": product.pk, "lot_id": lot.pk, "source": supplier}
        if line.quantity:
            _move(
                **common,
                target=location,
                quantity=line.quantity,
                reason=MovementReason.RECEIPT,
                reference=reference,
                actor=actor,
            )
            waits = location.kind == LocationKind.RECEIVING
            receipt = Receipt.objects.create(
                tenant_id=shipment.tenant_id,
                shipment=shipment,
                product=product,
                lot=lot,
                location=location,
                quantity=line.quantity,
                put_away_quantity=0 if waits else line.quantity,
                status=ReceiptStatus.AWAITING_PUT_AWAY if waits else ReceiptStatus.PUT_AWAY,
                received_by=actor[:100],
            )
            if not waits:  # straight into storage: dock-to-stock time is zero
                Receipt.objects.filter(pk=receipt.pk).update(put_away_at=F("received_at"))
            if location.is_sellable:
                sellable_products.add(str(product.pk))
        if line.damaged_quantity:
            _move(
                **common,
                target=locations["QUARANTINE"],
                quantity=line.damaged_quantity,
                reason=MovementReason.RECEIPT,
                reference=f"{reference} damaged",
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
                expiry_date=line.expiry_date,
            )
            asn_lines.append(asn_line)
        _account(shipment=shipment, line=asn_line, good=line.quantity, damaged=line.damaged_quantity)
    fees.fees_for_receipt(
        tenant_id=shipment.tenant_id,
        shipment_id=shipment.pk,
        reference=reference,
        units=sum(line.quantity + line.damaged_quantity for line in lines),
        warehouse_code=shipment.warehouse.code,
        actor=actor,
    )
    complete = all(a.received_quantity + a.damaged_quantity >= a.quantity for a in asn_lines)
    shipment.status = InboundStatus.RECEIVED if complete else InboundStatus.PARTIALLY_RECEIVED
    shipment.save(update_fields=["status", "updated_at"])
    if sellable_products:
        enqueue(
            "orders.tasks.reallocate_backorders",
            warehouse_id=str(shipment.warehouse_id),
            product_ids=sorted(sellable_products),
        )
    return shipment


@transaction.atomic
def inbound_close(*, shipment_id, actor: str = "") -> InboundShipment:
    """Nothing more will arrive: the ASN becomes received and every line still short is recorded.

    ``actor`` is accepted for symmetry with receiving; notes shown to merchants do not name staff.
    """
    shipment = locks.own_rows(InboundShipment.objects).filter(pk=shipment_id).first()
    if shipment is None:
        raise InventoryError("inbound shipment not found", code="not_found")
    if shipment.status == InboundStatus.RECEIVED:
        raise InventoryError("this inbound shipment is already received", code="duplicate")
    for line in locks.own_rows(shipment.lines).select_related("product").order_by("pk"):
        missing = line.quantity - line.received_quantity - line.damaged_quantity
        _record(
            shipment=shipment,
            line=line,
            kind=DiscrepancyKind.SHORT,
            quantity=missing,
            note=f"{line.quantity} expected, {line.quantity - missing} arrived",
        )
    updated = InboundShipment.objects.filter(pk=shipment.pk, status=shipment.status).update(
        status=InboundStatus.RECEIVED, updated_at=timezone.now()
    )
    if updated != 1:  # cannot happen under the row lock; refuse rather than double-record
        raise InventoryError("the inbound shipment changed meanwhile", code="duplicate")
    shipment.refresh_from_db()
    return shipment
