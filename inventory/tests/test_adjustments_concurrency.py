"""Concurrent adjustments, approvals and picks on one lot (PostgreSQL: real row locks, real threads)."""

import pytest
from django.db import transaction

from fulfillment.tenancy.actor import Actor
from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.models import Adjustment, AdjustmentStatus, StockBalance
from inventory.services import adjustments, ledger_differences, stock_pick, stock_reserve
from inventory.services.stock import InventoryError
from inventory.tests import factories as inv
from tests.threads import run_together

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_concurrent_adjustments_approvals_and_picks_leave_the_ledger_balanced():
    # given 60 units of one lot, and one pending removal of 20 that two managers approve at once
    tenant = TenantFactory(slug="race")
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE")
    inv.stock(tenant, tee, wh, "01-01-1", 60, lot="L1")
    pending = adjustments.adjustment_create(
        tenant_id=tenant.pk, warehouse_id=wh.pk, sku="TEE", location_code="01-01-1", quantity_delta=-20, reason="lost"
    )
    manager = Actor(kind="staff", role="admin", label="mia")
    workers = 16
    picked: list[int] = []
    approvals: list[str] = []

    def pick() -> None:
        with transaction.atomic():
            plan = stock_reserve(tenant_id=tenant.pk, warehouse_id=wh.pk, needs={tee.pk: 4})
            if plan is None:
                return
            for reservation in plan[tee.pk]:
                stock_pick(balance_id=reservation.balance_id, quantity=reservation.quantity, reference="race")
        picked.append(4)

    def adjust(n: int) -> None:
        delta = 3 if n % 2 else -5
        adjustments.adjustment_create(
            tenant_id=tenant.pk,
            warehouse_id=wh.pk,
            sku="TEE",
            location_code="01-01-1",
            quantity_delta=delta,
            reason="found" if delta > 0 else "damaged",
            lot="L1",
        )

    def approve() -> None:
        adjustments.adjustment_approve(adjustment_id=pending.pk, actor=manager)
        approvals.append("posted")

    def work(n: int) -> None:
        try:
            if n < 2:
                approve()
            elif n < 9:
                pick()
            else:
                adjust(n)
        except InventoryError:
            pass  # refused (already decided, or not enough free units): must have changed nothing

    errors = run_together([lambda n=n: work(n) for n in range(workers)])

    # then: the approval happened exactly once, and every posted change is in the ledger
    assert errors == []
    assert approvals == ["posted"]
    assert Adjustment.objects.get(pk=pending.pk).status == AdjustmentStatus.POSTED
    posted = sum(
        Adjustment.objects.filter(status=AdjustmentStatus.POSTED, tenant=tenant).values_list(
            "quantity_delta", flat=True
        )
    )
    shelf = StockBalance.objects.get(product=tee, location__code="01-01-1")
    packing = StockBalance.objects.filter(product=tee, location__code="PACKING").first()
    # at most 35 units (20 + 3 x 5) were adjusted away, so at least 25 were there for pickers; the four +3s post
    assert len(picked) >= 6
    assert Adjustment.objects.filter(status=AdjustmentStatus.POSTED, quantity_delta=3).count() == 4
    assert shelf.on_hand == 60 + posted - sum(picked)
    assert (packing.on_hand if packing else 0) == sum(picked)
    assert shelf.allocated == 0
    assert ledger_differences() == []
    assert not StockBalance.objects.filter(location__is_virtual=False, on_hand__lt=0).exists()
