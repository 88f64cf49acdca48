"""Set-ups for picking tests: allocated orders ready for a wave, what a wave wrote, full picks,
and concurrent runs."""

import threading

from django.db import connection

from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory import services as inventory
from inventory.tests import factories as inv
from orders.models import OrderEvent, Status
from orders.tests.factories import order
from picking.models import PickList, PickTask, Wave
from picking.services import pick_confirm


def allocated_orders(django_capture_on_commit_callbacks, *, count=2, quantity=2, stock=None, locations=("01-03-1",)):
    """A tenant, warehouse MAIN, product TEE (barcode 0012345678905) stocked and ``count`` allocated orders."""
    tenant = TenantFactory()
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE", barcode="0012345678905")
    per_location = stock if stock is not None else count * quantity
    for code in locations:
        inv.stock(tenant, tee, wh, code, per_location)
    with django_capture_on_commit_callbacks(execute=True):
        orders = [order(tenant, external_id=f"O{i}", lines=[("TEE", quantity)]) for i in range(count)]
    return tenant, wh, tee, orders


def main_floor(*, zones=None, aisles=4, bays=10):
    """A tenant and warehouse MAIN of ``aisles`` x ``bays`` on one level, made as create_warehouse makes it."""
    tenant = TenantFactory()
    wh = inventory.warehouse_create(code="MAIN", name="Main", aisles=aisles, bays=bays, levels=1, zones=zones)
    return tenant, wh


def lead_and_picker(wh):
    """Staff of ``wh``: the manager "lead" and the associate "picker", each as (user, API token)."""
    return (
        staff_with_token(username="lead", role="manager", warehouse=wh),
        staff_with_token(username="picker", role="associate", warehouse=wh),
    )


def wave_rows() -> tuple[int, int, int, int]:
    """What releasing waves writes: (waves, pick lists, pick tasks, order events into picking)."""
    return (
        Wave.objects.count(),
        PickList.objects.count(),
        PickTask.objects.count(),
        OrderEvent.objects.filter(to_status=Status.PICKING).count(),
    )


def pick_in_full(pick_list, task, *, user=None, actor=""):
    """Confirm ``task`` with the right location and product scans for all its remaining units."""
    task = PickTask.objects.select_related("location", "product").get(pk=task.pk)
    return pick_confirm(
        pick_list=pick_list,
        task_id=task.pk,
        location_barcode=task.location.code,
        product_barcode=task.product.sku,
        quantity=task.remaining,
        user=user,
        actor=actor,
    )


def run_together(jobs, *, timeout=60) -> list[BaseException]:
    """Run each job (a callable) in its own thread and database connection, all let go at once by
    a barrier; answer what they raised."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job) -> None:
        try:
            barrier.wait(timeout=30)
            job()
        except BaseException as exc:  # answered to the caller, which asserts on it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return errors
