"""Random sequences of stock operations keep the ledger's invariants after every step.

Hypothesis drives receive / move / order+allocate / pick / ship / adjust / cancel / return,
and after each step checks: every balance equals the sum of its movements, each product's
movements net to zero across all locations, no physical balance is negative or reserves more
than it holds, and reservations equal what open allocations still hold.
"""

import contextlib
import itertools
from collections import defaultdict

import pytest
from django.db import transaction
from django.db.models import F, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory import services as inventory
from inventory.models import MovementReason, StockBalance
from inventory.tests import factories as inv
from orders import services as orders
from orders.models import Order, OrderAllocation, Status
from orders.tests.factories import order as make_order
from returns import services as returns

pytestmark = pytest.mark.django_db

_WAREHOUSES = itertools.count(1)
LOCATIONS = ["01-01-1", "01-02-1", "02-03-1", "02-04-2"]
SKUS = ["A", "B"]


class LedgerMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.tenant = TenantFactory()
        self.wh = inv.warehouse(f"H{next(_WAREHOUSES)}", aisles=2, bays=4, levels=2)
        self.products = {sku: inv.product(self.tenant, sku) for sku in SKUS}
        self.orders: list = []
        self.n = 0

    def _balances(self):
        return StockBalance.objects.filter(tenant=self.tenant, location__warehouse=self.wh)

    @rule(sku=st.sampled_from(SKUS), location=st.sampled_from(LOCATIONS), quantity=st.integers(1, 8))
    def receive(self, sku, location, quantity):
        inv.stock(self.tenant, self.products[sku], self.wh, location, quantity)

    @rule(target_location=st.sampled_from(LOCATIONS), quantity=st.integers(1, 5))
    def move(self, target_location, quantity):
        balance = self._balances().filter(location__is_sellable=True, on_hand__gt=F("allocated")).order_by("pk").first()
        if balance is None or balance.location.code == target_location:
            return
        quantity = min(quantity, balance.on_hand - balance.allocated)
        with transaction.atomic():
            inventory.stock_transfer(
                tenant_id=self.tenant.pk,
                product_id=balance.product_id,
                lot_id=balance.lot_id,
                warehouse_id=self.wh.pk,
                source=balance.location,
                target=inventory.special_location(warehouse_id=self.wh.pk, code=target_location),
                quantity=quantity,
                reason=MovementReason.MOVE,
            )

    @rule(sku=st.sampled_from(SKUS), quantity=st.integers(1, 6))
    def order(self, sku, quantity):
        self.n += 1
        created = make_order(self.tenant, external_id=f"H{self.n}", lines=[(sku, quantity)], warehouse=self.wh.code)
        orders.order_allocate(order_id=created.pk)  # the task that would run on commit
        self.orders.append(created.pk)

    def _with_status(self, *statuses):
        return list(Order.objects.filter(pk__in=self.orders, status__in=statuses).order_by("pk"))

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def pick(self, data):
        candidates = self._with_status(Status.ALLOCATED)
        if not candidates:
            return
        order = data.draw(st.sampled_from(candidates))
        orders.order_mark_picking(order_id=order.pk)
        with transaction.atomic():
            for allocation in OrderAllocation.objects.filter(line__order=order, released=False).order_by("pk"):
                if allocation.quantity > allocation.picked_quantity:
                    orders.allocation_pick(
                        allocation_id=allocation.pk, quantity=allocation.quantity - allocation.picked_quantity
                    )
        orders.order_mark_picked(order_id=order.pk)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def ship(self, data):
        candidates = self._with_status(Status.PICKED)
        if not candidates:
            return
        order = data.draw(st.sampled_from(candidates))
        orders.order_mark_packed(order_id=order.pk)
        orders.order_mark_shipped(order_id=order.pk)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def cancel(self, data):
        candidates = self._with_status(Status.ALLOCATED, Status.BACKORDERED, Status.PICKED)
        if not candidates:
            return
        orders.order_cancel(order_id=data.draw(st.sampled_from(candidates)).pk)

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), disposition=st.sampled_from(["restock", "quarantine", "dispose"]))
    def give_back(self, data, disposition):
        candidates = self._with_status(Status.SHIPPED)
        if not candidates:
            return
        order = data.draw(st.sampled_from(candidates))
        if order.returns.exists():
            return
        line = order.lines.get()
        rma = returns.return_create(
            tenant_id=self.tenant.pk, order_id=order.pk, lines=[{"sku": line.sku, "quantity": 1, "reason": "test"}]
        )
        returns.return_receive(
            return_id=rma.pk,
            lines=[{"sku": line.sku, "quantity": 1, "condition": "opened", "disposition": disposition}],
        )

    @rule(sku=st.sampled_from(SKUS), location=st.sampled_from(LOCATIONS), delta=st.integers(-4, 4).filter(bool))
    def adjust(self, sku, location, delta):
        # Refused (e.g. not enough unreserved units): nothing may have changed, checked below.
        with contextlib.suppress(inventory.InventoryError):
            inventory.stock_adjust(
                tenant_id=self.tenant.pk,
                warehouse_id=self.wh.pk,
                sku=sku,
                location_code=location,
                quantity_delta=delta,
                reason="found" if delta > 0 else "lost",
            )

    @invariant()
    def ledger_balances(self):
        if not hasattr(self, "tenant"):
            return
        assert inventory.ledger_differences() == []
        for balance in self._balances().select_related("location"):
            if not balance.location.is_virtual:
                assert balance.on_hand >= 0, balance.location.code
            assert 0 <= balance.allocated <= max(balance.on_hand, 0)

    @invariant()
    def reservations_match_open_allocations(self):
        if not hasattr(self, "tenant"):
            return
        held = defaultdict(int)
        rows = (
            OrderAllocation.objects.filter(tenant=self.tenant, released=False)
            .values("balance_id")
            .annotate(q=Sum("quantity"), p=Sum("picked_quantity"))
        )
        for row in rows:
            held[row["balance_id"]] += row["q"] - row["p"]
        for balance in self._balances():
            assert balance.allocated == held.get(balance.pk, 0), balance.pk


LedgerMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def test_random_stock_operations_keep_the_ledger_balanced():
    LedgerMachine.TestCase().runTest()
