"""Short picks: the units are not where the task said. Find them elsewhere, or let the line wait.

What is sought where, and what waits, is decided by orders.services.allocation_short (the
tenant's ship-complete or partial-shipment rule, FIFO/FEFO, a count of the short location);
this module turns the replacement allocations into tasks on the picker's list, on the way.
"""

from __future__ import annotations

from decimal import Decimal

from inventory.models import Location
from orders import services as orders
from picking.geometry import Layout, Stop, distance, location_stop, path_length, route_length
from picking.models import PickList, PickTask, TaskStatus


def task_short_lock(*, task: PickTask) -> None:
    """Lock what a short pick of ``task`` may touch, before the pick moves any unit of it.

    pick_confirm calls it first on a short pick (after the order row and the task), so that
    short picks of the same product at different places queue instead of deadlocking
    (orders.services.allocation_short_lock says which rows and why).
    """
    orders.allocation_short_lock(allocation_id=task.allocation_id)


def task_short(*, task: PickTask, pick_list: PickList, actor: str = "") -> list[PickTask]:
    """The task's unpicked rest is missing: the task ends SHORT with what was picked, and the
    units found elsewhere become new tasks on the same list, for the same tote.

    The new tasks are put into the rest of the route where they cost the fewest metres: the open
    tasks keep their order, each new stop goes between the two consecutive stops of the walk
    ahead (from where the picker stands, the short location, back to the depot) that it lengthens
    least; stops off the grid (no aisle and bay) go last, by location code, as in a new wave.
    The open tasks are then numbered from after the tasks already done. On a zone list the units
    may lie in another zone: they still join this list, whose picker holds the order's tote.
    Runs in the pick's transaction, with the order, the list and the task locked; the caller saves ``task``.
    """
    outcome = orders.allocation_short(allocation_id=task.allocation_id, actor=actor)
    task.quantity = task.picked_quantity
    task.status = TaskStatus.SHORT
    if not outcome.replacements:
        return []
    # Every pick path holds the list row already (locked after the order row, before the task), so
    # no other pick of this list holds one of the tasks re-numbered below.
    locations = Location.objects.in_bulk({a.location_id for a in outcome.replacements})
    new = [
        PickTask(
            tenant_id=task.tenant_id,
            pick_list=pick_list,
            order_id=task.order_id,
            allocation=allocation,
            location=locations[allocation.location_id],
            product_id=task.product_id,
            lot_id=allocation.lot_id,
            quantity=allocation.quantity,
            tote=task.tote,
        )
        for allocation in outcome.replacements
    ]
    others = list(pick_list.tasks.exclude(pk=task.pk).select_related("location").order_by("sequence", "id"))
    done = [t for t in others if t.status != TaskStatus.OPEN] + [task]
    ahead = [t for t in others if t.status == TaskStatus.OPEN]
    ordered, planned = _reroute(done=done, ahead=ahead, new=new, pick_list=pick_list)
    first = max(t.sequence for t in done) + 1
    for sequence, t in enumerate(ordered, start=first):
        t.sequence = sequence
    PickTask.objects.bulk_update(ahead, ["sequence"])
    PickTask.objects.bulk_create(new)
    # After a re-route distance_m is the walk as now planned, depot to depot: the stops already
    # visited (in their sequence), then the rest with the new stops inserted. It is no longer the
    # optimum over the list's stops, nor what was planned at release; the picker's remaining
    # walk is the part from the short location on.
    pick_list.distance_m = Decimal(str(round(planned, 1)))
    PickList.objects.filter(pk=pick_list.pk).update(distance_m=pick_list.distance_m)
    return new


def _stops(tasks) -> list[Stop]:
    """The stops of the tasks on the grid, in the tasks' order, each keyed by its task."""
    return [stop for stop in (location_stop(t.location, key=t) for t in tasks) if stop is not None]


def _leg(a: Stop | None, b: Stop | None, layout: Layout) -> float:
    """The shortest walk between two stops, None being the depot."""
    if a is None and b is None:
        return 0.0
    if a is None or b is None:
        # Out to the stop and back is twice the one way: the walking metric is symmetric.
        return path_length(None, [a or b], layout) / 2
    return distance(a, b, layout)


def _reroute(
    *, done: list[PickTask], ahead: list[PickTask], new: list[PickTask], pick_list: PickList
) -> tuple[list[PickTask], float]:
    """(the tasks still to pick in walking order, the planned length of the whole list's walk).

    ``done``: visited, in order, the last being where the picker stands; ``ahead``: open, in order.
    """
    visited = _stops(done)
    walk: list[Stop | None] = [visited[-1] if visited else None, *_stops(ahead), None]
    inserted = _stops(new)
    layout = Layout.of(pick_list.warehouse, stops=[*visited, *walk[1:-1], *inserted])
    for stop in inserted:
        costs = [
            _leg(walk[i], stop, layout) + _leg(stop, walk[i + 1], layout) - _leg(walk[i], walk[i + 1], layout)
            for i in range(len(walk) - 1)
        ]
        at = costs.index(min(costs))
        walk.insert(at + 1, stop)
    route = [s for s in walk[1:-1] if s is not None]
    off_grid = sorted(
        (t for t in [*ahead, *new] if location_stop(t.location) is None), key=lambda t: (t.location.code, t.sequence)
    )
    # visited ends where the picker stands, and the walk ahead starts there: counted once.
    planned = route_length([*visited, *route], layout)
    return [s.key for s in route] + off_grid, planned
