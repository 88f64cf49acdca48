"""Real threads: two shoppers return the same units at the same moment."""

import pytest

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from returns import services
from returns.models import Return, ReturnLine
from returns.tests.factories import shipped_order
from tests.threads import race

pytestmark = [pytest.mark.django_db(transaction=True)]


def _race(workers: int, work) -> list:
    return race([lambda i=i: work(i) for i in range(workers)], timeout=30, barrier_timeout=10)


def test_concurrent_requests_never_return_more_than_was_shipped():
    tenant = TenantFactory()
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE-RED-M")
    inv.stock(tenant, tee, wh, "01-01-1", 4)
    shipped = shipped_order(tenant, external_id="S-1", lines=[("TEE-RED-M", 3)])

    results = _race(
        4,
        lambda i: services.return_create(
            tenant_id=tenant.pk, order_id=shipped.pk, lines=[{"sku": "TEE-RED-M", "quantity": 2, "reason": f"r{i}"}]
        ),
    )

    created = [r for r in results if isinstance(r, Return)]
    refused = [r for r in results if isinstance(r, services.ReturnError)]
    assert (len(created), len(refused)) == (1, 3)
    assert {e.errors[0]["code"] for e in refused} == {"exceeds_returnable"}
    assert sum(ReturnLine.objects.values_list("quantity", flat=True)) == 2


def test_concurrent_receipts_of_one_return_move_stock_once():
    tenant = TenantFactory()
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE-RED-M")
    inv.stock(tenant, tee, wh, "01-01-1", 4)
    shipped = shipped_order(tenant, external_id="S-1", lines=[("TEE-RED-M", 3)])
    rma = services.return_create(
        tenant_id=tenant.pk, order_id=shipped.pk, lines=[{"sku": "TEE-RED-M", "quantity": 3, "reason": "x"}]
    )
    receipt = [{"sku": "TEE-RED-M", "quantity": 3, "condition": "new", "disposition": "restock"}]

    results = _race(3, lambda i: services.return_receive(return_id=rma.pk, lines=receipt))

    assert sum(isinstance(r, Return) for r in results) == 1
    assert [r.code for r in results if isinstance(r, services.ReturnError)] == ["invalid_state"] * 2
    assert tee.balances.get(location__code="01-01-1").on_hand == 1 + 3
    assert ledger_differences() == []
