"""Reads behind the manager dashboard; every query starts from ``Order.objects.visible_to(actor)``."""

from __future__ import annotations

from django.db.models import Count

from fulfillment.tenancy.actor import Actor
from inventory.models import AlertKind, Warehouse
from inventory.selectors_replenishment import open_alerts
from orders.models import Order, Status


def order_counts_by_status(*, actor: Actor | None) -> dict[str, int]:
    """Orders per status in the actor's warehouses, every status present (zeros included), in one query."""
    counts = dict.fromkeys(Status.values, 0)
    rows = (
        Order.objects.visible_to(actor)
        .order_by()
        .values("status")
        # distinct: staff scoping joins through the warehouse's staff, which must never count an order twice.
        .annotate(n=Count("id", distinct=True))
        .values_list("status", "n")
    )
    for status, n in rows:
        counts[status] = counts.get(status, 0) + n
    return counts


def recent_orders(*, actor: Actor | None, limit: int = 20) -> list[Order]:
    """The newest orders the actor may see, with their tenant, newest first."""
    return list(Order.objects.visible_to(actor).select_related("tenant").order_by("-created_at", "-id")[:limit])


def assigned_warehouse_codes(*, actor: Actor | None) -> list[str]:
    """Codes of the warehouses whose orders a staff actor sees (operator admins see every warehouse)."""
    if actor is None or not actor.is_staff:
        return []
    warehouses = Warehouse.objects.order_by("code")
    if not actor.sees_all_warehouses:
        warehouses = warehouses.filter(staff__id=actor.user_id)
    return list(warehouses.values_list("code", flat=True))


def stock_alerts(*, actor: Actor | None, limit: int = 50) -> dict[str, list]:
    """Open low-stock and expiring alerts in the actor's warehouses, for the alerts card."""
    alerts = list(open_alerts(actor=actor)[:limit])
    return {
        "low_stock_alerts": [a for a in alerts if a.kind == AlertKind.LOW_STOCK],
        "expiring_alerts": [a for a in alerts if a.kind == AlertKind.EXPIRING],
    }
