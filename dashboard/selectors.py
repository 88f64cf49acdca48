"""Reads behind the manager dashboard; every query starts from ``Order.objects.visible_to(actor)``."""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from fulfillment.tenancy.actor import Actor
from inventory.models import AlertKind, Warehouse
from inventory.selectors import warehouses_for
from inventory.selectors_replenishment import open_alerts
from orders.models import Order, Status
from picking import selectors_performance as performance
from picking.selectors_performance import AssociateFigures


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


def assigned_warehouses(*, actor: Actor | None) -> list[Warehouse]:
    """The warehouses whose orders a staff actor sees (operator admins see every warehouse), by code."""
    return list(warehouses_for(actor))


def assigned_warehouse_codes(*, actor: Actor | None) -> list[str]:
    """Codes of the warehouses whose orders a staff actor sees (operator admins see every warehouse)."""
    return [w.code for w in assigned_warehouses(actor=actor)]


PICKING_CACHE_SECONDS = 60


def picking_today(*, actor: Actor | None, warehouses: list[Warehouse], now=None) -> list[AssociateFigures]:
    """Today's lines, rates and accuracy per associate in each of ``warehouses`` (each on its own local
    date), for the picking card: three queries. Managers see every associate, associates themselves;
    the figures are defined in picking.selectors_performance.

    Kept for PICKING_CACHE_SECONDS per user, warehouse set and local dates: at 100,000 scans a day
    the queries take a few hundred milliseconds, and the dashboard is opened far more often than a
    minute's picking changes a rate.
    """
    if actor is None or not warehouses:
        return performance.picking_today(actor=actor, warehouses=warehouses, now=now)
    now = now or timezone.now()
    days = ",".join(f"{w.pk}:{performance.local_today(w, now=now)}" for w in warehouses)
    key = "dashboard:picking-today:" + hashlib.sha256(f"{actor.user_id}|{actor.role}|{days}".encode()).hexdigest()
    rows = cache.get(key)
    if rows is None:
        rows = performance.picking_today(actor=actor, warehouses=warehouses, now=now)
        cache.set(key, rows, PICKING_CACHE_SECONDS)
    return rows


def stock_alerts(*, actor: Actor | None, limit: int = 50) -> dict[str, list]:
    """Open low-stock and expiring alerts in the actor's warehouses, for the alerts card."""
    alerts = list(open_alerts(actor=actor)[:limit])
    return {
        "low_stock_alerts": [a for a in alerts if a.kind == AlertKind.LOW_STOCK],
        "expiring_alerts": [a for a in alerts if a.kind == AlertKind.EXPIRING],
    }
