"""Orders in two warehouses, in known statuses, created through the real services."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.tests import factories as inv
from orders import services
from orders.models import Order
from orders.tests.factories import order


@dataclass
class Floor:
    main: object
    east: object
    acme: object
    globex: object
    by_name: dict[str, Order]


@pytest.fixture
def floor(db, django_capture_on_commit_callbacks) -> Floor:
    """MAIN holds orders of two tenants in six statuses; EAST holds one order still ``received``."""
    main = inv.warehouse("MAIN", aisles=1, bays=2, levels=1)
    east = inv.warehouse("EAST", aisles=1, bays=2, levels=1)
    acme = TenantFactory(slug="acme", name="Acme Goods")
    globex = TenantFactory(slug="globex", name="Globex Supply")
    tee = inv.product(acme, "TEE-RED-M")
    inv.product(acme, "MUG-BLUE")  # never in stock: its orders are backordered
    cap = inv.product(globex, "CAP-GRN")
    with django_capture_on_commit_callbacks(execute=True):
        inv.stock(acme, tee, main, "01-01-1", 10)
        inv.stock(globex, cap, main, "01-02-1", 10)
    made = {}
    with django_capture_on_commit_callbacks(execute=True):
        made["allocated_1"] = order(acme, external_id="A-ALLOC-1", lines=[("TEE-RED-M", 1)], warehouse="MAIN")
        made["allocated_2"] = order(globex, external_id="G-ALLOC-2", lines=[("CAP-GRN", 1)], warehouse="MAIN")
        made["picking"] = order(acme, external_id="A-PICK", lines=[("TEE-RED-M", 2)], warehouse="MAIN")
        made["backordered"] = order(acme, external_id="A-BACK", lines=[("MUG-BLUE", 1)], warehouse="MAIN")
        made["on_hold"] = order(
            acme, external_id="A-HOLD", lines=[("TEE-RED-M", 1)], warehouse="MAIN", payment_status="pending"
        )
        made["cancelled"] = order(acme, external_id="A-CANCEL", lines=[("MUG-BLUE", 1)], warehouse="MAIN")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_mark_picking(order_id=made["picking"].pk)
        services.order_cancel(order_id=made["cancelled"].pk)
    # No commit callbacks run for this one, so it is never allocated and stays "received".
    made["east_received"] = order(globex, external_id="G-EAST", lines=[("CAP-GRN", 1)], warehouse="EAST")
    by_name = {name: Order.objects.get(pk=o.pk) for name, o in made.items()}
    return Floor(main=main, east=east, acme=acme, globex=globex, by_name=by_name)
