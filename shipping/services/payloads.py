"""The data of ``shipment.*`` webhooks, the same for labels and tracking."""

from __future__ import annotations

from packing.models import Shipment
from shipping.models import TrackingEvent


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
        data["tracking_status"] = event.status
        data["event"] = {
            "status": event.status,
            "code": event.code,
            "description": event.description,
            "occurred_at": event.occurred_at.isoformat(),
        }
    return data
