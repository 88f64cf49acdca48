"""Confirmed picks. Picks drive orders and stock through orders.services.

Lock order for a pick: the order row, then the task, then the allocation and its balance
(the same order-first rule as allocation and cancellation, so they cannot deadlock).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from inventory.services import product_matches_code
from orders import services as orders
from orders.models import Order, Status
from picking.models import PickList, PickListStatus, PickTask, TaskStatus, Wave, WaveStatus
from picking.services.common import PickingError
from picking.services.shorts import task_short


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
        task_short(task=task, pick_list=pick_list, actor=actor)
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
