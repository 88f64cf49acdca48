"""Waves, pick lists and confirmed picks. Picks drive orders and stock through orders.services.

Lock order for a pick: the order row, then the task, then the allocation and its balance
(the same order-first rule as allocation and cancellation, so they cannot deadlock).
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inventory.models import Warehouse
from inventory.services import product_matches_code
from orders import services as orders
from orders.models import Order, OrderAllocation, Status
from picking.models import PickList, PickListStatus, PickTask, Strategy, TaskStatus, Wave, WaveStatus
from picking.routing import Stop, optimal

BATCH_SIZE = 8  # totes on a cart


class PickingError(ValueError):
    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid", status: int = 422):
        super().__init__(message)
        self.field = field
        self.code = code
        self.status = status


def _route(tasks: list[PickTask], warehouse: Warehouse) -> float:
    """Number the tasks along the shortest route; its length in metres (0.1 m).

    Tasks at a location without an aisle and bay are not on the grid: they come last, by location code,
    and are not in the distance.
    """
    on_grid = [t for t in tasks if t.location.aisle and t.location.bay]
    off_grid = sorted((t for t in tasks if not (t.location.aisle and t.location.bay)), key=lambda t: t.location.code)
    stops = [Stop(aisle=t.location.aisle, bay=t.location.bay, key=t) for t in on_grid]
    ordered, distance = optimal(
        stops,
        # A location deeper than the warehouse's recorded bay count still lies on the grid.
        bays=max([warehouse.bays, *(s.bay for s in stops)], default=1) or 1,
        aisle_pitch_m=float(warehouse.aisle_pitch_m),
        bay_width_m=float(warehouse.bay_width_m),
    )
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


def _finish(task: PickTask, *, actor: str) -> None:
    """After a task is done: complete the order, the list and the wave when nothing is left."""
    order_open = PickTask.objects.filter(order_id=task.order_id, status=TaskStatus.OPEN).exists()
    if not order_open:
        orders.order_mark_picked(order_id=task.order_id, actor=actor)
    pick_list = task.pick_list
    if not pick_list.tasks.filter(status=TaskStatus.OPEN).exists():
        now = timezone.now()
        PickList.objects.filter(pk=pick_list.pk).update(status=PickListStatus.DONE, completed_at=now)
        if not PickList.objects.filter(wave_id=pick_list.wave_id).exclude(status=PickListStatus.DONE).exists():
            Wave.objects.filter(pk=pick_list.wave_id).update(status=WaveStatus.COMPLETED, completed_at=now)
    elif pick_list.status == PickListStatus.OPEN:
        PickList.objects.filter(pk=pick_list.pk).update(status=PickListStatus.IN_PROGRESS)


@transaction.atomic
def pick_confirm(
    *,
    pick_list: PickList,
    task_id,
    location_barcode: str,
    product_barcode: str = "",
    quantity: int,
    short: bool = False,
    actor: str = "",
    user=None,
) -> PickTask:
    """Confirm a pick by scanning the location and the product; a wrong scan changes nothing.

    ``short``: only ``quantity`` units (maybe 0) were there. The rest is sought at another
    location of the same product (a new task on this list), else the line waits for stock.
    """
    task_ref = PickTask.objects.filter(pk=task_id, pick_list=pick_list).values("order_id").first()
    if task_ref is None:
        raise PickingError("no such task on this pick list", field="task", code="unknown_task")
    order = Order.objects.select_for_update(no_key=True).get(pk=task_ref["order_id"])
    task = (
        PickTask.objects.select_for_update(no_key=True, of=("self",))
        .select_related("location", "product", "pick_list")
        .get(pk=task_id)
    )
    if task.status != TaskStatus.OPEN:
        raise PickingError(f"this task is already {task.status}", field="task", code="task_done", status=409)
    if order.status != Status.PICKING:
        PickTask.objects.filter(pk=task.pk).update(status=TaskStatus.CANCELLED)
        raise PickingError(
            f"order {order.number} is {order.status}; put the items back", code="order_not_picking", status=409
        )
    if not task.location.matches_scan(location_barcode):
        raise PickingError(
            f"wrong location: expected {task.location.code}", field="location_barcode", code="wrong_location"
        )
    if quantity < 0 or quantity > task.remaining or (quantity == 0 and not short):
        raise PickingError(f"quantity must be between 1 and {task.remaining}", field="quantity", code="bad_quantity")
    if quantity > 0 and not product_matches_code(product=task.product, code=product_barcode):
        raise PickingError(f"wrong product: expected {task.product.sku}", field="product_barcode", code="wrong_product")
    reference = f"pick list {pick_list.pk}"
    if quantity:
        orders.allocation_pick(allocation_id=task.allocation_id, quantity=quantity, actor=actor, reference=reference)
        task.picked_quantity += quantity
    task.picked_by = actor
    if short and task.remaining:
        replacement, _missing = orders.allocation_short(allocation_id=task.allocation_id, actor=actor)
        task.quantity = task.picked_quantity
        task.status = TaskStatus.SHORT
        if replacement is not None:
            last = pick_list.tasks.order_by("-sequence").values_list("sequence", flat=True).first() or 0
            PickTask.objects.create(
                tenant_id=task.tenant_id,
                pick_list=pick_list,
                order_id=task.order_id,
                allocation=replacement,
                location_id=replacement.location_id,
                product_id=task.product_id,
                lot_id=replacement.lot_id,
                quantity=replacement.quantity,
                tote=task.tote,
                sequence=last + 1,
            )
    elif task.remaining == 0:
        task.status = TaskStatus.PICKED
    task.save(update_fields=["picked_quantity", "quantity", "status", "picked_by", "updated_at"])
    if user is not None and pick_list.assigned_to_id is None:
        PickList.objects.filter(pk=pick_list.pk, assigned_to__isnull=True).update(assigned_to=user)
    if task.status != TaskStatus.OPEN:
        _finish(task, actor=actor)
    return task


def next_task(*, pick_list: PickList) -> PickTask | None:
    return (
        pick_list.tasks.filter(status=TaskStatus.OPEN)
        .select_related("location", "product", "order", "lot")
        .order_by("sequence", "id")
        .first()
    )
