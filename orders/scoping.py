"""Who a staff member's queries may see under row-level security (settings.RLS_STAFF_TENANTS)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from fulfillment.tenancy.models import Tenant
from inventory.models import InboundShipment, StockBalance, Warehouse
from orders.models import Order


def staff_tenant_ids(*, user_id):
    """A query of the tenants of the warehouses the user works in: those a warehouse serves by default, holds
    stock of, expects inbound goods from, or has orders of (``user_id`` may be an OuterRef). Run it
    in operator scope."""
    warehouses = Warehouse.objects.filter(staff__id=user_id)
    in_theirs = {"tenant": OuterRef("pk")}
    return Tenant.objects.filter(
        Q(default_warehouse_code__in=warehouses.values("code"))
        | Exists(Order.objects.filter(**in_theirs, warehouse__in=warehouses))
        | Exists(StockBalance.objects.filter(**in_theirs, location__warehouse__in=warehouses))
        | Exists(InboundShipment.objects.filter(**in_theirs, warehouse__in=warehouses))
    ).values_list("pk", flat=True)
