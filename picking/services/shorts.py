"""Short picks: the units are not where the task said. Find them elsewhere, or let the line wait."""

from __future__ import annotations

from orders import services as orders
from picking.models import PickList, PickTask, TaskStatus


def task_short(*, task: PickTask, pick_list: PickList, actor: str = "") -> list[PickTask]:
    """The task's unpicked rest is missing: the task ends SHORT with what was picked; replacement
    tasks (another location or lot of the same owner) join the list. Runs in pick_confirm's
    transaction, with the order and the task locked; the caller saves ``task``.
    """
    replacement, _missing = orders.allocation_short(allocation_id=task.allocation_id, actor=actor)
    task.quantity = task.picked_quantity
    task.status = TaskStatus.SHORT
    if replacement is None:
        return []
    last = pick_list.tasks.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    return [
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
    ]
