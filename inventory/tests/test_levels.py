"""GET /api/v1/inventory/?detail=lots: per-lot rows that add up to the per-warehouse rows."""

from datetime import date

import pytest

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory import services
from inventory.tests.factories import product, stock, warehouse
from tests.api_clients import place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(django_capture_on_commit_callbacks, api_as):
    """Product A: lot L1 5 units at 01-01-1; lot L2 4 at 01-02-1 and 2 at 01-03-1; an order took 6 (FIFO)."""
    main = warehouse("MAIN")
    tenant, key = tenant_with_key(default_warehouse_code="MAIN")
    item = product(tenant, "A")
    stock(tenant, item, main, "01-01-1", 5, lot="L1")
    stock(tenant, item, main, "01-02-1", 4, lot="L2")
    stock(tenant, item, main, "01-03-1", 2, lot="L2")
    with django_capture_on_commit_callbacks(execute=True):
        placed = place_order(api_as(key), "O-1", [("A", 6)])
    assert api_as(key).get(f"/api/v1/orders/{placed['id']}/").json()["status"] == "allocated"
    return {"tenant": tenant, "key": key, "product": item, "warehouse": main}


def test_lots_detail_gives_exact_rows_per_lot(api_as, stocked):
    response = api_as(stocked["key"]).get("/api/v1/inventory/?detail=lots")
    assert response.status_code == 200
    product_id = str(stocked["product"].pk)
    assert response.json()["lots"] == [
        {
            "sku": "A",
            "product": product_id,
            "warehouse": "MAIN",
            "lot": "L1",
            "expiry_date": None,
            "on_hand": 5,
            "allocated": 5,
            "available": 0,
        },
        {
            "sku": "A",
            "product": product_id,
            "warehouse": "MAIN",
            "lot": "L2",
            "expiry_date": None,
            "on_hand": 6,
            "allocated": 1,
            "available": 5,
        },
    ]
    assert response.json()["results"] == [
        {
            "sku": "A",
            "product": product_id,
            "warehouse": "MAIN",
            "on_hand": 11,
            "allocated": 6,
            "available": 5,
            "backordered": 0,
            "inbound": 0,
        }
    ]


def test_without_detail_there_are_no_lot_rows(api_as, stocked):
    body = api_as(stocked["key"]).get("/api/v1/inventory/").json()
    assert "lots" not in body
    assert len(body["results"]) == 1


def test_expiry_dates_are_shown_per_lot(api_as):
    main = warehouse("MAIN")
    tenant, key = tenant_with_key()
    product(tenant, "MILK", lot_tracked=True, expiry_tracked=True)
    shipment = services.inbound_create(
        tenant_id=tenant.pk, warehouse=main, lines=[services.InboundLineInput(sku="MILK", quantity=3)]
    )
    services.inbound_receive(
        shipment_id=shipment.pk,
        lines=[
            services.ReceiptLineInput(
                sku="MILK", quantity=3, location="01-01-1", lot="B7", expiry_date=date(2031, 5, 1)
            )
        ],
    )
    lots = api_as(key).get("/api/v1/inventory/?detail=lots").json()["lots"]
    assert [(r["lot"], r["expiry_date"], r["on_hand"], r["available"]) for r in lots] == [("B7", "2031-05-01", 3, 3)]


def test_sku_and_warehouse_filters_narrow_both_lists(api_as, stocked):
    tenant = stocked["tenant"]
    other_wh = warehouse("EAST")
    b = product(tenant, "B")
    stock(tenant, b, other_wh, "01-01-1", 7, lot="LB")
    stock(tenant, stocked["product"], other_wh, "01-01-2", 3, lot="L9")
    client = api_as(stocked["key"])

    by_sku = client.get("/api/v1/inventory/?detail=lots&sku=B").json()
    assert [(r["sku"], r["warehouse"]) for r in by_sku["results"]] == [("B", "EAST")]
    assert [(r["sku"], r["lot"], r["on_hand"]) for r in by_sku["lots"]] == [("B", "LB", 7)]

    by_wh = client.get("/api/v1/inventory/?detail=lots&warehouse=east").json()
    assert [(r["sku"], r["warehouse"], r["on_hand"]) for r in by_wh["results"]] == [("A", "EAST", 3), ("B", "EAST", 7)]
    assert [(r["sku"], r["lot"], r["warehouse"]) for r in by_wh["lots"]] == [("A", "L9", "EAST"), ("B", "LB", "EAST")]

    both = client.get("/api/v1/inventory/?detail=lots&warehouse=MAIN&sku=B").json()
    assert both["results"] == [] and both["lots"] == []


def test_list_excludes_other_tenant(api_as, stocked):
    other, other_key = tenant_with_key()
    theirs = product(other, "A")
    stock(other, theirs, stocked["warehouse"], "01-04-1", 9, lot="X")
    lots = api_as(stocked["key"]).get("/api/v1/inventory/?detail=lots").json()["lots"]
    assert {r["lot"] for r in lots} == {"L1", "L2"}
    their_lots = api_as(other_key).get("/api/v1/inventory/?detail=lots").json()["lots"]
    assert [(r["lot"], r["on_hand"]) for r in their_lots] == [("X", 9)]


def test_staff_see_lots_of_their_warehouses_only(api_as, stocked):
    east = warehouse("EAST")
    stock(stocked["tenant"], stocked["product"], east, "01-01-1", 4, lot="LE")
    _, token = staff_with_token(username="east-mgr", warehouse=east)
    lots = api_as(token).get("/api/v1/inventory/?detail=lots").json()["lots"]
    assert [(r["warehouse"], r["lot"], r["on_hand"]) for r in lots] == [("EAST", "LE", 4)]
