"""Set-ups for picking tests: allocated orders ready for a wave."""

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.tests import factories as inv
from orders.tests.factories import order


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
