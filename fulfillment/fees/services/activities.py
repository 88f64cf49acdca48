"""The stages' activities: each stage calls one of these in the transaction of the work it bills."""

from __future__ import annotations

import logging
from collections import Counter
from decimal import Decimal

from django.db import DatabaseError, transaction

from fulfillment.fees.models import Fee, FeeKind, SourceType
from fulfillment.fees.services.corrections import correction_row, fee_left
from fulfillment.fees.services.pricing import FeeInput, fees_record

logger = logging.getLogger(__name__)

# -- the stages' activities -------------------------------------------------------------------------


def fees_for_receipt(
    *, tenant_id, shipment_id, reference: str, units: int, warehouse_code: str, actor: str = ""
) -> None:
    """Units received at the dock (good and damaged alike: both were handled), per receiving call."""
    fees_record(
        tenant_id=tenant_id,
        items=[FeeInput(FeeKind.RECEIVING, units, SourceType.RECEIPT, str(shipment_id), reference)],
        warehouse_code=warehouse_code,
        actor=actor,
    )


def fees_for_pick(*, tenant_id, order_id, order_number: str, units: int, warehouse_code: str, actor: str = "") -> None:
    """An order picked: one pick fee, and one per unit past the first; billed once per order."""
    fees_record(
        tenant_id=tenant_id,
        items=[
            FeeInput(FeeKind.PICK, 1, SourceType.ORDER, str(order_id), order_number, f"pick:{order_id}"),
            FeeInput(
                FeeKind.PICK_EXTRA_UNIT,
                max(units - 1, 0),
                SourceType.ORDER,
                str(order_id),
                order_number,
                f"pick_extra_unit:{order_id}",
            ),
        ],
        warehouse_code=warehouse_code,
        actor=actor,
    )


def fees_for_packages(
    *,
    tenant_id,
    shipment_id,
    reference: str,
    packages: int,
    boxes: list[tuple[str, Decimal]],
    warehouse_code: str,
    actor: str = "",
) -> None:
    """A shipment packed: the packing fee per package, and each package's box at cost plus markup.

    ``boxes``: (box code, what one costs the operator) per package that used a box of the catalog
    (a unit shipped in its own packaging uses none). Billed once per shipment and box code.
    """
    items = [
        FeeInput(
            FeeKind.PACK,
            packages,
            SourceType.SHIPMENT,
            str(shipment_id),
            reference,
            f"pack:{shipment_id}",
        )
    ]
    counts = Counter(code for code, _cost in boxes)
    costs = dict(boxes)
    for code, count in sorted(counts.items()):
        if cost := Decimal(costs[code]):
            items.append(
                FeeInput(
                    FeeKind.MATERIALS,
                    count,
                    SourceType.SHIPMENT,
                    str(shipment_id),
                    f"{reference} {code}".strip(),
                    f"materials:{shipment_id}:{code}",
                    unit_cost=cost,
                )
            )
    fees_record(tenant_id=tenant_id, items=items, warehouse_code=warehouse_code, actor=actor)


def fee_for_label(
    *,
    tenant_id,
    source_type: str,
    source_id,
    reference: str,
    label_key: str,
    charge: Decimal,
    currency: str,
    warehouse_code: str = "",
    actor: str = "",
) -> None:
    """A label bought (outbound or return): its charge plus the shipping markup; once per label.

    A label the carrier has charged for must be recorded whatever happens to its fee: the fee is
    written in a savepoint, and a database error there is logged and leaves the label recorded
    without its fee (rather than unrecorded, and charged again on the next attempt)."""
    try:
        with transaction.atomic():
            fees_record(
                tenant_id=tenant_id,
                items=[
                    FeeInput(
                        FeeKind.SHIPPING,
                        1,
                        source_type,
                        str(source_id),
                        reference,
                        f"shipping:{label_key}",
                        unit_cost=Decimal(charge),
                        currency=currency,
                    )
                ],
                warehouse_code=warehouse_code,
                actor=actor,
            )
    except DatabaseError:
        logger.exception("label %s (%s): its shipping fee could not be written", label_key, reference)


def fee_for_label_void(*, tenant_id, label_key: str, actor: str = "", reason: str = "label voided") -> None:
    """A voided label is credited: a new row that reverses what is left of the label's fee (after
    any correction of it); nothing when no fee was written or nothing is left."""
    original = Fee.objects.select_for_update().filter(tenant_id=tenant_id, dedupe_key=f"shipping:{label_key}").first()
    if original is None:
        return
    left = fee_left(original)
    if not left:
        return
    whole = left == original.amount  # else partly corrected before: credit the rest, no quantity
    reversal = correction_row(
        original,
        amount=-left,
        quantity=-original.quantity if whole else Decimal(0),
        unit_price=original.unit_price,
        cost=-original.cost if whole and original.cost is not None else None,
        reason=reason,
        actor=actor,
    )
    # Booked against what the label was for (its shipment or return), once per label.
    reversal.source_type, reversal.source_id = original.source_type, original.source_id
    reversal.dedupe_key = f"void:{label_key}"
    Fee.objects.bulk_create([reversal], ignore_conflicts=True)


def fees_for_return_receipt(
    *, tenant_id, return_id, rma_number: str, units: int, receipt_key: str, warehouse_code: str, actor: str = ""
) -> None:
    """A returned parcel received: the RMA fee once per return, and the units of this receipt."""
    fees_record(
        tenant_id=tenant_id,
        items=[
            FeeInput(FeeKind.RETURN, 1, SourceType.RETURN, str(return_id), rma_number, f"return:{return_id}"),
            FeeInput(
                FeeKind.RETURN_UNIT, units, SourceType.RETURN, str(return_id), rma_number, f"return_unit:{receipt_key}"
            ),
        ],
        warehouse_code=warehouse_code,
        actor=actor,
    )
