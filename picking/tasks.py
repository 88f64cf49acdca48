"""Celery tasks of picking: thin wrappers around picking.services."""

from celery import shared_task

from fulfillment.tenancy.rls import in_operator_scope
from picking.services import scans, waves


# Queue "picking", by CELERY_TASK_ROUTES (the task attribute is deprecated in Celery 5).
@shared_task(name="picking.tasks.release_scheduled_waves", acks_late=True)
@in_operator_scope
def release_scheduled_waves(**_: object) -> int:
    """Every minute (beat): each enabled wave schedule releases the waves of its times that are due.
    Running it twice, or two at once, releases nothing twice (compare-and-set per time)."""
    return waves.schedules_release_due()


@shared_task(name="picking.tasks.void_dead_tasks", acks_late=True)
@in_operator_scope
def void_dead_tasks(**_: object) -> int:
    """Every 5 minutes (beat): open tasks of orders cancelled while picking are voided and their lists
    closed when nothing else is left; the handheld does the same for its list at every scan."""
    return scans.void_dead_tasks_everywhere()
