"""Reads for replenishment: demand history, suggestions, alerts, pick faces and move tasks."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db.models import F, Q, Sum

from inventory.models import (
    DemandDay,
    InboundLine,
    LocationKind,
    MoveTask,
    MoveTaskKind,
    MoveTaskStatus,
    PickFace,
    ReorderSuggestion,
    StockAlert,
    StockBalance,
)


def demand_history(*, since: date, tenant_id=None) -> dict[tuple, dict[date, int]]:
    """{(tenant_id, product_id, warehouse_id): {day: units shipped}} for days since ``since``."""
    rows = DemandDay.objects.filter(day__gte=since)
    if tenant_id is not None:
        rows = rows.filter(tenant_id=tenant_id)
    history: dict[tuple, dict[date, int]] = defaultdict(dict)
    for row in rows.values_list("tenant_id", "product_id", "warehouse_id", "day", "quantity"):
        history[(row[0], row[1], row[2])][row[3]] = row[4]
    return dict(history)


def daily_series(days: dict[date, int], *, until: date) -> list[int]:
    """Units per day from the first day with demand up to ``until`` inclusive; days without shipments are 0."""
    if not days:
        return []
    first = min(days)
    if first > until:
        return []
    return [days.get(first + timedelta(days=offset), 0) for offset in range((until - first).days + 1)]


def scoped_stock(*, tenant_id=None):
    """(balances, inbound lines) for ``stock_levels``: every tenant, or one."""
    balances = StockBalance.objects.all()
    inbound = InboundLine.objects.all()
    if tenant_id is not None:
        balances = balances.filter(tenant_id=tenant_id)
        inbound = inbound.filter(tenant_id=tenant_id)
    return balances, inbound


def expiring_lots(*, today: date, tenant_id=None) -> list[dict]:
    """Lots of expiry-tracked products on hand that expire within max(30, min shelf life + 14) days.

    One dict per (tenant, product, lot, warehouse): tenant_id, product_id, lot_id, warehouse_id,
    expiry_date, on_hand, sku, lot_code.
    """
    rows = StockBalance.objects.filter(
        product__expiry_tracked=True,
        lot__expiry_date__isnull=False,
        location__is_virtual=False,
        on_hand__gt=0,
    )
    if tenant_id is not None:
        rows = rows.filter(tenant_id=tenant_id)
    found = []
    for row in (
        rows.values(
            "tenant_id",
            "product_id",
            "lot_id",
            "location__warehouse_id",
            "lot__expiry_date",
            "lot__code",
            "product__sku",
            "product__min_shelf_life_days",
        )
        .annotate(units=Sum("on_hand"))
        .order_by("lot__expiry_date", "lot_id")
    ):
        window = max(30, row["product__min_shelf_life_days"] + 14)
        if row["lot__expiry_date"] <= today + timedelta(days=window):
            found.append(
                {
                    "tenant_id": row["tenant_id"],
                    "product_id": row["product_id"],
                    "lot_id": row["lot_id"],
                    "warehouse_id": row["location__warehouse_id"],
                    "expiry_date": row["lot__expiry_date"],
                    "on_hand": row["units"],
                    "sku": row["product__sku"],
                    "lot_code": row["lot__code"],
                }
            )
    return found


def _staff_warehouses(qs, actor, path: str = "warehouse"):
    """Suggestions are tenant-scoped models; staff see only the rows of their warehouses."""
    if actor is not None and actor.is_staff and not actor.sees_all_warehouses:
        return qs.filter(**{f"{path}__staff__id": actor.user_id})
    return qs


def suggestions_visible(qs, actor):
    return _staff_warehouses(qs, actor).select_related("product", "product__supplier", "warehouse", "tenant")


def suggestions_for(*, actor, only_to_order: bool = False):
    qs = suggestions_visible(ReorderSuggestion.objects.visible_to(actor), actor)
    if only_to_order:
        qs = qs.filter(suggested_quantity__gt=0)
    return qs.order_by("days_of_cover", "product__sku", "warehouse__code")


def open_alerts(*, actor, kind: str | None = None):
    qs = StockAlert.objects.visible_to(actor).filter(resolved_at__isnull=True)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.select_related("product", "warehouse", "lot", "tenant").order_by("kind", "-created_at", "-id")


def pick_face_on_hand(*, pick_faces) -> dict[int, int]:
    """{pick_face_id: units of its product in its location (all lots)}."""
    faces = list(pick_faces)
    if not faces:
        return {}
    query = Q()
    for face in faces:
        query |= Q(tenant_id=face.tenant_id, product_id=face.product_id, location_id=face.location_id)
    totals = {
        (row["tenant_id"], row["product_id"], row["location_id"]): row["units"] or 0
        for row in StockBalance.objects.filter(query)
        .values("tenant_id", "product_id", "location_id")
        .annotate(units=Sum("on_hand"))
    }
    return {face.pk: totals.get((face.tenant_id, face.product_id, face.location_id), 0) for face in faces}


def pick_faces_below_min(*, warehouse_id=None) -> list[int]:
    """Ids of pick faces holding fewer units than their minimum (one aggregate query)."""
    faces = PickFace.objects.all()
    if warehouse_id is not None:
        faces = faces.filter(location__warehouse_id=warehouse_id)
    faces = list(faces.order_by("pk"))
    levels = pick_face_on_hand(pick_faces=faces)
    return [face.pk for face in faces if levels[face.pk] < face.min_quantity]


def open_move_tasks(*, actor, kind: str | None = MoveTaskKind.REPLENISHMENT):
    qs = MoveTask.objects.visible_to(actor).filter(status=MoveTaskStatus.OPEN)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.select_related("product", "lot", "from_location", "to_location", "warehouse").order_by(
        "from_location__pick_sequence", "created_at"
    )


def replenishment_sources(*, tenant_id, product_id, warehouse_id, exclude_location_ids) -> list[StockBalance]:
    """Storage balances of a product with unreserved units, oldest lot first (FEFO when expiry-tracked)."""
    rows = list(
        StockBalance.objects.filter(
            tenant_id=tenant_id,
            product_id=product_id,
            location__warehouse_id=warehouse_id,
            location__kind=LocationKind.STORAGE,
            location__is_virtual=False,
            on_hand__gt=F("allocated"),
        )
        .exclude(location_id__in=list(exclude_location_ids))
        .select_related("lot", "location", "product")
    )

    def key(balance: StockBalance):
        lot = balance.lot
        expiry = lot.expiry_date if balance.product.expiry_tracked and lot.expiry_date else date.max
        return (expiry, lot.received_at, balance.location.pick_sequence, balance.pk)

    return sorted(rows, key=key)


def promised_to_open_tasks(*, tenant_id, product_id, location_id, lot_id) -> int:
    """Units that open move tasks will take out of this location and lot."""
    total = MoveTask.objects.filter(
        tenant_id=tenant_id,
        product_id=product_id,
        from_location_id=location_id,
        lot_id=lot_id,
        status=MoveTaskStatus.OPEN,
    ).aggregate(units=Sum("quantity"))["units"]
    return total or 0
