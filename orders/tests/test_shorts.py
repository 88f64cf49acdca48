"""allocation_short and the partial-shipment split it shares with allocation."""

import pytest

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.models import CycleCount, StockBalance
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders import services
from orders.models import Order, OrderAllocation, OrderEvent, Status
from orders.tests.factories import order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    tenant = TenantFactory()
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE")
    return tenant, wh, tee


def _picking_allocation(shop, capture, *, stock, external_id):
    """An order of 2 TEE, allocated from ``stock`` TEE at 01-01-1 and being picked: its allocation."""
    tenant, wh, tee = shop
    inv.stock(tenant, tee, wh, "01-01-1", stock)
    with capture(execute=True):
        created = order(tenant, external_id=external_id, lines=[("TEE", 2)])
    services.order_mark_picking(order_id=created.pk, actor="test")
    return OrderAllocation.objects.get(line__order=created)


def test_partial_split_leaves_every_line_of_the_shipping_part_allocated(shop, django_capture_on_commit_callbacks):
    tenant, wh, tee = shop
    tenant.allow_partial_shipments = True
    tenant.save(update_fields=["allow_partial_shipments"])
    inv.product(tenant, "MUG")
    cap = inv.product(tenant, "CAP")
    inv.stock(tenant, tee, wh, "01-01-1", 5)
    inv.stock(tenant, cap, wh, "01-02-1", 1)

    with django_capture_on_commit_callbacks(execute=True):
        created = order(tenant, external_id="A1", lines=[("TEE", 2), ("MUG", 1), ("CAP", 1)])

    created.refresh_from_db()
    assert created.status == Status.ALLOCATED
    assert sorted(created.lines.values_list("sku", "quantity", "allocated_quantity", "backordered_quantity")) == [
        ("CAP", 1, 1, 0),
        ("TEE", 2, 2, 0),
    ]
    split = Order.objects.get(parent=created)
    assert list(split.lines.values_list("sku", "quantity", "allocated_quantity", "backordered_quantity")) == [
        ("MUG", 1, 0, 1)
    ]


def test_allocation_short_alone_writes_off_finds_nothing_and_tells_why(shop, django_capture_on_commit_callbacks):
    allocation = _picking_allocation(shop, django_capture_on_commit_callbacks, stock=3, external_id="A2")
    created = allocation.line.order

    outcome = services.allocation_short(allocation_id=allocation.pk, actor="picker")

    assert (outcome.missing, outcome.location_code, outcome.replacements, outcome.backordered) == (2, "01-01-1", [], 2)
    assert outcome.count_id == CycleCount.objects.get(location__code="01-01-1").pk
    allocation.refresh_from_db()
    assert (allocation.quantity, allocation.released) == (0, True)
    line = created.lines.get()
    assert (line.allocated_quantity, line.backordered_quantity) == (0, 2)
    balance = StockBalance.objects.get(location__code="01-01-1")
    assert (balance.on_hand, balance.allocated) == (1, 0)  # the third unit was never promised: it stays
    event = OrderEvent.objects.get(order=created, type="short_pick")
    assert (event.actor, event.data["written_off"], event.data["found"]) == ("picker", 2, [])
    assert ledger_differences() == []


def test_allocation_short_of_a_spent_allocation_changes_nothing(shop, django_capture_on_commit_callbacks):
    allocation = _picking_allocation(shop, django_capture_on_commit_callbacks, stock=2, external_id="A3")
    created = allocation.line.order
    services.allocation_pick(allocation_id=allocation.pk, quantity=2, actor="picker")

    outcome = services.allocation_short(allocation_id=allocation.pk, actor="picker")

    assert outcome == services.ShortOutcome()
    assert not OrderEvent.objects.filter(order=created, type="short_pick").exists()
    assert not CycleCount.objects.exists()
    assert created.lines.get().allocated_quantity == 2
