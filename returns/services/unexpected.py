"""Units that came back unannounced: an extra SKU in a return's parcel, or a parcel no return
explains. They are recorded (UnexpectedReturn) so that nothing is lost; a product of the merchant's
catalogue enters the ledger into QUARANTINE (V-CUSTOMER -> RETURNS -> QUARANTINE, as a quarantined
return line does), until a manager decides and marks the record resolved. A SKU the merchant does
not have is kept as a record only: there is no product to hold stock of.

Locks: the order rows, then the return row (common.lock_return, return_receive's order), then stock
balances.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from fulfillment.tenancy.models import Tenant
from inventory import scanning
from inventory import services as inventory
from inventory.models import Lot, MovementReason, Product, Warehouse
from orders.models import OrderAllocation
from orders.services import order_note
from returns.models import Grade, Return, UnexpectedReturn
from returns.services.common import ReturnError, field_error, is_positive_int, lock_return, stripped


def _lot(*, product: Product, rma: Return | None) -> Lot:
    """The lot returned units are booked to: one shipped on the return's order, else the product's newest,
    else a new one named for the day (a product never received here has none yet)."""
    if rma is not None:
        shipped = (
            OrderAllocation.objects.filter(line__order_id=rma.order_id, line__product=product, picked_quantity__gt=0)
            .order_by("pk")
            .values_list("lot_id", flat=True)
            .first()
        )
        if shipped is not None:
            return Lot.objects.get(pk=shipped)
    newest = Lot.objects.filter(product=product).order_by("-received_at", "-pk").first()
    if newest is not None:
        return newest
    return inventory.lot_for_receipt(
        product=product,
        code=f"RET-{timezone.localdate():%Y%m%d}",
        expiry_date=None,
        default_code="",
        field="sku",
    )


@transaction.atomic
def unexpected_return_record(
    *,
    warehouse_id,
    rma_id=None,
    tenant_id=None,
    scanned: str = "",
    sku: str,
    quantity: int,
    grade: str,
    note: str = "",
    actor: str = "",
) -> UnexpectedReturn:
    """Record units nobody announced at ``warehouse_id``: with ``rma_id`` (an extra SKU in that
    return's parcel; the merchant is the return's), or without (``tenant_id``, the merchant the
    parcel belongs to, is then required). ``sku`` is a SKU or a barcode of the merchant's product;
    its units go into QUARANTINE. An unknown SKU is recorded without product and without stock.
    A SKU the return still expects units of is refused: receive it on the return instead.
    """
    warehouse = Warehouse.objects.filter(pk=warehouse_id).first()
    if warehouse is None:
        raise ReturnError("warehouse not found", code="not_found")
    rma = None
    if rma_id is not None:
        rma = lock_return(rma_id, warehouse_id=warehouse.pk)
        if tenant_id is not None and str(tenant_id) != str(rma.tenant_id):
            raise ReturnError(
                "another merchant's return",
                errors=[field_error("tenant", "mismatch", "The parcel's return belongs to another merchant.")],
            )
        tenant_id = rma.tenant_id
    errors: list[dict] = []
    if tenant_id is None:
        errors.append(field_error("tenant", "required", "Choose the merchant the parcel belongs to."))
    elif not Tenant.objects.filter(pk=tenant_id).exists():
        errors.append(field_error("tenant", "not_found", "No such merchant."))
    sku, scanned, note, grade = stripped(sku), stripped(scanned), stripped(note), stripped(grade).lower()
    if not sku:
        errors.append(field_error("sku", "required", "Scan or type the SKU."))
    elif len(sku) > 64:
        errors.append(field_error("sku", "max_length", "At most 64 characters."))
    if not is_positive_int(quantity):
        errors.append(field_error("quantity", "invalid", "Quantity must be a positive integer."))
    if grade not in Grade.values:
        errors.append(field_error("grade", "invalid_choice", f"Must be one of {', '.join(Grade.values)}."))
    if len(note) > 200:
        errors.append(field_error("note", "max_length", "At most 200 characters."))
    if len(scanned) > 100:
        errors.append(field_error("scanned", "max_length", "At most 100 characters."))
    if errors:
        raise ReturnError("The unexpected units cannot be recorded.", errors=errors)

    product = None
    if sku:
        try:
            product, _per_scan = scanning.resolve_product(tenant_id, scanning.parse_scan(sku))
        except scanning.ScanError:
            product = None
    if rma is not None and product is not None:
        line = rma.lines.filter(product=product).first()
        if line is not None and line.received_quantity < line.quantity:
            left = line.quantity - line.received_quantity
            raise ReturnError(
                f"{product.sku} is on return {rma.number}",
                errors=[
                    field_error(
                        "sku",
                        "on_return",
                        f"{product.sku} is a line of {rma.number} with {left} still expected: receive it there.",
                    )
                ],
            )
    quarantine = None
    if product is not None:
        quarantine = inventory.special_location(warehouse_id=warehouse.pk, code="QUARANTINE")
    now = timezone.now()
    record = UnexpectedReturn.objects.create(
        tenant_id=tenant_id,
        warehouse=warehouse,
        rma=rma,
        scanned=scanned,
        product=product,
        sku=product.sku if product is not None else sku,
        quantity=quantity,
        grade=grade,
        location=quarantine,
        note=note,
        received_at=now,
        actor=actor[:100],
    )
    if product is not None:
        lot = _lot(product=product, rma=rma)
        common = {
            "tenant_id": tenant_id,
            "product_id": product.pk,
            "lot_id": lot.pk,
            "warehouse_id": warehouse.pk,
            "quantity": quantity,
            "reference": f"unexpected return {record.pk}" + (f" ({rma.number})" if rma else ""),
            "actor": actor,
        }
        inventory.stock_transfer(
            source_code="V-CUSTOMER", target_code="RETURNS", reason=MovementReason.RETURN, **common
        )
        inventory.stock_transfer(
            source_code="RETURNS", target_code="QUARANTINE", reason=MovementReason.QUARANTINE, **common
        )
    if rma is not None:
        where = "into QUARANTINE" if product is not None else "recorded only (not a product of the shop)"
        order_note(
            order_id=rma.order_id,
            type="return_unexpected",
            message=f"Return {rma.number}: {quantity} x {record.sku} ({grade}) came unannounced, {where}",
            data={"return": str(rma.id), "number": rma.number, "unexpected": record.pk},
            actor=actor,
        )
    return record


@transaction.atomic
def unexpected_return_resolve(*, unexpected_id, actor: str = "") -> UnexpectedReturn:
    """Mark unexpected units dealt with (a manager decided what becomes of them); once only (409)."""
    record = (
        UnexpectedReturn.objects.select_for_update(of=("self",)).filter(pk=unexpected_id).select_related("rma").first()
    )
    if record is None:
        raise ReturnError("unexpected return not found", code="not_found")
    if record.resolved_at is not None:
        raise ReturnError(f"{record.quantity} x {record.sku} is already resolved.", code="invalid_state")
    now = timezone.now()
    UnexpectedReturn.objects.filter(pk=record.pk, resolved_at__isnull=True).update(resolved_at=now)
    record.resolved_at = now
    if record.rma is not None:
        order_note(
            order_id=record.rma.order_id,
            type="return_unexpected_resolved",
            message=f"Return {record.rma.number}: unexpected {record.quantity} x {record.sku} resolved",
            data={"return": str(record.rma_id), "number": record.rma.number, "unexpected": record.pk},
            actor=actor,
        )
    return record
