"""Tasks: cycle counts."""

from __future__ import annotations

from celery import shared_task

from fulfillment.tenancy.rls import in_operator_scope
from inventory.services import counts


@shared_task(name="inventory.tasks.schedule_cycle_counts", acks_late=True)
@in_operator_scope
def schedule_cycle_counts(**_: object) -> int:
    """Nightly: create the counts that are due; a second run creates none (one open count per location)."""
    return len(counts.cycle_counts_schedule())
