from types import SimpleNamespace

import pytest

from fulfillment.tenancy.tests.factories import tenant_with_key
from inventory.tests import factories as inv
from returns.tests.factories import shipped_order


@pytest.fixture
def shop(db):
    """A tenant with a key, a warehouse, two products in stock and an order of both, shipped."""
    tenant, key = tenant_with_key(slug="acme")
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE-RED-M")
    mug = inv.product(tenant, "MUG-BLUE")
    inv.stock(tenant, tee, wh, "01-01-1", 10, lot="LOT-A")
    inv.stock(tenant, mug, wh, "01-02-1", 10, lot="LOT-M")
    shipped = shipped_order(tenant, external_id="SHOP-1", lines=[("TEE-RED-M", 3), ("MUG-BLUE", 2)])
    return SimpleNamespace(tenant=tenant, key=key, wh=wh, tee=tee, mug=mug, order=shipped)
