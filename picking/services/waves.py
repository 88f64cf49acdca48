"""Waves: allocated orders into routed pick lists."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.db import transaction

from inventory.models import Warehouse
from orders import services as orders
from orders.models import Order, OrderAllocation, Status
from picking.models import PickList, PickTask, Strategy, Wave
from picking.routing import Layout, Stop, route
from picking.services.common import PickingError

BATCH_SIZE = 8  # totes on a cart


def _route(tasks: list[PickTask], warehouse: Warehouse) -> float:
    """Number the tasks along the shortest route; its length in metres (0.1 m).

    Tasks at a location without an aisle and bay are not on the grid: they come last, by location code,
    and are not in the distance.
    """
    on_grid = [t for t in tasks if t.location.aisle and t.location.bay]
    off_grid = sorted((t for t in tasks if not (t.location.aisle and t.location.bay)), key=lambda t: t.location.code)
    stops = [Stop(aisle=t.location.aisle, bay=t.location.bay, key=t) for t in on_grid]
    ordered, distance = route(stops, Layout.of(warehouse, stops=stops))
    for sequence, task in enumerate([s.key for s in ordered] + off_grid, start=1):
        task.sequence = sequence
    return round(distance, 1)


@transaction.atomic
def wave_build(*, warehouse: Warehouse, strategy: str, max_orders: int, actor: str = "") -> Wave | None:
    """Take allocated orders by priority, ship_by and arrival into pick lists; None when there are none."""
    if strategy not in Strategy.values:
        raise PickingError(f"strategy must be one of {', '.join(Strategy.values)}", field="strategy")
    if not 1 <= max_orders <= 1000:
        raise PickingError("max_orders must be between 1 and 1000", field="max_orders")
    candidates = Order.objects.filter(warehouse=warehouse, status=Status.ALLOCATED).order_by(
        "-priority", "ship_by", "created_at", "pk"
    )
    # Two planners at once take different orders instead of waiting for each other.
    lock = {"skip_locked": True, "of": ("self",), "no_key": True} if settings.IS_POSTGRES else {}
    order_ids = list(candidates.select_for_update(**lock).values_list("pk", flat=True)[:max_orders])
    if not order_ids:
        return None
    wave = Wave.objects.create(warehouse=warehouse, strategy=strategy, created_by=actor)
    for order_id in order_ids:
        orders.order_mark_picking(order_id=order_id, actor=actor, wave=str(wave.pk))
    allocations = list(
        OrderAllocation.objects.filter(line__order_id__in=order_ids, released=False)
        .select_related("line", "location__zone")
        .order_by("pk")
    )
    by_order: dict = defaultdict(list)
    for allocation in allocations:
        if allocation.quantity > allocation.picked_quantity:
            by_order[allocation.line.order_id].append(allocation)
    groups: list[tuple[str, list]] = []  # (zone, [(order_id, tote, allocation)])
    if strategy == Strategy.DISCRETE:
        for order_id in order_ids:
            groups.append(("", [(order_id, "T1", a) for a in by_order[order_id]]))
    elif strategy == Strategy.ZONE:
        zones: dict = defaultdict(list)
        totes = {order_id: f"T{i}" for i, order_id in enumerate(order_ids, start=1)}
        for order_id in order_ids:
            for a in by_order[order_id]:
                zones[a.location.zone.code].append((order_id, totes[order_id], a))
        groups.extend(sorted(zones.items()))
    else:  # batch and wave: carts of BATCH_SIZE orders, one tote each
        for start in range(0, len(order_ids), BATCH_SIZE):
            chunk = order_ids[start : start + BATCH_SIZE]
            groups.append(
                ("", [(order_id, f"T{i}", a) for i, order_id in enumerate(chunk, start=1) for a in by_order[order_id]])
            )
    for zone, entries in groups:
        if not entries:
            continue
        pick_list = PickList.objects.create(wave=wave, warehouse=warehouse, zone=zone)
        tasks = [
            PickTask(
                tenant_id=a.tenant_id,
                pick_list=pick_list,
                order_id=order_id,
                allocation=a,
                location=a.location,
                product_id=a.line.product_id,
                lot_id=a.lot_id,
                quantity=a.quantity - a.picked_quantity,
                tote=tote,
            )
            for order_id, tote, a in entries
        ]
        pick_list.distance_m = _route(tasks, warehouse)
        pick_list.save(update_fields=["distance_m"])
        PickTask.objects.bulk_create(tasks)
    return wave
