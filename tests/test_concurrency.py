"""Concurrent allocators never oversell (PostgreSQL: real row locks, real threads)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from rest_framework.test import APIClient

from fulfillment.tenancy.tests.factories import tenant_with_key
from inventory.models import StockBalance
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders.models import Order, OrderAllocation, OrderLine, Status
from orders.tests.factories import order_payload
from tests.threads import race

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_sixteen_clients_ordering_the_last_ten_units_get_exactly_ten_allocated():
    tenant, key = tenant_with_key(slug="race")
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE")
    # The last 10 units, spread over two locations and two lots.
    inv.stock(tenant, tee, wh, "01-01-1", 6, lot="L1")
    inv.stock(tenant, tee, wh, "02-01-1", 4, lot="L2")
    bodies = [order_payload(f"RACE-{n}", lines=[{"sku": "TEE", "quantity": 1}]) for n in range(16)]
    outcomes = race([_poster(key, body) for body in bodies])
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    statuses = [o for o in outcomes if not isinstance(o, BaseException)]

    assert errors == []
    assert statuses == [201] * 16
    assert Order.objects.filter(status=Status.ALLOCATED).count() == 10
    assert Order.objects.filter(status=Status.BACKORDERED).count() == 6
    assert sum(OrderLine.objects.values_list("allocated_quantity", flat=True)) == 10
    balances = StockBalance.objects.filter(product=tee, location__is_sellable=True)
    assert sum(b.allocated for b in balances) == 10
    assert all(b.allocated <= b.on_hand for b in balances)
    assert ledger_differences() == []


def _order_concurrently(key: str, bodies: list[dict]) -> list[int]:
    """Each body POSTed by its own client (thread, database connection), all released at once."""
    posters = [_poster(key, body) for body in bodies]
    outcomes = race([lambda n=n: (n, posters[n]()) for n in range(len(bodies))], timeout=120)
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    return [status for _, status in sorted(outcomes, key=lambda o: o[0])]


def _poster(key: str, body: dict):
    """A client of its own that POSTs ``body`` as an order and answers the status code."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return lambda: client.post("/api/v1/orders/", body, format="json").status_code


def _assert_no_oversell_no_undersell(products) -> dict:
    """Allocations match the balances, no balance is oversold, every order is whole (ship
    complete), and no backordered order would fit in the stock left over. Returns available per
    product."""
    balances = StockBalance.objects.filter(product__in=products, location__is_sellable=True)
    by_balance = dict(
        OrderAllocation.objects.filter(released=False)
        .values("balance_id")
        .annotate(units=Sum("quantity"))
        .values_list("balance_id", "units")
    )
    for balance in balances:
        assert balance.allocated == by_balance.get(balance.pk, 0), balance
        assert 0 <= balance.allocated <= balance.on_hand, balance
    assert set(by_balance) <= {b.pk for b in balances}
    available = {p.pk: 0 for p in products}
    for balance in balances:
        available[balance.product_id] += balance.on_hand - balance.allocated
    for line in OrderLine.objects.select_related("order").annotate(units=Sum("allocations__quantity")):
        if line.order.status == Status.ALLOCATED:
            assert line.allocated_quantity == line.units == line.quantity, line
        else:
            assert line.order.status == Status.BACKORDERED, line.order.status
            assert line.allocated_quantity == 0 and not line.units, line
    for order in Order.objects.filter(status=Status.BACKORDERED).prefetch_related("lines"):
        need: dict = {}
        for line in order.lines.all():
            need[line.product_id] = need.get(line.product_id, 0) + line.quantity
        assert any(units > available[product] for product, units in need.items()), (
            f"undersold: backordered {order.external_id} needs {need}, available {available}"
        )
    out = StringIO()
    call_command("check_ledger", stdout=out)
    assert out.getvalue().strip() == "ledger ok"
    return available


def test_twenty_four_clients_ordering_scarce_stock_allocate_exactly_the_stock_in_whole_orders():
    tenant, key = tenant_with_key(slug="scarce")
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE")
    # 17 units for a demand of 24, over three locations and lots.
    inv.stock(tenant, tee, wh, "01-01-1", 7, lot="L1")
    inv.stock(tenant, tee, wh, "02-01-1", 6, lot="L2")
    inv.stock(tenant, tee, wh, "03-01-1", 4, lot="L3")
    bodies = [order_payload(f"SCARCE-{n}", lines=[{"sku": "TEE", "quantity": 1}]) for n in range(24)]

    statuses = _order_concurrently(key, bodies)

    assert statuses == [201] * 24
    assert Order.objects.filter(status=Status.ALLOCATED).count() == 17
    assert Order.objects.filter(status=Status.BACKORDERED).count() == 7
    assert OrderAllocation.objects.aggregate(units=Sum("quantity"))["units"] == 17 == min(17, 24)
    assert _assert_no_oversell_no_undersell([tee]) == {tee.pk: 0}


def test_twenty_four_clients_ordering_two_scarce_products_in_mixed_sizes_leave_nothing_over_or_undersold():
    tenant, key = tenant_with_key(slug="mixed")
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE")
    cap = inv.product(tenant, "CAP")
    inv.stock(tenant, tee, wh, "01-01-1", 9, lot="L1")
    inv.stock(tenant, tee, wh, "02-01-1", 8, lot="L2")
    inv.stock(tenant, cap, wh, "03-01-1", 11)
    bodies = []
    for n in range(24):
        lines = [{"sku": "TEE", "quantity": 1 + n % 3}]
        if n % 2:
            lines.append({"sku": "CAP", "quantity": 1 + n % 4})
        bodies.append(order_payload(f"MIXED-{n}", lines=lines))
    demand_tee = sum(1 + n % 3 for n in range(24))
    assert demand_tee > 17

    statuses = _order_concurrently(key, bodies)

    assert statuses == [201] * 24
    available = _assert_no_oversell_no_undersell([tee, cap])
    allocated_tee = OrderAllocation.objects.filter(line__product=tee).aggregate(units=Sum("quantity"))["units"]
    assert allocated_tee + available[tee.pk] == 17
    assert Order.objects.filter(status=Status.ALLOCATED).count() >= 1
    assert Order.objects.filter(status=Status.BACKORDERED).count() >= 1
