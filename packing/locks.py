"""Row locks of the packing app (the house lock order: ARCHITECTURE.md and orders/locks.py; a
shipment is locked after its order row)."""

from __future__ import annotations

from django.db.models import QuerySet

from packing.models import Shipment


def shipment_qs_select_for_update() -> QuerySet[Shipment]:
    """Shipments FOR NO KEY UPDATE: packages and tracking events that refer to one are not blocked."""
    return Shipment.objects.select_for_update(no_key=True)


def shipment_lock(*, shipment_id) -> Shipment | None:
    """The shipment, locked for the caller's transaction (lock its order first); None when there is none."""
    return shipment_qs_select_for_update().filter(pk=shipment_id).first()
