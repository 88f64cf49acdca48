"""Replenishment under concurrency (PostgreSQL): one task per pick face, one move per task, balanced ledger."""

from __future__ import annotations

import pytest

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory import services
from inventory.models import MovementReason, MoveTask, MoveTaskStatus, StockBalance, StockMovement
from inventory.services import replenishment as rep
from inventory.tests.factories import product, stock, warehouse
from tests.threads import run_together

pytestmark = [pytest.mark.django_db(transaction=True)]


def run_at_once(work, copies: int) -> list[BaseException]:
    return run_together([work] * copies)


@pytest.fixture
def face():
    tenant = TenantFactory()
    wh = warehouse("MAIN", aisles=3, bays=3, levels=1)
    tee = product(tenant, "TEE")
    stock(tenant, tee, wh, "02-01-1", 30)
    return rep.pick_face_create(
        tenant_id=tenant.pk, product=tee, location=wh.locations.get(code="01-01-1"), min_quantity=5, max_quantity=12
    )


def test_concurrent_replenishment_runs_create_one_task(face):
    errors = run_at_once(rep.pick_faces_replenish, 6)

    assert errors == []
    task = MoveTask.objects.get()
    assert (task.quantity, task.status) == (12, MoveTaskStatus.OPEN)


def test_concurrent_completions_move_the_units_once(face):
    rep.pick_faces_replenish()
    task = MoveTask.objects.get()

    def complete():
        rep.move_task_complete(
            task_id=task.pk, from_location_barcode="02-01-1", to_location_barcode="01-01-1", quantity=12
        )

    errors = run_at_once(complete, 5)

    assert len(errors) == 4
    assert all(isinstance(e, services.InventoryError) and e.code == "not_open" for e in errors)
    assert StockMovement.objects.filter(reason=MovementReason.REPLENISHMENT).count() == 1
    levels = dict(StockBalance.objects.filter(location__is_virtual=False).values_list("location__code", "on_hand"))
    assert levels == {"01-01-1": 12, "02-01-1": 18}
    assert services.ledger_differences() == []
