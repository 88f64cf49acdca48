"""Reads for shipping: carrier accounts as karrio connections, the parties and parcels of a
shipment, which shipments to poll, which ones a lost message left without a label, and
cartonization with a carrier's DIM divisor; what the manager pages (shipping.views) list; and
the shopper's public tracking page (``public_tracking``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from fulfillment.errors import FieldRefusal
from fulfillment.tenancy.models import Tenant
from inventory import selectors as inventory_selectors
from inventory.models import Warehouse
from orders.models import Status as OrderStatus
from packing import selectors as packing_selectors
from packing.cartonization import DEFAULT_DIM_DIVISOR, ItemSpec, PlannedPackage, cartonize
from packing.models import Package, Shipment, ShipmentStatus
from picking.selectors_performance import period_bounds
from shipping import credentials as secrets
from shipping.carriers import gateway
from shipping.models import (
    CarrierAccount,
    CarrierService,
    LabelPurchase,
    Manifest,
    PurchaseStatus,
    RateShop,
    ShippingException,
    TrackingEvent,
    TrackingState,
)

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


def shipments_due_for_tracking(*, now: datetime, limit: int = 5000) -> list[tuple]:
    """(carrier_id, shipment_id, tracking_number) of the shipments whose next poll is due, from
    carriers that track, the longest overdue first (so a large backlog never starves the oldest);
    labelled shipments without a tracking state yet come first."""
    carriers = trackable_carrier_ids()
    if not carriers:
        return []
    columns = ("shipment__carrier_code", "shipment_id", "shipment__tracking_number")
    fresh = list(
        Shipment.objects.filter(
            status__in=TRACKABLE,
            carrier_code__in=carriers,
            label_purchased_at__isnull=False,
            tracking_state__isnull=True,
        )
        .exclude(tracking_number="")
        .order_by("label_purchased_at", "pk")
        .values_list("carrier_code", "pk", "tracking_number")[:limit]
    )
    due = list(
        TrackingState.objects.filter(
            next_poll_at__lte=now,
            shipment__status__in=TRACKABLE,
            shipment__carrier_code__in=carriers,
        )
        .exclude(shipment__tracking_number="")
        .order_by("next_poll_at", "shipment_id")
        .values_list(*columns)[: max(0, limit - len(fresh))]
    )
    return fresh + due


def shipments_maybe_late(*, now: datetime, hold_cutoff: datetime, limit: int = 5000) -> list:
    """Shipments on their way, not flagged yet, that may have become late (their promised day has
    passed somewhere on Earth, their estimate is after it, or the carrier says delayed), and those
    held by the carrier since before ``hold_cutoff``; the services decide in each warehouse's time zone."""
    latest_today = (now + timedelta(hours=14)).date()
    unflagged = Q(tracking_state__isnull=True) | Q(tracking_state__delayed_at__isnull=True)
    maybe_late = unflagged & (
        Q(order__promised_delivery_date__lt=latest_today)
        | Q(estimated_delivery_date__gt=F("order__promised_delivery_date"))
        | Q(tracking_state__status="delivery_delayed")
    )
    held = Q(
        tracking_state__status="on_hold",
        tracking_state__status_at__lte=hold_cutoff,
        tracking_state__exception_at__isnull=True,
    )
    return list(
        Shipment.objects.filter(status__in=TRACKABLE, label_purchased_at__isnull=False)
        .filter(maybe_late | held)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def warehouses_by_id(warehouse_ids) -> dict:
    """{warehouse_id: Warehouse} (for their time zones: picking.selectors_performance.local_today)."""
    return {w.pk: w for w in Warehouse.objects.filter(pk__in=list(warehouse_ids))}


def tenants_sending_shopper_emails(tenant_ids) -> dict:
    """{tenant_id: Tenant} of the tenants among ``tenant_ids`` that e-mail their shoppers (each
    kind is then asked of ``Tenant.sends_shopper_email``)."""
    return {t.pk: t for t in Tenant.objects.filter(pk__in=list(tenant_ids), shopper_emails=True)}


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
        dim_divisor_cm3_per_kg=account.dim_divisor_mm3_per_g,  # the same number (cm³/kg = mm³/g)
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


# -- manager pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ShipmentFilters:
    """The shipments list's filters: a warehouse code, an account's carrier_id, a shipment status,
    and local days (in each warehouse's time zone) on the label's purchase, else the shipment's creation."""

    warehouse_code: str = ""
    carrier: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _day_range(warehouses, *, date_from: date | None, date_to: date | None) -> Q:
    """Rows whose ``at`` falls from local midnight of ``date_from`` to the end of ``date_to`` of their warehouse."""
    match = Q(pk__in=[])
    for warehouse in warehouses:
        begin, finish = period_bounds(warehouse, date_from or date_to, date_to or date_from)
        window = Q(warehouse=warehouse)
        if date_from is not None:
            window &= Q(at__gte=begin)
        if date_to is not None:
            window &= Q(at__lt=finish)
        match |= window
    return match


def shipment_list(*, actor, filters: ShipmentFilters) -> QuerySet[Shipment]:
    """Shipments of the actor's warehouses, newest label (or shipment) first, with their packages,
    the manifest their label is on (``manifest_id``) and whether an exception is open (``has_exception``)."""
    warehouses = list(inventory_selectors.warehouses_for(actor))
    if filters.warehouse_code:
        warehouses = [w for w in warehouses if w.code == filters.warehouse_code.upper()]
    qs = (
        Shipment.objects.visible_to(actor)
        .filter(warehouse__in=warehouses)
        .select_related("order", "warehouse")
        .prefetch_related(Prefetch("packages", queryset=Package.objects.order_by("number")))
        .annotate(
            at=Coalesce("label_purchased_at", "created_at"),
            manifest_id=Subquery(
                LabelPurchase.objects.filter(shipment=OuterRef("pk"), status=PurchaseStatus.BOUGHT).values(
                    "manifest_id"
                )[:1]
            ),
            has_exception=Exists(ShippingException.objects.filter(shipment=OuterRef("pk"), resolved_at__isnull=True)),
        )
    )
    if filters.carrier:
        qs = qs.filter(carrier_code=filters.carrier)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.date_from or filters.date_to:
        qs = qs.filter(_day_range(warehouses, date_from=filters.date_from, date_to=filters.date_to))
    return qs.order_by("-at", "-pk")


def shipment_for_page(*, actor, shipment_id) -> Shipment | None:
    """One shipment of the actor's warehouses with its order and packages; None when not theirs."""
    return (
        Shipment.objects.visible_to(actor)
        .filter(pk=shipment_id)
        .select_related("order", "warehouse")
        .prefetch_related(Prefetch("packages", queryset=Package.objects.order_by("number")))
        .first()
    )


@dataclass(frozen=True)
class ShipmentHistory:
    """What shipping recorded about a shipment: the latest rate shop, every purchase attempt (newest
    first), the open exception, the bought label's manifest, the carrier's scans, where tracking
    stands, and whether its carrier can be asked at all."""

    rate_shop: RateShop | None
    purchases: list[LabelPurchase]
    open_exception: ShippingException | None
    manifest: Manifest | None
    events: list[TrackingEvent]
    tracking: TrackingState | None
    carrier_tracks: bool

    @property
    def quotes(self) -> list[dict]:
        """The latest rate shop's quotes (cheapest first), each with ``chosen`` and ``index``."""
        if self.rate_shop is None:
            return []
        return [
            {**quote, "index": index, "chosen": index == self.rate_shop.chosen}
            for index, quote in enumerate(self.rate_shop.quotes)
        ]


def shipment_history(*, shipment: Shipment) -> ShipmentHistory:
    purchases = list(
        LabelPurchase.objects.filter(shipment=shipment)
        .select_related("account", "manifest")
        .defer("label")
        .order_by("-started_at", "-pk")
    )
    bought = next((p for p in purchases if p.status == PurchaseStatus.BOUGHT), None)
    return ShipmentHistory(
        rate_shop=RateShop.objects.filter(shipment=shipment).order_by("-created_at", "-pk").first(),
        purchases=purchases,
        open_exception=ShippingException.objects.filter(shipment=shipment, resolved_at__isnull=True).first(),
        manifest=bought.manifest if bought is not None else None,
        events=list(TrackingEvent.objects.filter(shipment=shipment).order_by("occurred_at", "created_at")),
        tracking=TrackingState.objects.filter(shipment_id=shipment.pk).first(),
        carrier_tracks=bool(shipment.carrier_code) and shipment.carrier_code in trackable_carrier_ids(),
    )


def shipping_exceptions_open(*, actor) -> QuerySet[ShippingException]:
    """The exceptions queue of the actor's warehouses: open ones, oldest first."""
    return (
        ShippingException.objects.visible_to(actor)
        .filter(resolved_at__isnull=True)
        .select_related("shipment__order", "shipment__warehouse")
        .order_by("created_at", "pk")
    )


def shipping_exception_for(*, actor, exception_id) -> ShippingException | None:
    """One exception (open or resolved) of the actor's warehouses; None when not theirs."""
    return (
        ShippingException.objects.visible_to(actor)
        .filter(pk=exception_id)
        .select_related("shipment__order", "shipment__warehouse")
        .first()
    )


def carrier_accounts() -> list[CarrierAccount]:
    """Every carrier account (active ones first) with its services."""
    return list(
        CarrierAccount.objects.prefetch_related(
            Prefetch("services", queryset=CarrierService.objects.order_by("transit_days", "service_code"))
        ).order_by("-active", "carrier_id")
    )


def manifests_for(*, actor) -> QuerySet[Manifest]:
    """Manifests of the actor's warehouses, newest first (the PDF bytes left unread)."""
    return (
        Manifest.objects.filter(warehouse__in=inventory_selectors.warehouses_for(actor))
        .select_related("warehouse", "account")
        .defer("document_pdf", "carrier_document")
        .order_by("-created_at", "-pk")
    )
