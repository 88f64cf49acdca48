"""Tasks: replenishment (nightly forecasts and alerts; pick faces every few minutes)."""

from dataclasses import asdict

from celery import shared_task

from fulfillment.tenancy.rls import in_operator_scope
from inventory.services import replenishment


@shared_task(name="inventory.tasks.nightly_replenishment", acks_late=True)
@in_operator_scope
def nightly_replenishment(*, tenant_id: str | None = None, **_: object) -> dict:
    """Refresh demand history, then forecasts, reorder suggestions and alerts (safe to run twice)."""
    days = replenishment.demand_refresh()
    summary = replenishment.replenishment_run(tenant_id=tenant_id)
    return {"demand_days": days, **asdict(summary)}


@shared_task(name="inventory.tasks.replenish_pick_faces", acks_late=True)
@in_operator_scope
def replenish_pick_faces(*, warehouse_id: str | None = None, **_: object) -> int:
    """A move task for each pick face under its minimum that has none open yet."""
    return replenishment.pick_faces_replenish(warehouse_id=warehouse_id)
