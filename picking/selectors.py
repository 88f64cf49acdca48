from __future__ import annotations

from django.db.models import Count, Q

from picking.models import PickList, PickListStatus, TaskStatus


def open_pick_lists(*, actor, limit: int = 50):
    """Pick lists still to do in the actor's warehouses, oldest first, with progress counts."""
    return (
        PickList.objects.visible_to(actor)
        .exclude(status=PickListStatus.DONE)
        .annotate(
            tasks_total=Count("tasks", filter=~Q(tasks__status=TaskStatus.CANCELLED)),
            tasks_done=Count("tasks", filter=Q(tasks__status__in=[TaskStatus.PICKED, TaskStatus.SHORT])),
        )
        .select_related("wave", "warehouse", "assigned_to")
        .order_by("created_at", "id")[:limit]
    )
