"""Reads for shipping: carrier accounts as karrio connections, the parties and parcels of a
shipment, which shipments to poll, which ones a lost message left without a label, and
cartonization with a carrier's DIM divisor."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from fulfillment.errors import FieldRefusal
from inventory import selectors as inventory_selectors
from inventory.models import Warehouse
from orders.models import Status as OrderStatus
from packing import selectors as packing_selectors
from packing.cartonization import DEFAULT_DIM_DIVISOR, ItemSpec, PlannedPackage, cartonize
from packing.models import Shipment, ShipmentStatus
from shipping import credentials as secrets
from shipping.carriers import gateway
from shipping.models import CarrierAccount, CarrierService

TRACKABLE = [
    ShipmentStatus.LABEL_PURCHASED,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.OUT_FOR_DELIVERY,
    ShipmentStatus.EXCEPTION,
]


def trackable_carrier_ids() -> list[str]:
    """carrier_ids of the accounts whose karrio connector can track (the rate sheet cannot)."""
    return [
        account.carrier_id
        for account in CarrierAccount.objects.only("carrier_id", "carrier_name")
        if "tracking" in gateway.capabilities(account.carrier_name)
    ]


def shipments_to_track(*, limit: int = 1000) -> list:
    """Shipments with a label from a carrier that tracks, not delivered yet, least recently updated first."""
    return list(
        Shipment.objects.filter(status__in=TRACKABLE, carrier_code__in=trackable_carrier_ids())
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
        # Waiting for a person (an open exception) or for a carrier call under way: not lost.
        .exclude(shipping_exceptions__resolved_at__isnull=True, shipping_exceptions__isnull=False)
        .exclude(label_purchases__status="calling")
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
    carrier = CarrierAccount.objects.filter(carrier_id=carrier_code, active=True).first()
    if carrier is None:
        raise FieldRefusal(f"unknown or inactive carrier {carrier_code!r}", field="carrier", code="unknown_carrier")
    if service_code and not carrier.services.filter(service_code=service_code, active=True).exists():
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


# -- carrier accounts as karrio connections ----------------------------------------------------


def _zone(raw: dict) -> gateway.Zone:
    def number(value):
        return Decimal(str(value)) if value not in (None, "") else None

    return gateway.Zone(
        rate=Decimal(str(raw.get("rate") or 0)),
        country_codes=tuple(raw.get("country_codes") or ()),
        min_weight_kg=number(raw.get("min_weight_kg")),
        max_weight_kg=number(raw.get("max_weight_kg")),
        transit_days=raw.get("transit_days"),
    )


def connection(account: CarrierAccount, services: list[CarrierService] | None = None) -> gateway.Connection:
    """The karrio connection of an account (its active services unless given); credentials decrypted."""
    if services is None:
        services = [s for s in account.services.all() if s.active]
    return gateway.Connection(
        key=f"{account.pk}:{account.updated_at.timestamp() if account.updated_at else 0}",
        carrier_name=account.carrier_name,
        carrier_id=account.carrier_id,
        display_name=account.display_name,
        credentials=secrets.decrypt(account.credentials_encrypted),
        test_mode=account.test_mode,
        account_country=account.account_country,
        dim_divisor_cm3_per_kg=account.dim_divisor_cm3_per_kg,
        services=tuple(
            gateway.Service(
                service_code=s.service_code,
                service_name=s.service_name,
                currency=s.currency,
                transit_days=s.transit_days,
                zones=tuple(_zone(z) for z in s.zones or []),
            )
            for s in services
        ),
    )


def active_accounts() -> list[CarrierAccount]:
    """Every active account with its active services (prefetched), by carrier_id."""
    accounts = list(CarrierAccount.objects.filter(active=True).prefetch_related("services").order_by("carrier_id"))
    return [a for a in accounts if any(s.active for s in a.services.all())]


def ship_from(warehouse) -> gateway.Party:
    return gateway.Party.from_dict(inventory_selectors.warehouse_address(warehouse))


def ship_to(order) -> gateway.Party:
    address = order.ship_to or {}
    return gateway.Party.from_dict(address, residential=not (address.get("company") or "").strip())


def parcels(shipment, packages) -> list[gateway.Parcel]:
    return [
        gateway.Parcel(
            weight_g=p.weight_g,
            length_mm=p.length_mm,
            width_mm=p.width_mm,
            height_mm=p.height_mm,
            reference=f"{shipment.order.number}-{p.number}",
        )
        for p in packages
    ]


def sample_origin(account: CarrierAccount) -> gateway.Party:
    """An origin to test an account with: the first warehouse that has an address (in the account's
    country when it names one)."""
    warehouses = Warehouse.objects.exclude(address_line1="").order_by("code")
    if account.account_country:
        warehouses = warehouses.filter(country=account.account_country) or warehouses
    warehouse = warehouses.first() or Warehouse.objects.order_by("code").first()
    if warehouse is None:
        return gateway.Party(country=account.account_country or "CA")
    return ship_from(warehouse)
