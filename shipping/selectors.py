"""Reads for shipping: which shipments to poll, which ones a lost message left without a label."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from orders.models import Status as OrderStatus
from packing.models import Shipment, ShipmentStatus

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
