"""Concurrent allocators never oversell (PostgreSQL: real row locks, real threads)."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from fulfillment.tenancy.tests.factories import tenant_with_key
from inventory.models import StockBalance
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders.models import Order, OrderLine, Status
from orders.tests.factories import order_payload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_sixteen_clients_ordering_the_last_ten_units_get_exactly_ten_allocated():
    tenant, key = tenant_with_key(slug="race")
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE")
    # The last 10 units, spread over two locations and two lots.
    inv.stock(tenant, tee, wh, "01-01-1", 6, lot="L1")
    inv.stock(tenant, tee, wh, "02-01-1", 4, lot="L2")
    barrier = threading.Barrier(16)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def client_orders(n: int) -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
            body = order_payload(f"RACE-{n}", lines=[{"sku": "TEE", "quantity": 1}])
            barrier.wait(timeout=30)
            statuses.append(client.post("/api/v1/orders/", body, format="json").status_code)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client_orders, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert statuses == [201] * 16
    assert Order.objects.filter(status=Status.ALLOCATED).count() == 10
    assert Order.objects.filter(status=Status.BACKORDERED).count() == 6
    assert sum(OrderLine.objects.values_list("allocated_quantity", flat=True)) == 10
    balances = StockBalance.objects.filter(product=tee, location__is_sellable=True)
    assert sum(b.allocated for b in balances) == 10
    assert all(b.allocated <= b.on_hand for b in balances)
    assert ledger_differences() == []
