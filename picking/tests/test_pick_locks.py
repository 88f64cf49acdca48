"""Lock order of picks: the order row, the pick list row, the task, the allocation,
then balances in location order (then id). Each test widens the window of one race with a pause
inside the first transaction. The transfer test deadlocked (PostgreSQL aborted one side) while
short picks locked balances by id and transfers by location; the re-route test checks that a short
pick re-numbering the list and a pick of another of its tasks, overlapping, both complete. A pause
lasts until the second transaction waits for a lock of the first (see _Overlap)."""

import threading
import time
from functools import partial

import pytest
from django.db import connection, transaction

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory import services as inventory
from inventory.models import Lot, MovementReason
from inventory.services import ledger_differences
from inventory.services import stock as stock_module
from inventory.tests import factories as inv
from orders.models import Order, Status
from orders.tests.factories import order
from picking import services
from picking.models import PickTask, TaskStatus
from picking.services import shorts
from picking.tests.factories import short
from tests.threads import run_together

pytestmark = [pytest.mark.django_db(transaction=True)]


class _Overlap:
    """Two transactions overlapping: the first calls ``hold()`` where it holds the locks of the race,
    the second ``wait_for_the_first()`` before it starts. The first holds on until PostgreSQL shows
    the second waiting for a lock (pg_stat_activity), or ``timeout`` seconds have passed."""

    def __init__(self, timeout=10.0):
        self.timeout = timeout
        self.held = threading.Event()
        self.connected = threading.Event()
        self.second_pid = None

    def wait_for_the_first(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.second_pid = cursor.fetchone()[0]
        self.connected.set()
        self.held.wait(timeout=self.timeout)

    def hold(self) -> None:
        if self.held.is_set():  # once
            return
        self.held.set()
        deadline = time.monotonic() + self.timeout
        if not self.connected.wait(timeout=self.timeout):
            return
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # else read once per transaction
                cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [self.second_pid])
                row = cursor.fetchone()
                if row is not None and row[0] == "Lock":
                    return
                time.sleep(0.01)


def test_a_short_pick_that_reroutes_the_list_and_a_pick_of_another_task_of_it_do_not_deadlock(
    django_capture_on_commit_callbacks, monkeypatch
):
    tenant = TenantFactory()
    wh = inv.warehouse()
    aaa = inv.product(tenant, "AAA")
    inv.stock(tenant, aaa, wh, "01-03-1", 2)
    inv.stock(tenant, inv.product(tenant, "BBB"), wh, "02-05-1", 2)
    with django_capture_on_commit_callbacks(execute=True):
        short_order = order(tenant, external_id="O1", lines=[("AAA", 2)])
        other_order = order(tenant, external_id="O2", lines=[("BBB", 2)])
    inv.stock(tenant, aaa, wh, "03-07-1", 5)  # where the short is found
    services.wave_build(warehouse=wh, strategy="batch", max_orders=10)
    short_task = PickTask.objects.select_related("pick_list", "location").get(order=short_order)
    other_task = PickTask.objects.select_related("pick_list", "location").get(order=other_order)
    assert short_task.pick_list_id == other_task.pick_list_id
    reroute = shorts._reroute
    overlap = _Overlap()

    def slow_reroute(**kwargs):
        overlap.hold()  # re-numbering the list's open tasks, the other task among them
        return reroute(**kwargs)

    monkeypatch.setattr(shorts, "_reroute", slow_reroute)

    def pick_other():
        overlap.wait_for_the_first()  # while the short holds the list
        services.pick_confirm(
            pick_list=other_task.pick_list,
            task_id=other_task.pk,
            location_barcode="02-05-1",
            product_barcode="BBB",
            quantity=2,
        )

    assert run_together([partial(short, short_task.pick_list, short_task), pick_other]) == []
    assert Order.objects.get(pk=other_order.pk).status == Status.PICKED
    replacement = PickTask.objects.get(order=short_order, status=TaskStatus.OPEN)
    assert (replacement.location.code, replacement.quantity) == ("03-07-1", 2)
    assert ledger_differences() == []


def test_a_short_pick_and_a_transfer_of_the_same_product_do_not_deadlock(
    django_capture_on_commit_callbacks, monkeypatch
):
    tenant = TenantFactory()
    wh = inv.warehouse(levels=1)
    tee = inv.product(tenant, "TEE")
    # The short balance has the lowest id of the three but its location the highest id: locking by
    # balance id in one place and by location in another would cross.
    inv.stock(tenant, tee, wh, "01-03-1", 2, lot="A")
    with django_capture_on_commit_callbacks(execute=True):
        made = order(tenant, external_id="O1", lines=[("TEE", 2)])
    inv.stock(tenant, tee, wh, "01-02-1", 5, lot="A")
    inv.stock(tenant, tee, wh, "01-01-1", 5, lot="A")
    services.wave_build(warehouse=wh, strategy="discrete", max_orders=1)
    task = PickTask.objects.select_related("pick_list", "location").get(order=made)
    assert task.location.code == "01-03-1"
    mover = threading.local()
    bump = stock_module._bump
    overlap = _Overlap()

    def slow_bump(**kwargs):
        bump(**kwargs)
        if getattr(mover, "first", False):
            mover.first = False
            overlap.hold()  # the transfer holds its first balance

    monkeypatch.setattr(stock_module, "_bump", slow_bump)

    @transaction.atomic
    def transfer():
        mover.first = True
        inventory.stock_transfer(
            tenant_id=tenant.pk,
            product_id=tee.pk,
            lot_id=Lot.objects.get(code="A").pk,
            warehouse_id=wh.pk,
            source_code="01-01-1",
            target_code="01-02-1",
            quantity=1,
            reason=MovementReason.REPLENISHMENT,
        )

    def short_during_the_transfer():
        overlap.wait_for_the_first()
        short(task.pick_list, task)

    assert run_together([transfer, short_during_the_transfer]) == []
    assert ledger_differences() == []
