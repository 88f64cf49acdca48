"""Put-away, moves and dock-to-stock over the API (staff tokens)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory import services
from inventory.models import Receipt, ReceiptStatus, StockBalance, StockMovement
from inventory.tests import factories as inv

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    tenant, key = tenant_with_key(slug="acme")
    wh = inv.warehouse()
    far = inv.warehouse("FAR")
    _, token = staff_with_token(username="ann", role="associate", warehouse=wh)
    _, far_token = staff_with_token(username="bob", role="associate", warehouse=far)
    tee = inv.product(tenant, "TEE")
    asn = services.inbound_create(
        tenant_id=tenant.pk, warehouse=wh, lines=[services.InboundLineInput(sku="TEE", quantity=10)]
    )
    services.inbound_receive(shipment_id=asn.pk, lines=[services.ReceiptLineInput(sku="TEE", quantity=10, lot="L1")])
    receipt = Receipt.objects.get(shipment=asn)
    return {
        "tenant": tenant,
        "key": key,
        "wh": wh,
        "token": token,
        "far_token": far_token,
        "tee": tee,
        "receipt": receipt,
    }


def test_the_put_away_queue_lists_receipts_with_their_suggestion(api_as, world):
    response = api_as(world["token"]).get("/api/v1/receipts/?status=awaiting_put_away")

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert {k: row[k] for k in ("id", "tenant", "warehouse", "sku", "lot", "location", "quantity", "status")} == {
        "id": str(world["receipt"].pk),
        "tenant": "acme",
        "warehouse": "MAIN",
        "sku": "TEE",
        "lot": "L1",
        "location": "RECEIVING",
        "quantity": 10,
        "status": "awaiting_put_away",
    }
    assert row["suggested_location"] == "01-01-1"


def test_staff_of_another_warehouse_see_no_receipts_and_get_404(api_as, world):
    listing = api_as(world["far_token"]).get("/api/v1/receipts/")
    put = api_as(world["far_token"]).post(
        f"/api/v1/receipts/{world['receipt'].pk}/put-away/", {"location_barcode": "01-01-1", "quantity": 10}
    )

    assert listing.json()["results"] == []
    assert put.status_code == 404
    assert StockMovement.objects.filter(reason="put_away").count() == 0


def test_merchants_cannot_see_the_put_away_queue(api_as, world):
    assert api_as(world["key"]).get("/api/v1/receipts/").status_code == 403


def test_put_away_by_scan_completes_the_receipt(api_as, world):
    response = api_as(world["token"]).post(
        f"/api/v1/receipts/{world['receipt'].pk}/put-away/",
        {"location_barcode": "01-02-1", "quantity": 10},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["put_away_quantity"], body["suggested_location"]) == ("put_away", 10, None)
    assert StockBalance.objects.get(product=world["tee"], location__code="01-02-1").on_hand == 10
    assert services.ledger_differences() == []


def test_a_wrong_put_away_scan_is_422_and_changes_nothing(api_as, world):
    response = api_as(world["token"]).post(
        f"/api/v1/receipts/{world['receipt'].pk}/put-away/",
        {"location_barcode": "PACKING", "quantity": 10},
        format="json",
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "location_barcode"
    world["receipt"].refresh_from_db()
    assert (world["receipt"].status, world["receipt"].put_away_quantity) == (ReceiptStatus.AWAITING_PUT_AWAY, 0)
    assert StockBalance.objects.get(product=world["tee"], location__code="RECEIVING").on_hand == 10


def test_putting_away_a_finished_receipt_is_409(api_as, world):
    url = f"/api/v1/receipts/{world['receipt'].pk}/put-away/"
    api_as(world["token"]).post(url, {"location_barcode": "01-02-1", "quantity": 10}, format="json")

    again = api_as(world["token"]).post(url, {"location_barcode": "01-02-1", "quantity": 1}, format="json")

    assert again.status_code == 409


def test_a_manual_move_writes_the_ledger(api_as, world):
    inv.stock(world["tenant"], world["tee"], world["wh"], "01-01-1", 6, lot="L9")

    response = api_as(world["token"]).post(
        "/api/v1/moves/",
        {"tenant": "acme", "sku": "TEE", "from_location": "01-01-1", "to_location": "04-10-2", "quantity": 4},
        format="json",
    )

    assert response.status_code == 201
    assert [(m["lot"], m["from_location"], m["to_location"], m["quantity"], m["reason"]) for m in response.json()] == [
        ("L9", "01-01-1", "04-10-2", 4, "move")
    ]
    assert services.ledger_differences() == []


def test_moving_more_than_is_available_is_422_and_changes_nothing(api_as, world):
    inv.stock(world["tenant"], world["tee"], world["wh"], "01-01-1", 2)

    response = api_as(world["token"]).post(
        "/api/v1/moves/",
        {"tenant": "acme", "sku": "TEE", "from_location": "01-01-1", "to_location": "04-10-2", "quantity": 3},
        format="json",
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "quantity"
    assert StockMovement.objects.filter(reason="move").count() == 0


def test_dock_to_stock_figures_per_warehouse(api_as, world):
    now = timezone.now()
    Receipt.objects.filter(pk=world["receipt"].pk).update(
        received_at=now - timedelta(minutes=50), put_away_at=now - timedelta(minutes=20), status="put_away"
    )

    response = api_as(world["token"]).get("/api/v1/inbound-shipments/dock-to-stock/?warehouse=MAIN&days=7")

    assert response.status_code == 200
    assert response.json() == {
        "warehouse": "MAIN",
        "days": 7,
        "receipts": 1,
        "average_seconds": 1800.0,
        "p90_seconds": 1800.0,
    }


def test_dock_to_stock_of_a_warehouse_not_assigned_is_422(api_as, world):
    response = api_as(world["far_token"]).get("/api/v1/inbound-shipments/dock-to-stock/?warehouse=MAIN")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "warehouse"
