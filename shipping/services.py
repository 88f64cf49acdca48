"""Every write of shipping: rate shopping and label purchase, tracking updates.

Shipment rows belong to packing; shipping changes them only through packing.services. Locks: the
order row first, then the shipment (as packing does). Both actions are idempotent: they re-read
state under the locks and do nothing when the work is already done.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from fulfillment.webhooks.services import event_publish
from orders import locks as order_locks
from orders import services as orders_services
from orders.models import Order
from orders.models import Status as OrderStatus
from orders.promise import add_business_days
from packing import locks as packing_locks
from packing import services as packing_services
from packing.models import Shipment, ShipmentStatus
from shipping import selectors
from shipping.carriers.base import CarrierClient, CarrierError, Rate
from shipping.carriers.registry import client_for
from shipping.models import Carrier, TrackingCode, TrackingEvent

logger = logging.getLogger(__name__)

ACTOR = "shipping"

# The shipment status a carrier scan puts the parcel in.
STATUS_FOR_CODE = {
    TrackingCode.LABEL_CREATED: ShipmentStatus.LABEL_PURCHASED,
    TrackingCode.IN_TRANSIT: ShipmentStatus.IN_TRANSIT,
    TrackingCode.OUT_FOR_DELIVERY: ShipmentStatus.OUT_FOR_DELIVERY,
    TrackingCode.DELIVERED: ShipmentStatus.DELIVERED,
    TrackingCode.EXCEPTION: ShipmentStatus.EXCEPTION,
}


def shipment_payload(shipment: Shipment, event: TrackingEvent | None = None) -> dict:
    """The data of ``shipment.*`` webhooks."""
    data = {
        "id": str(shipment.pk),
        "order": str(shipment.order_id),
        "order_number": shipment.order.number,
        "external_id": shipment.order.external_id,
        "status": shipment.status,
        "carrier": shipment.carrier_code,
        "service": shipment.service_code,
        "tracking_number": shipment.tracking_number,
        "estimated_delivery_date": (
            shipment.estimated_delivery_date.isoformat() if shipment.estimated_delivery_date else None
        ),
    }
    if event is not None:
        data["event"] = {
            "code": event.code,
            "description": event.description,
            "occurred_at": event.occurred_at.isoformat(),
        }
    return data


def estimated_delivery_date(*, order: Order, ship_date: date, transit_business_days: int) -> date:
    """The order's promised date, unless the parcel left too late for it: then ship date + transit (weekdays)."""
    carrier_estimate = add_business_days(ship_date, transit_business_days)
    promised = order.promised_delivery_date
    return max(promised, carrier_estimate) if promised else carrier_estimate


def cheapest_rate(*, shipment: Shipment, packages: list, service_code: str) -> tuple[Rate, CarrierClient] | None:
    """Rate-shop every active carrier's services named ``service_code``; the cheapest (then fastest) wins."""
    offers: list[tuple[Rate, CarrierClient]] = []
    for carrier in Carrier.objects.filter(is_active=True).order_by("code"):
        try:
            client = client_for(carrier)
            rates = client.rates(shipment, packages)
        except CarrierError:
            logger.warning("carrier %s could not rate shipment %s", carrier.code, shipment.pk, exc_info=True)
            continue
        offers.extend((rate, client) for rate in rates if rate.service_code == service_code)
    if not offers:
        return None
    return min(offers, key=lambda offer: (offer[0].amount, offer[0].transit_business_days, offer[0].carrier_code))


def _locked(shipment_id) -> tuple[Order, Shipment] | tuple[None, None]:
    order_id = Shipment.objects.filter(pk=shipment_id).values_list("order_id", flat=True).first()
    if order_id is None:
        return None, None
    order = order_locks.order_qs_select_for_update().get(pk=order_id)
    return order, packing_locks.shipment_lock(shipment_id=shipment_id)


@transaction.atomic
def shipment_purchase_label(*, shipment_id, now: datetime | None = None) -> Shipment | None:
    """Buy the cheapest label for a packed shipment and ship the order. Does nothing if a label exists.

    Raises CarrierError when the chosen carrier fails to sell the label (the periodic sweep retries).
    """
    order, shipment = _locked(shipment_id)
    if shipment is None or shipment.status != ShipmentStatus.PACKED or shipment.has_label:
        return shipment
    if order.status != OrderStatus.PACKED:
        logger.info("shipment %s: order %s is %s, no label bought", shipment.pk, order.number, order.status)
        return shipment
    packages = list(shipment.packages.select_related("box").order_by("number"))
    offer = cheapest_rate(shipment=shipment, packages=packages, service_code=order.shipping_method)
    if offer is None:
        logger.warning("shipment %s: no active carrier offers %s", shipment.pk, order.shipping_method)
        return shipment
    rate, client = offer
    # A real carrier is paid here; the sweep only retries while no label is recorded.
    label = client.buy_label(shipment, rate)
    now = now or timezone.now()
    ship_date = now.astimezone(ZoneInfo(shipment.warehouse.timezone)).date()
    recorded = packing_services.shipment_record_label(
        shipment_id=shipment.pk,
        label=packing_services.LabelRecord(
            carrier_code=rate.carrier_code,
            service_code=rate.service_code,
            tracking_number=label.tracking_number,
            rate_amount=rate.amount,
            rate_currency=rate.currency,
            label_pdf=label.label_pdf,
            label_zpl=label.label_zpl,
            estimated_delivery_date=estimated_delivery_date(
                order=order, ship_date=ship_date, transit_business_days=rate.transit_business_days
            ),
        ),
        purchased_at=now,
    )
    if not recorded:  # cannot happen under the locks above; never overwrite a bought label
        return shipment
    event, _ = TrackingEvent.objects.get_or_create(
        tenant_id=shipment.tenant_id,
        shipment=shipment,
        code=TrackingCode.LABEL_CREATED,
        defaults={"description": "Shipping label created", "occurred_at": now},
    )
    orders_services.order_mark_shipped(
        order_id=order.pk,
        actor=ACTOR,
        data={
            "shipment": str(shipment.pk),
            "carrier": rate.carrier_code,
            "service": rate.service_code,
            "tracking_number": label.tracking_number,
        },
    )
    shipment.refresh_from_db()
    event_publish(
        tenant_id=shipment.tenant_id, type="shipment.tracking_updated", data=shipment_payload(shipment, event)
    )
    return shipment


def shipments_recover_labels(*, older_than_seconds: int = 60, now: datetime | None = None) -> int:
    """Buy the labels that a lost task message left unbought; the number bought."""
    bought = 0
    for shipment_id in selectors.shipments_without_label(older_than_seconds=older_than_seconds, now=now):
        try:
            shipment = shipment_purchase_label(shipment_id=shipment_id)
        except CarrierError:
            logger.warning("shipment %s: label purchase failed; retrying later", shipment_id, exc_info=True)
            continue
        if shipment is not None and shipment.has_label:
            bought += 1
    return bought


@transaction.atomic
def shipment_track(*, shipment_id, now: datetime | None = None) -> int:
    """Store the carrier's new scans of one shipment and move it (and on delivery its order) along.

    Returns the number of new tracking events; a second run with nothing new adds none.
    """
    order, shipment = _locked(shipment_id)
    if shipment is None or shipment.status not in selectors.TRACKABLE or not shipment.tracking_number:
        return 0
    carrier = Carrier.objects.filter(code=shipment.carrier_code).first()
    if carrier is None:
        logger.warning("shipment %s: carrier %s no longer exists", shipment.pk, shipment.carrier_code)
        return 0
    updates = client_for(carrier).track(shipment.tracking_number, shipment.label_purchased_at, now=now)
    seen = set(TrackingEvent.objects.filter(shipment=shipment).values_list("code", flat=True))
    added = 0
    for update in sorted(updates, key=lambda u: u.occurred_at):
        if update.code in seen:
            continue
        seen.add(update.code)
        event = TrackingEvent.objects.create(
            tenant_id=shipment.tenant_id,
            shipment=shipment,
            code=update.code,
            description=update.description[:200],
            location=update.location[:100],
            occurred_at=update.occurred_at,
        )
        added += 1
        target = STATUS_FOR_CODE.get(update.code)
        if target:
            packing_services.shipment_set_status(shipment_id=shipment.pk, status=target, at=update.occurred_at)
            shipment.refresh_from_db()
        event_publish(
            tenant_id=shipment.tenant_id, type="shipment.tracking_updated", data=shipment_payload(shipment, event)
        )
        if update.code == TrackingCode.DELIVERED and order.status in {OrderStatus.SHIPPED, OrderStatus.EXCEPTION}:
            order = orders_services.order_mark_delivered(order_id=order.pk, actor=ACTOR)
    return added


def tracking_poll(*, now: datetime | None = None) -> int:
    """Poll the carriers for every shipment on its way; the number of new tracking events.

    Each shipment is its own transaction, so that one carrier failing does not hold back the rest.
    """
    now = now or timezone.now()
    added = 0
    for shipment_id in selectors.shipments_to_track():
        try:
            added += shipment_track(shipment_id=shipment_id, now=now)
        except CarrierError:
            logger.warning("shipment %s: tracking failed; retrying next poll", shipment_id, exc_info=True)
    return added
