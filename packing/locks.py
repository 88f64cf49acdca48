"""Row locks of the packing app (the house lock order: ARCHITECTURE.md and orders/locks.py; a
shipment or a pack session is locked after its order row)."""

from __future__ import annotations

from django.db.models import QuerySet

from packing.models import Material, MaterialBalance, PackSession, Shipment


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


def material_balances_lock(*, warehouse_id, material_ids) -> dict:
    """{material_id: MaterialBalance} of one warehouse, locked FOR NO KEY UPDATE in the fixed order
    (warehouse, material id), so that two packs using the same boxes queue instead of deadlocking.

    Materials are operator stock, locked after everything a pack locks of the order and of the
    merchant's stock (the house order, then material balances last). Rows that do not exist are
    not returned: the caller creates them first.
    """
    rows = (
        MaterialBalance.objects.select_for_update(of=("self",), no_key=True)
        .filter(warehouse_id=warehouse_id, material_id__in=list(material_ids))
        .select_related("material")
        .order_by("warehouse_id", "material_id")
    )
    return {row.material_id: row for row in rows}


def material_balances_everywhere_lock(*, material_id) -> list[MaterialBalance]:
    """Every warehouse's balance of one material, locked in the same (warehouse, material) order."""
    return list(
        MaterialBalance.objects.select_for_update(of=("self",), no_key=True)
        .filter(material_id=material_id)
        .select_related("material")
        .order_by("warehouse_id", "material_id")
    )


def material_lock(*, code: str) -> Material | None:
    """The material row, locked (a change of its reorder point is decided once)."""
    return Material.objects.select_for_update().filter(code=code).first()
