from __future__ import annotations

from django.db.models import Count, Q

from picking.models import CONFIRMED_STATUSES, PickList, PickListStatus, TaskStatus


def with_task_progress(pick_lists):
    """The pick lists annotated with ``tasks_total`` (tasks not cancelled) and ``tasks_done`` (confirmed)."""
    return pick_lists.annotate(
        tasks_total=Count("tasks", filter=~Q(tasks__status=TaskStatus.CANCELLED)),
        tasks_done=Count("tasks", filter=Q(tasks__status__in=CONFIRMED_STATUSES)),
    )


def open_pick_lists(*, actor, limit: int = 50):
    """Pick lists still to do in the actor's warehouses, oldest first, with progress counts."""
    return (
        with_task_progress(PickList.objects.visible_to(actor).exclude(status=PickListStatus.DONE))
        .select_related("wave", "warehouse", "assigned_to")
        .order_by("created_at", "id")[:limit]
    )
