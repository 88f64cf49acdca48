"""Reads for shipping: which shipments to poll, which ones a lost message left without a label, and
cartonization with a carrier's DIM divisor."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from fulfillment.errors import FieldRefusal
from orders.models import Status as OrderStatus
from packing import selectors as packing_selectors
from packing.cartonization import DEFAULT_DIM_DIVISOR, ItemSpec, PlannedPackage, cartonize
from packing.models import Shipment, ShipmentStatus
from shipping.models import Carrier

TRACKABLE = [
    ShipmentStatus.LABEL_PURCHASED,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.OUT_FOR_DELIVERY,
    ShipmentStatus.EXCEPTION,
]


def shipments_to_track(*, limit: int = 1000) -> list:
    """Shipments with a label that are not delivered yet, least recently updated first."""
    return list(
        Shipment.objects.filter(status__in=TRACKABLE)
        .exclude(tracking_number="")
        .order_by("updated_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def shipments_without_label(*, older_than_seconds: int = 60, now: datetime | None = None, limit: int = 500) -> list:
    """Packed shipments of packed orders whose label purchase never ran (a lost task message)."""
    cutoff = (now or timezone.now()) - timedelta(seconds=older_than_seconds)
    return list(
        Shipment.objects.filter(
            status=ShipmentStatus.PACKED,
            label_purchased_at__isnull=True,
            created_at__lt=cutoff,
            order__status=OrderStatus.PACKED,
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


# -- cartonization with a carrier's DIM divisor ---------------------------------------------

MAX_CARTON_UNITS = 200  # units one cartonization may plan: more is not an order but a pallet


def carrier_dim_divisor(*, carrier_code: str | None = None, service_code: str | None = None) -> int:
    """The DIM divisor (mm³ per g) of an active carrier (and, given, one of its active services);
    the metric 5000 cm³/kg without a carrier. FieldRefusal naming the field otherwise."""
    if not carrier_code:
        if service_code:
            raise FieldRefusal("a service needs its carrier", field="service", code="carrier_required")
        return DEFAULT_DIM_DIVISOR
    carrier = Carrier.objects.filter(code=carrier_code, is_active=True).first()
    if carrier is None:
        raise FieldRefusal(f"unknown or inactive carrier {carrier_code!r}", field="carrier", code="unknown_carrier")
    if service_code and not carrier.services.filter(code=service_code, is_active=True).exists():
        raise FieldRefusal(
            f"{carrier_code} offers no service {service_code!r}", field="service", code="unknown_service"
        )
    return carrier.dim_divisor_mm3_per_g


def cartonization_plan(
    items: list[ItemSpec],
    *,
    box_codes: list[str] | None = None,
    carrier_code: str | None = None,
    service_code: str | None = None,
) -> tuple[list[PlannedPackage], int]:
    """(the packages for ``items`` over the named active boxes or the whole active catalog, the DIM
    divisor used); FieldRefusal for an unknown box, carrier or service, or too many units."""
    divisor = carrier_dim_divisor(carrier_code=carrier_code, service_code=service_code)
    boxes, unknown = packing_selectors.boxes_by_code(box_codes)
    if unknown:
        raise FieldRefusal(f"unknown or inactive box {', '.join(unknown)}", field="boxes", code="unknown_box")
    if sum(item.quantity for item in items) > MAX_CARTON_UNITS:
        raise FieldRefusal(f"at most {MAX_CARTON_UNITS} units in one plan", field="items", code="too_many_units")
    plan = cartonize(items, [packing_selectors.box_spec(b) for b in boxes], dim_divisor=divisor)
    return plan, divisor


def order_cartonization_plan(
    *, order, carrier_code: str | None = None, service_code: str | None = None
) -> tuple[list[PlannedPackage], int]:
    """cartonization_plan for an order's units: picked ones once picking began, else the ordered ones."""
    items = packing_selectors.order_unit_specs(order=order)
    return cartonization_plan(items, carrier_code=carrier_code, service_code=service_code)
