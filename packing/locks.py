"""Row locks of the packing app (the house lock order: ARCHITECTURE.md and orders/locks.py; a
shipment or a pack session is locked after its order row)."""

from __future__ import annotations

from django.db.models import QuerySet

from packing.models import PackSession, Shipment


def shipment_qs_select_for_update() -> QuerySet[Shipment]:
    """Shipments FOR NO KEY UPDATE: packages and tracking events that refer to one are not blocked."""
    return Shipment.objects.select_for_update(no_key=True)


def shipment_lock(*, shipment_id) -> Shipment | None:
    """The shipment, locked for the caller's transaction (lock its order first); None when there is none."""
    return shipment_qs_select_for_update().filter(pk=shipment_id).first()


def pack_session_lock(*, session_id) -> PackSession | None:
    """The pack session, locked FOR NO KEY UPDATE of its own row (after its order row, when the caller
    locks that too): scans of one session queue here, so that two devices cannot count the same last
    unit twice. Packages and scans inserted that refer to it are not blocked. None when there is none."""
    return (
        PackSession.objects.select_for_update(no_key=True, of=("self",))
        .select_related("order", "warehouse", "packer")
        .filter(pk=session_id)
        .first()
    )
