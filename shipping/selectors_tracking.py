"""Reads about parcels on their way: the manager's late and at-risk board (/shipping/late/) and the
shopper's public tracking page (/track/<token>/). The poll's own reads stay in shipping.selectors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from fulfillment.tenancy import rls
from fulfillment.tenancy import selectors as tenancy_selectors
from inventory import selectors as inventory_selectors
from packing.models import Shipment, ShipmentStatus
from picking.selectors_performance import local_today
from shipping.models import (
    CarrierAccount,
    TrackingEvent,
    TrackingState,
    TrackingStatus,
)
from shipping.selectors import TRACKABLE

# -- late and at-risk shipments (the manager's page) ---------------------------------------------

# Carrier statuses that put a parcel at risk, and those of a parcel about to arrive.
NEEDS_ATTENTION = [TrackingStatus.ON_HOLD, TrackingStatus.DELIVERY_DELAYED, TrackingStatus.DELIVERY_FAILED]
NEAR = [TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.READY_FOR_PICKUP]


@dataclass(frozen=True)
class LateFilters:
    """The late page's filters: a warehouse code, an account's carrier_id, a merchant (tenant id)."""

    warehouse_code: str = ""
    carrier: str = ""
    tenant_id: UUID | None = None


@dataclass(frozen=True)
class CarrierLateness:
    carrier: str
    late: int
    at_risk: int


@dataclass(frozen=True)
class LateBoard:
    """The shipments on their way that are late and those at risk of it (querysets, oldest promise
    first, each row annotated with its newest scan), the counts per carrier, and each warehouse's
    local today (``today[warehouse_id]``) the lists were judged by."""

    late: QuerySet[Shipment]
    at_risk: QuerySet[Shipment]
    per_carrier: list[CarrierLateness]
    today: dict


def _local_days(warehouses, now: datetime, offset: int = 0) -> Q:
    """Rows whose order's promised day is ``offset`` days after their warehouse's local today
    (``offset`` None: before it)."""
    match = Q(pk__in=[])
    for warehouse in warehouses:
        today = local_today(warehouse, now=now)
        if offset is None:
            match |= Q(warehouse=warehouse, order__promised_delivery_date__lt=today)
        else:
            match |= Q(warehouse=warehouse, order__promised_delivery_date=today + timedelta(days=offset))
    return match


def late_shipments(*, actor, filters: LateFilters | None = None, now: datetime | None = None) -> LateBoard:
    """Labelled shipments of the actor's warehouses not delivered yet, in two lists.

    Late: flagged delayed by tracking (``delayed_at``), or their promised day has passed in their
    warehouse's time zone. At risk (not late): the estimate is the promised day itself, the carrier
    holds, delays or failed to deliver the parcel, or the promise is tomorrow and the parcel is not
    out for delivery yet. The counts per carrier are read here (one query); each list is a lazy
    queryset with its newest scan annotated, so that a page of it is one query (and one count)
    whatever the number of rows."""
    filters = filters or LateFilters()
    now = now or timezone.now()
    warehouses = list(inventory_selectors.warehouses_for(actor))
    if filters.warehouse_code:
        warehouses = [w for w in warehouses if w.code == filters.warehouse_code.strip().upper()]
    base = (
        Shipment.objects.visible_to(actor)
        .filter(warehouse__in=warehouses, status__in=TRACKABLE, label_purchased_at__isnull=False)
        .filter(delivered_at__isnull=True)
        .exclude(tracking_state__status=TrackingStatus.DELIVERED)
    )
    if filters.carrier:
        base = base.filter(carrier_code=filters.carrier)
    if filters.tenant_id:
        base = base.filter(tenant_id=filters.tenant_id)
    late_q = Q(tracking_state__delayed_at__isnull=False) | _local_days(warehouses, now, None)
    risky = (
        Q(estimated_delivery_date=F("order__promised_delivery_date"))
        | Q(tracking_state__status__in=NEEDS_ATTENTION)
        | (
            _local_days(warehouses, now, 1)
            & ~Q(status=ShipmentStatus.OUT_FOR_DELIVERY)
            & ~Q(tracking_state__status__in=NEAR)
        )
    )
    newest = TrackingEvent.objects.filter(shipment=OuterRef("pk")).order_by("-occurred_at", "-created_at")

    def rows(qs: QuerySet[Shipment]) -> QuerySet[Shipment]:
        return (
            qs.select_related("order", "tenant", "warehouse", "tracking_state")
            .defer("label_pdf", "label_zpl")
            .annotate(
                newest_description=Subquery(newest.values("description")[:1]),
                newest_location=Subquery(newest.values("location")[:1]),
                newest_at=Subquery(newest.values("occurred_at")[:1]),
            )
            .order_by("order__promised_delivery_date", "label_purchased_at", "pk")
        )

    # A shipment is in one list only: late wins over at risk.
    at_risk_q = risky & ~late_q
    counts = (
        base.filter(late_q | at_risk_q)
        .values("carrier_code")
        .annotate(late=Count("pk", filter=late_q), at_risk=Count("pk", filter=at_risk_q))
        .order_by("carrier_code")
    )
    return LateBoard(
        late=rows(base.filter(late_q)),
        at_risk=rows(base.filter(at_risk_q)),
        per_carrier=[CarrierLateness(c["carrier_code"], c["late"], c["at_risk"]) for c in counts],
        today={w.pk: local_today(w, now=now) for w in warehouses},
    )


# -- the shopper's public tracking page (/track/<token>/) --------------------------------------

# What packing.models.new_public_token makes (token_urlsafe: base64url), with room for other lengths.
_PUBLIC_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_HEX_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


@dataclass(frozen=True)
class PublicEvent:
    status: str
    description: str
    location: str
    occurred_at: datetime


@dataclass(frozen=True)
class PublicTracking:
    """What a shopper may see of a shipment, and nothing else: no name, street, e-mail or phone
    of the order's ship_to ever reaches the page, because the page is never given the order."""

    merchant: str
    brand_color: str  # "#RRGGBB" or "" (the default colour)
    logo_url: str | None
    order_number: str
    carrier: str  # the account's display name, else its carrier_id; "" before the label
    tracking_number: str
    has_label: bool
    status: str  # TrackingStatus; "pending" while there is no tracking state
    status_at: datetime | None
    reason: str
    estimated_delivery_date: date | None
    promised_delivery_date: date | None
    delayed: bool
    delivered_at: datetime | None
    city: str
    country: str
    timezone: str  # the shipping warehouse's, for the times shown
    events: list[PublicEvent]  # newest first


def public_tracking(*, token: str) -> PublicTracking | None:
    """The shipment whose public token is ``token``, as the shopper sees it; None for an unknown or
    malformed token (the caller answers both with the same 404).

    The shopper has no login and so no row-level-security scope, in which no tenant row is visible.
    The token is the credential, and it names one shipment of one tenant: the operator scope is used
    for that single lookup, which reads only the shipment's id and tenant, and everything shown is
    then read in that tenant's scope alone, so a mistake in those reads cannot reach another
    tenant's rows. A malformed token is looked up like any other (as the empty string, which no
    shipment has), so that every 404 takes the same path. Tokens are unique per tenant only: two
    tenants sharing one (192 random bits: never, in practice) would make it name no shipment."""
    token = token if _PUBLIC_TOKEN.fullmatch(token or "") else ""
    with rls.operator():
        found = list(Shipment.objects.filter(public_token=token).values_list("pk", "tenant_id")[:2])
    if len(found) != 1:
        return None
    shipment_id, tenant_id = found[0]
    with rls.tenants(tenant_id):
        shipment = (
            Shipment.objects.filter(pk=shipment_id, tenant_id=tenant_id)
            .select_related("order", "warehouse", "tracking_state")
            .only(
                "carrier_code",
                "tracking_number",
                "label_purchased_at",
                "delivered_at",
                "estimated_delivery_date",
                "order__number",
                "order__ship_to",
                "order__promised_delivery_date",
                "warehouse__timezone",
                *(f"tracking_state__{f}" for f in ("status", "status_at", "reason", "delayed_at")),
            )
            .get()
        )
        events = [
            PublicEvent(status=e.status, description=e.description, location=e.location, occurred_at=e.occurred_at)
            for e in TrackingEvent.objects.filter(shipment_id=shipment_id, tenant_id=tenant_id).order_by(
                "-occurred_at", "-created_at"
            )
        ]
        branding = tenancy_selectors.branding_get(tenant_id=tenant_id)
    try:
        state = shipment.tracking_state
    except TrackingState.DoesNotExist:
        state = None
    carrier = ""
    if shipment.carrier_code:
        carrier = (
            CarrierAccount.objects.filter(carrier_id=shipment.carrier_code)
            .values_list("display_name", flat=True)
            .first()
            or shipment.carrier_code
        )
    ship_to = shipment.order.ship_to or {}
    return PublicTracking(
        merchant=branding.name,
        brand_color=branding.brand_color if _HEX_COLOR.fullmatch(branding.brand_color or "") else "",
        logo_url=branding.logo_url,
        order_number=shipment.order.number,
        carrier=carrier,
        tracking_number=shipment.tracking_number,
        has_label=shipment.has_label,
        status=state.status if state is not None else TrackingStatus.PENDING,
        status_at=state.status_at if state is not None else None,
        reason=state.reason if state is not None else "",
        estimated_delivery_date=shipment.estimated_delivery_date,
        promised_delivery_date=shipment.order.promised_delivery_date,
        delayed=state is not None and state.delayed_at is not None,
        delivered_at=shipment.delivered_at,
        city=str(ship_to.get("city") or ""),
        country=str(ship_to.get("country") or ""),
        timezone=shipment.warehouse.timezone,
        events=events,
    )
