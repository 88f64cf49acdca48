"""Row locks of the orders app: one queryset per model that selects for update in primary-key
order (as saleor's ``lock_objects``), so that writers of the same rows queue instead of deadlocking.

The house lock order, in every app: the order row, then the pick list, then the task, then the
allocation, then stock balances by location (then primary key, the order inventory.stock_reserve
and the ledger's moves take them in). A service that needs several rows takes them in that order.

NO KEY UPDATE: these rows change but their keys never do, so inserts of rows that refer to them
(lines, events, tasks, allocations) need not wait for the lock.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet

from inventory.models import StockBalance
from orders.models import Order, OrderAllocation, OrderImport


def order_qs_select_for_update() -> QuerySet[Order]:
    return Order.objects.select_for_update(no_key=True).order_by("pk")


def order_lock(order_id, *, tenant_id=None) -> Order | None:
    """The order row, locked; None when there is none (or, given ``tenant_id``, not that tenant's)."""
    query = order_qs_select_for_update().filter(pk=order_id)
    if tenant_id is not None:
        query = query.filter(tenant_id=tenant_id)
    return query.first()


def allocation_qs_select_for_update() -> QuerySet[OrderAllocation]:
    # Only the allocation row: a line, balance or location joined in is read, not locked.
    return OrderAllocation.objects.select_for_update(no_key=True, of=("self",)).order_by("pk")


def balance_qs_select_for_update() -> QuerySet[StockBalance]:
    """Stock balances in the ledger's lock order: location, then primary key."""
    return StockBalance.objects.select_for_update(no_key=True, of=("self",)).order_by("location_id", "pk")


def allocation_short_lock(*, allocation_id) -> None:
    """Lock every stock balance a short pick of this allocation may touch, before the pick moves a unit.

    The PACKING balance of its lot (where a pick of the units that were there goes), every
    sellable balance of the product in the warehouse (where replacements may come from) and the
    short one, in one statement in location order, then primary key: the order stock_reserve
    locks candidates in and _move locks a movement's two balances in, so that a short pick, a
    reservation and a transfer of the same product queue instead of deadlocking. Without it two
    short picks of the same product, each holding the balance it was short at and looking for
    stock at the other's, would deadlock. Locks the allocation row first (the house order: order,
    pick list, task, allocation, balances); runs in the caller's transaction.
    """
    allocation = allocation_qs_select_for_update().select_related("balance", "location").get(pk=allocation_id)
    balance, warehouse_id = allocation.balance, allocation.location.warehouse_id
    mine = Q(tenant_id=balance.tenant_id, product_id=balance.product_id, location__warehouse_id=warehouse_id)
    list(
        balance_qs_select_for_update()
        .filter(
            Q(pk=balance.pk)
            | (mine & Q(location__is_sellable=True))
            | (mine & Q(lot_id=balance.lot_id, location__code="PACKING"))
        )
        .values_list("pk", flat=True)
    )


def order_import_qs_select_for_update() -> QuerySet[OrderImport]:
    return OrderImport.objects.select_for_update().order_by("pk")


def shopper_email_lock(order_id, kind: str) -> None:
    """Serialise senders of one (order, kind) e-mail without locking the order row against its
    transitions: a transaction-scoped advisory lock, not a row lock (no row records "sending")."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"shopper-email:{order_id}:{kind}"])
