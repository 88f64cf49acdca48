"""Confirmed picks and who picks a list. Picks drive orders and stock through orders.services.

Lock order for a pick: the order row, then the pick list row, then the task, then the
allocation and its balances (the same order-first rule as allocation and cancellation, so they
cannot deadlock). Locking the list before any of its tasks serialises the picks of one list, so
that a short pick may re-number the list's other open tasks, and the last two tasks finished at
once cannot both see the other still open; the wave row is locked after the list, to complete it.

Each confirmation of units writes exactly one accepted PickScan of kind ``tote`` or ``short``
whose ``quantity`` is the units put in the tote (``pick_confirm`` and the handheld's scan flow
in picking.services.scans alike), which is what pick rates are computed from; refusals are
PickScans too (``accepted`` false, ``error_code``), which is what pick accuracy is computed from.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from inventory.services import product_matches_code
from orders import locks as order_locks
from orders import services as orders
from orders.models import Order, Status
from picking import locks
from picking.models import PickList, PickListStatus, PickScan, PickTask, ScanKind, TaskStatus, Wave, WaveStatus
from picking.services.common import PickingError
from picking.services.shorts import task_short, task_short_lock


def next_task(*, pick_list: PickList) -> PickTask | None:
    return (
        pick_list.tasks.filter(status=TaskStatus.OPEN)
        .select_related("location", "product", "order", "lot")
        .order_by("sequence", "id")
        .first()
    )


# -- taking a list -------------------------------------------------------------------------


def mark_started(pick_list: PickList, *, user) -> None:
    """The first accepted scan or pick: the list is the user's (unless taken already) and in progress."""
    now = timezone.now()
    if user is not None:
        PickList.objects.filter(pk=pick_list.pk, assigned_to__isnull=True).update(assigned_to=user)
    PickList.objects.filter(pk=pick_list.pk, started_at__isnull=True).update(started_at=now)
    PickList.objects.filter(pk=pick_list.pk, status=PickListStatus.OPEN).update(status=PickListStatus.IN_PROGRESS)


def assigned_elsewhere(pick_list: PickList, user) -> str:
    """The refusal message when ``pick_list`` belongs to a picker other than ``user``; empty otherwise."""
    if user is None or pick_list.assigned_to_id is None or pick_list.assigned_to_id == user.pk:
        return ""
    holder = pick_list.assigned_to.get_username() if pick_list.assigned_to else "another picker"
    return f"This pick list is being picked by {holder}; a manager can hand it over."


@transaction.atomic
def pick_list_assign(*, pick_list: PickList, user, actor: str = "", replace: bool = False) -> PickList:
    """Give the list to ``user``: a picker takes a free list (or their own again); ``replace`` (a manager)
    hands a list over from whoever holds it. Refused for a finished list or a user of another warehouse."""
    if not (user.is_superuser or pick_list.warehouse.staff.filter(pk=user.pk).exists()):
        raise PickingError(
            f"{user.get_username()} does not work in warehouse {pick_list.warehouse.code}", field="user", code="invalid"
        )
    free = Q(assigned_to__isnull=True) | Q(assigned_to=user)
    rows = PickList.objects.filter(pk=pick_list.pk).exclude(status=PickListStatus.DONE)
    if not (rows if replace else rows.filter(free)).update(assigned_to=user):
        current = PickList.objects.select_related("assigned_to").get(pk=pick_list.pk)
        if current.status == PickListStatus.DONE:
            raise PickingError("this pick list is already done", code="list_done", status=409)
        raise PickingError(assigned_elsewhere(current, user), field=None, code="assigned_elsewhere", status=409)
    PickList.objects.filter(pk=pick_list.pk, started_at__isnull=True).update(started_at=timezone.now())
    return PickList.objects.select_related("assigned_to", "warehouse").get(pk=pick_list.pk)


@transaction.atomic
def pick_list_next(*, actor, user) -> PickList | None:
    """The list this user should pick now: their own unfinished one (resume), else the free list with
    the most urgent orders (priority, then the wave's cut-off), oldest first, of their warehouses,
    taken for them. None when nothing waits. ``actor``: the staff actor (scopes the warehouses)."""
    # Only lists with something left to pick: an open task of an order still being picked.
    live = Q(tasks__status=TaskStatus.OPEN, tasks__order__status=Status.PICKING)
    visible = PickList.objects.visible_to(actor).exclude(status=PickListStatus.DONE)
    mine = (
        visible.filter(assigned_to=user)
        .annotate(live=Count("tasks", filter=live))
        .filter(live__gt=0)
        .order_by("started_at", "created_at", "id")
        .first()
    )
    if mine is not None:
        return mine
    candidates = (
        visible.filter(assigned_to__isnull=True)
        .annotate(urgency=Max("tasks__order__priority", filter=live))
        .filter(urgency__isnull=False)
        .order_by(F("urgency").desc(), F("wave__cutoff").asc(nulls_last=True), "created_at", "id")
    )
    for pick_list_id in candidates.values_list("pk", flat=True)[:20]:
        # Two pickers asking at once: the compare-and-set gives the list to one, the other takes the next.
        taken = PickList.objects.filter(pk=pick_list_id, assigned_to__isnull=True).exclude(status=PickListStatus.DONE)
        if taken.update(assigned_to=user, started_at=timezone.now()):
            return PickList.objects.select_related("warehouse").get(pk=pick_list_id)
    return None


# -- confirming units ----------------------------------------------------------------------


def _finish(task: PickTask, *, actor: str) -> None:
    """After a task is done: complete the order, the list and the wave when nothing is left.

    The caller holds the order row and the list row: the order's other lists (zone picking)
    finishing at once wait for the order row, this list's other tasks for the list row; the wave
    row is locked here, so that the last two lists of a wave finished at once complete it once.
    """
    order_open = PickTask.objects.filter(order_id=task.order_id, status=TaskStatus.OPEN).exists()
    if not order_open:
        orders.order_mark_picked(order_id=task.order_id, actor=actor)
    pick_list = task.pick_list
    if not pick_list.tasks.filter(status=TaskStatus.OPEN).exists():
        now = timezone.now()
        PickList.objects.filter(pk=pick_list.pk).update(status=PickListStatus.DONE, completed_at=now)
        locks.wave_lock(pick_list.wave_id)
        if not PickList.objects.filter(wave_id=pick_list.wave_id).exclude(status=PickListStatus.DONE).exists():
            Wave.objects.filter(pk=pick_list.wave_id).update(status=WaveStatus.COMPLETED, completed_at=now)


def apply_pick(*, task: PickTask, pick_list: PickList, quantity: int, short: bool, actor: str) -> list[PickTask]:
    """Write a checked pick: units to PACKING, the task's progress, then the order, list and wave.

    The caller holds the order and the task locked. Returns the replacement tasks of a short pick.
    """
    if short:  # before any unit moves: see task_short_lock
        task_short_lock(task=task)
    if quantity:
        reference = f"pick list {pick_list.pk}"
        orders.allocation_pick(allocation_id=task.allocation_id, quantity=quantity, actor=actor, reference=reference)
        task.picked_quantity += quantity
    task.picked_by = actor
    task.picked_at = timezone.now()
    task.counted_quantity = 0
    task.location_confirmed = True
    replacements: list[PickTask] = []
    if short and task.remaining:
        replacements = task_short(task=task, pick_list=pick_list, actor=actor)
    elif task.remaining == 0:
        task.status = TaskStatus.PICKED
    task.save(
        update_fields=[
            "picked_quantity",
            "quantity",
            "status",
            "picked_by",
            "picked_at",
            "counted_quantity",
            "location_confirmed",
            "updated_at",
        ]
    )
    if task.status != TaskStatus.OPEN:
        _finish(task, actor=actor)
    return replacements


def cancel_dead_task(task: PickTask, order: Order, *, actor: str) -> None:
    """The order left picking (cancelled): its allocations are released, so its task is void."""
    if PickTask.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(status=TaskStatus.CANCELLED):
        task.status = TaskStatus.CANCELLED
        _finish(task, actor=actor)


def log_scan(*, pick_list, scan_id, task, user, actor, kind, code="", accepted, error="", message="", quantity=0):
    return PickScan.objects.create(
        pick_list_id=pick_list.pk,
        scan_id=scan_id,
        task=task,
        user=user,
        actor=actor[:100],
        kind=kind,
        code=(code or "")[:128],
        accepted=accepted,
        error_code=error,
        message=message[:300],
        quantity=quantity,
    )


def _api_scan_id() -> str:
    """pick_confirm's one-shot picks carry no device scan id: each gets its own."""
    return f"api-{uuid.uuid4()}"


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
    The confirmation, or the refusal, is logged as one PickScan.
    """
    try:
        with transaction.atomic():
            task, dead = _pick_confirm(
                pick_list=pick_list,
                task_id=task_id,
                location_barcode=location_barcode,
                product_barcode=product_barcode,
                quantity=quantity,
                short=short,
                actor=actor,
                user=user,
            )
    except PickingError as exc:
        # Rolled back: nothing changed. The refusal is still recorded (pick accuracy counts it).
        kinds = {
            "location_barcode": ScanKind.LOCATION,
            "product_barcode": ScanKind.PRODUCT,
            "quantity": ScanKind.QUANTITY,
        }
        kind = kinds.get(exc.field or "", ScanKind.SHORT if short else ScanKind.TOTE)
        code = location_barcode if kind == ScanKind.LOCATION else product_barcode
        task = PickTask.objects.filter(pk=task_id, pick_list=pick_list).first() if exc.code != "unknown_task" else None
        with transaction.atomic():
            log_scan(
                pick_list=pick_list,
                task=task,
                user=user,
                actor=actor,
                kind=kind,
                code=code,
                accepted=False,
                error=exc.code,
                message=str(exc),
                scan_id=_api_scan_id(),
            )
        raise
    if dead is not None:
        raise dead
    return task


def _pick_confirm(*, pick_list, task_id, location_barcode, product_barcode, quantity, short, actor, user):
    task_ref = PickTask.objects.filter(pk=task_id, pick_list=pick_list).values("order_id").first()
    if task_ref is None:
        raise PickingError("no such task on this pick list", field="task", code="unknown_task")
    order = order_locks.order_qs_select_for_update().get(pk=task_ref["order_id"])
    fresh = locks.pick_list_lock(pick_list.pk)
    task = locks.task_qs_select_for_update().select_related("location", "product", "lot", "pick_list").get(pk=task_id)

    def log(**outcome):
        # The pick's one scan in the log (what the handheld's tote scan is), for pick accuracy.
        kind = ScanKind.SHORT if short else ScanKind.TOTE
        log_scan(pick_list=pick_list, task=task, user=user, actor=actor, kind=kind, scan_id=_api_scan_id(), **outcome)

    if message := assigned_elsewhere(fresh, user):
        raise PickingError(message, field=None, code="assigned_elsewhere", status=409)
    if task.status != TaskStatus.OPEN:
        raise PickingError(f"this task is already {task.status}", field="task", code="task_done", status=409)
    if order.status != Status.PICKING:
        # Kept (not rolled back): the task is void whatever is scanned, and the list must not wait for it.
        cancel_dead_task(task, order, actor=actor)
        dead = PickingError(
            f"order {order.number} is {order.status}; put the items back", code="order_not_picking", status=409
        )
        log(code=product_barcode, accepted=False, error=dead.code, message=str(dead))
        return task, dead
    if not task.location.matches_scan(location_barcode):
        raise PickingError(
            f"wrong location: expected {task.location.code}", field="location_barcode", code="wrong_location"
        )
    if quantity < 0 or quantity > task.remaining or (quantity == 0 and not short):
        raise PickingError(f"quantity must be between 1 and {task.remaining}", field="quantity", code="bad_quantity")
    if quantity > 0 and not product_matches_code(product=task.product, code=product_barcode):
        raise PickingError(f"wrong product: expected {task.product.sku}", field="product_barcode", code="wrong_product")
    apply_pick(task=task, pick_list=pick_list, quantity=quantity, short=short, actor=actor)
    mark_started(pick_list, user=user)
    log(
        code=product_barcode or location_barcode,
        accepted=True,
        quantity=quantity,
        message=f"{quantity} x {task.product.sku} picked" + (" (short)" if short else ""),
    )
    return task, None
