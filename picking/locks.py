"""Row locks of the picking app (the lock order: order > pick list > task > allocation > balances
by location, see ARCHITECTURE.md)."""

from __future__ import annotations

from django.db.models import QuerySet

from picking.models import PickList, PickTask, Wave, WaveSchedule


def unclaimed_orders(queryset: QuerySet) -> QuerySet:
    """Orders for a wave, skipping those another release holds right now (it takes them), locked
    FOR NO KEY UPDATE of the order rows only: tasks inserted that reference them are not blocked."""
    return queryset.select_for_update(skip_locked=True, of=("self",), no_key=True)


def pick_list_lock(pick_list_id) -> PickList:
    """The pick list row, locked FOR NO KEY UPDATE (after the order row, before any task)."""
    return (
        PickList.objects.select_for_update(no_key=True, of=("self",)).select_related("assigned_to").get(pk=pick_list_id)
    )


def task_qs_select_for_update() -> QuerySet[PickTask]:
    """Pick tasks FOR NO KEY UPDATE of the task rows only (a joined location, product or lot is read)."""
    return PickTask.objects.select_for_update(no_key=True, of=("self",))


def wave_lock(wave_id) -> None:
    """Lock the wave row (the last two lists of a wave finished at once complete it once)."""
    Wave.objects.select_for_update(no_key=True).filter(pk=wave_id).values_list("pk", flat=True).get()


def schedule_lock(*, schedule_id, warehouse) -> WaveSchedule | None:
    """The warehouse's wave schedule, locked FOR UPDATE; None when it has no such schedule."""
    return WaveSchedule.objects.select_for_update().filter(pk=schedule_id, warehouse=warehouse).first()
