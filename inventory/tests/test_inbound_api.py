"""ASN API: receiving with damaged units and default location, discrepancies for the merchant, closing, CSV upload."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory import services
from inventory.models import InboundDiscrepancy, InboundShipment, InboundStatus, Receipt, StockMovement
from inventory.tests import factories as inv

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    tenant, key = tenant_with_key(slug="acme")
    other, other_key = tenant_with_key(slug="globex")
    wh = inv.warehouse()
    _, token = staff_with_token(username="ann", role="associate", warehouse=wh)
    for sku in ("TEE", "MUG", "CAP"):
        inv.product(tenant, sku)
    asn = services.inbound_create(
        tenant_id=tenant.pk,
        warehouse=wh,
        reference="PO-1",
        lines=[services.InboundLineInput(sku="TEE", quantity=10), services.InboundLineInput(sku="MUG", quantity=5)],
    )
    return {"tenant": tenant, "key": key, "other_key": other_key, "wh": wh, "token": token, "asn": asn}


def _receive(api_as, world, lines):
    return api_as(world["token"]).post(
        f"/api/v1/inbound-shipments/{world['asn'].pk}/receive/", {"lines": lines}, format="json"
    )


def test_receiving_defaults_to_receiving_and_shows_received_and_damaged_per_line(api_as, world):
    response = _receive(api_as, world, [{"sku": "TEE", "quantity": 9, "damaged_quantity": 1}])

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "partially_received"
    assert [(ln["sku"], ln["quantity"], ln["received_quantity"], ln["damaged_quantity"]) for ln in body["lines"]] == [
        ("TEE", 10, 9, 1),
        ("MUG", 5, 0, 0),
    ]
    assert body["discrepancies"] == [{"sku": "TEE", "kind": "damaged", "quantity": 1, "note": "moved to QUARANTINE"}]
    assert Receipt.objects.get().location.code == "RECEIVING"


def test_the_merchant_sees_over_short_damaged_and_unexpected_discrepancies(api_as, world):
    _receive(
        api_as,
        world,
        [
            {"sku": "TEE", "quantity": 11, "damaged_quantity": 1},
            {"sku": "MUG", "quantity": 3},
            {"sku": "CAP", "quantity": 2},
        ],
    )
    closed = api_as(world["token"]).post(f"/api/v1/inbound-shipments/{world['asn'].pk}/close/")
    assert closed.status_code == 200

    response = api_as(world["key"]).get(f"/api/v1/inbound-shipments/{world['asn'].pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "received"
    assert sorted((d["sku"], d["kind"], d["quantity"]) for d in body["discrepancies"]) == [
        ("CAP", "unexpected", 2),
        ("MUG", "short", 2),
        ("TEE", "damaged", 1),
        ("TEE", "over", 2),
    ]
    assert [(ln["sku"], ln["quantity"], ln["received_quantity"]) for ln in body["lines"]] == [
        ("TEE", 10, 11),
        ("MUG", 5, 3),
        ("CAP", 0, 2),
    ]


def test_another_tenant_gets_404_for_the_asn_and_its_discrepancies(api_as, world):
    _receive(api_as, world, [{"sku": "TEE", "quantity": 12}])

    detail = api_as(world["other_key"]).get(f"/api/v1/inbound-shipments/{world['asn'].pk}/")
    listing = api_as(world["other_key"]).get("/api/v1/inbound-shipments/")

    assert detail.status_code == 404
    assert listing.json()["results"] == []


def test_merchants_cannot_receive_or_close(api_as, world):
    receive = api_as(world["key"]).post(
        f"/api/v1/inbound-shipments/{world['asn'].pk}/receive/",
        {"lines": [{"sku": "TEE", "quantity": 1}]},
        format="json",
    )
    close = api_as(world["key"]).post(f"/api/v1/inbound-shipments/{world['asn'].pk}/close/")

    assert (receive.status_code, close.status_code) == (403, 403)
    assert StockMovement.objects.count() == 0
    world["asn"].refresh_from_db()
    assert world["asn"].status == InboundStatus.EXPECTED


def test_closing_a_received_asn_is_409_and_adds_nothing(api_as, world):
    api_as(world["token"]).post(f"/api/v1/inbound-shipments/{world['asn'].pk}/close/")

    again = api_as(world["token"]).post(f"/api/v1/inbound-shipments/{world['asn'].pk}/close/")

    assert again.status_code == 409
    assert InboundDiscrepancy.objects.count() == 2


def test_a_receipt_line_without_any_unit_is_422(api_as, world):
    response = _receive(api_as, world, [{"sku": "TEE", "quantity": 0}])

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "lines[0].quantity"
    assert StockMovement.objects.count() == 0


# -- CSV upload ------------------------------------------------------------------------------


def _upload(api_as, key, content: str, *, dry_run=False, warehouse="MAIN"):
    url = "/api/v1/inbound-shipments/import/" + ("?dry_run=1" if dry_run else "")
    upload = SimpleUploadedFile("asn.csv", content.encode(), content_type="text/csv")
    return api_as(key).post(
        url, {"file": upload, "warehouse": warehouse, "reference": "PO-9", "expected_at": "2026-12-01T09:00:00Z"}
    )


GOOD = "sku,quantity,lot,expiry_date\nTEE,10,L1,2027-01-31\nMUG,4,,\n"
BAD = "sku,quantity,lot,expiry_date\nTEE,10,,\nNOPE,3,,\nMUG,-1,,2027-02-30\n"


def test_a_csv_dry_run_previews_the_lines_and_creates_nothing(api_as, world):
    response = _upload(api_as, world["key"], GOOD, dry_run=True)

    assert response.status_code == 200
    assert response.json() == {
        "dry_run": True,
        "valid": True,
        "lines": [
            {"sku": "TEE", "quantity": 10, "lot": "L1", "expiry_date": "2027-01-31"},
            {"sku": "MUG", "quantity": 4, "lot": "", "expiry_date": None},
        ],
        "errors": [],
    }
    assert InboundShipment.objects.count() == 1


def test_a_csv_dry_run_reports_row_errors_and_creates_nothing(api_as, world):
    response = _upload(api_as, world["key"], BAD, dry_run=True)

    assert response.status_code == 200
    assert response.json()["valid"] is False
    assert response.json()["errors"] == [
        {"row": 3, "field": "sku", "message": "unknown SKU NOPE"},
        {"row": 4, "field": "quantity", "message": "must be a positive whole number"},
        {"row": 4, "field": "expiry_date", "message": "must be a date YYYY-MM-DD"},
    ]
    assert InboundShipment.objects.count() == 1


def test_a_csv_with_a_bad_row_creates_nothing(api_as, world):
    response = _upload(api_as, world["key"], BAD)

    assert response.status_code == 422
    assert response.json()["errors"][0] == {"row": 3, "field": "sku", "message": "unknown SKU NOPE"}
    assert InboundShipment.objects.count() == 1


def test_a_valid_csv_creates_the_asn(api_as, world):
    response = _upload(api_as, world["key"], GOOD)

    assert response.status_code == 201
    body = response.json()
    assert (body["warehouse"], body["reference"], body["expected_at"], body["status"]) == (
        "MAIN",
        "PO-9",
        "2026-12-01T09:00:00Z",
        "expected",
    )
    assert [(ln["sku"], ln["quantity"], ln["lot"], ln["expiry_date"]) for ln in body["lines"]] == [
        ("TEE", 10, "L1", "2027-01-31"),
        ("MUG", 4, "", None),
    ]
    assert InboundShipment.objects.filter(tenant=world["tenant"]).count() == 2


def test_a_csv_for_an_unknown_warehouse_is_422(api_as, world):
    response = _upload(api_as, world["key"], GOOD, warehouse="NOPE")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "warehouse"
    assert InboundShipment.objects.count() == 1


def test_a_csv_without_the_quantity_column_is_refused(api_as, world):
    response = _upload(api_as, world["key"], "sku\nTEE\n")

    assert response.status_code == 422
    assert response.json()["errors"] == [{"row": 1, "field": "header", "message": "missing column(s): quantity"}]


def test_staff_cannot_upload_asns(api_as, world):
    response = _upload(api_as, world["token"], GOOD)

    assert response.status_code == 403
    assert InboundShipment.objects.count() == 1
