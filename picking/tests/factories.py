"""Set-ups for picking tests: allocated orders ready for a wave, what a wave wrote, full and
short picks, and what they left in stock and orders (concurrent runs: tests.threads)."""

from django.db.models import Sum

from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory import services as inventory
from inventory.models import StockBalance
from inventory.tests import factories as inv
from orders.models import Order, OrderEvent, Status
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


def short(pick_list, task, *, picked=0, actor=""):
    """Report ``task`` short at its location with ``picked`` units found (its product scanned only
    if any were)."""
    return pick_confirm(
        pick_list=pick_list,
        task_id=task.pk,
        location_barcode=task.location.code,
        product_barcode=task.product.sku if picked else "",
        quantity=picked,
        short=True,
        actor=actor,
    )


def stock_at(code, product):
    """(on hand, allocated) of a product at a location, over its lots."""
    totals = StockBalance.objects.filter(location__code=code, product=product).aggregate(
        on_hand=Sum("on_hand"), allocated=Sum("allocated")
    )
    return (totals["on_hand"] or 0, totals["allocated"] or 0)


def order_status(o):
    return Order.objects.get(pk=o.pk).status
