"""Concurrent receipts, picks and adjustments on one lot at one location leave the ledger balanced."""

import pytest
from django.db import transaction

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory import services as inventory
from inventory.models import StockBalance
from inventory.tests import factories as inv
from orders import services as orders
from orders.models import OrderAllocation
from orders.tests.factories import order as make_order
from tests.threads import run_together

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_receipts_picks_and_adjustments_on_the_same_lot_at_once_keep_the_ledger_balanced():
    tenant = TenantFactory()
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE")
    inv.stock(tenant, tee, wh, "01-01-1", 40, lot="LOT-1")
    created = []
    for n in range(8):
        order = make_order(tenant, external_id=f"C{n}", lines=[("TEE", 2)])
        orders.order_allocate(order_id=order.pk)
        orders.order_mark_picking(order_id=order.pk)
        created.append(order)
    allocations = list(OrderAllocation.objects.filter(line__order__in=created).values_list("pk", "quantity"))

    def receive():
        inv.stock(tenant, tee, wh, "01-01-1", 3, lot="LOT-1")

    def pick(allocation_id, quantity):
        def work():
            with transaction.atomic():
                orders.allocation_pick(allocation_id=allocation_id, quantity=quantity)

        return work

    def adjust(delta):
        def work():
            inventory.stock_adjust(
                tenant_id=tenant.pk,
                warehouse_id=wh.pk,
                sku="TEE",
                location_code="01-01-1",
                quantity_delta=delta,
                reason="found" if delta > 0 else "lost",
                lot="LOT-1",
            )

        return work

    jobs = [receive] * 8 + [pick(pk, q) for pk, q in allocations] + [adjust(2), adjust(-1)] * 4
    assert len(jobs) == 24
    errors = run_together(jobs)

    assert errors == []
    balance = StockBalance.objects.get(product=tee, location__code="01-01-1", location__warehouse=wh)
    # 40 + 8 receipts x 3 - 16 picked + 4 x 2 found - 4 x 1 lost
    assert (balance.on_hand, balance.allocated) == (40 + 24 - 16 + 8 - 4, 0)
    packing = StockBalance.objects.get(product=tee, location__code="PACKING", location__warehouse=wh)
    assert packing.on_hand == 16
    assert inventory.ledger_differences() == []
