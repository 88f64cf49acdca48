import pytest

from fulfillment.tenancy.services import api_key_create
from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory.tests import factories as inv
from packing.tests.factories import packed_order
from packing.tests.pdf import pdf_text
from shipping.tests.factories import shipped, stocked_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    """Alice and Bob ship from MAIN; Sam works in MAIN, Olga in WEST. Alice has one shipped order."""
    main = inv.warehouse("MAIN")
    west = inv.warehouse("WEST")
    alice = stocked_tenant(main, tenant=TenantFactory(slug="alice"))
    bob = stocked_tenant(main, tenant=TenantFactory(slug="bob"))
    _, alice_key = api_key_create(tenant=alice)
    _, bob_key = api_key_create(tenant=bob)
    _, sam = staff_with_token(username="sam", warehouse=main)
    _, olga = staff_with_token(username="olga", warehouse=west)
    order, shipment = shipped(django_capture_on_commit_callbacks, alice, external_id="A1", lines=[("TEE", 2)])
    return {
        "alice": alice,
        "bob": bob,
        "alice_key": alice_key,
        "bob_key": bob_key,
        "sam": sam,
        "olga": olga,
        "order": order,
        "shipment": shipment,
    }


def test_merchant_sees_the_shipment_with_carrier_rate_labels_packages_and_tracking(world, api_as):
    shipment, order = world["shipment"], world["order"]

    response = api_as(world["alice_key"]).get(f"/api/v1/shipments/{shipment.pk}/")

    assert response.status_code == 200
    body = response.json()
    package = shipment.packages.get()
    assert body == {
        "id": str(shipment.pk),
        "order": str(order.pk),
        "order_number": order.number,
        "warehouse": "MAIN",
        "status": "label_purchased",
        "carrier": "sandbox",
        "service": "standard",
        "tracking_number": shipment.tracking_number,
        "rate": {"amount": "8.28", "currency": "CAD"},
        "estimated_delivery_date": order.promised_delivery_date.isoformat(),
        "packages": [
            {
                "id": str(package.pk),
                "number": 1,
                "box": "BOX-S",
                "weight_g": 650,
                "length_mm": 200,
                "width_mm": 150,
                "height_mm": 100,
                "items": [{"sku": "TEE", "quantity": 2}],
            }
        ],
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "label_url": f"http://testserver/api/v1/shipments/{shipment.pk}/label.pdf",
        "label_zpl_url": f"http://testserver/api/v1/shipments/{shipment.pk}/label.zpl",
        "tracking_events": [
            {
                "code": "label_created",
                "description": "Shipping label created",
                "location": "",
                "occurred_at": body["tracking_events"][0]["occurred_at"],
            }
        ],
    }


def test_list_excludes_other_tenant(world, api_as, django_capture_on_commit_callbacks):
    _, bobs = shipped(django_capture_on_commit_callbacks, world["bob"], external_id="B1", lines=[("MUG", 1)])

    alice_ids = [s["id"] for s in api_as(world["alice_key"]).get("/api/v1/shipments/").json()["results"]]
    bob_ids = [s["id"] for s in api_as(world["bob_key"]).get("/api/v1/shipments/").json()["results"]]

    assert alice_ids == [str(world["shipment"].pk)]
    assert bob_ids == [str(bobs.pk)]


def test_other_tenant_gets_404_on_shipment_detail_and_labels(world, api_as):
    base = f"/api/v1/shipments/{world['shipment'].pk}/"
    bob = api_as(world["bob_key"])

    for url in (base, base + "label.pdf", base + "label.zpl"):
        response = bob.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/problem+json"


def test_staff_see_the_shipments_of_their_warehouses_only(world, api_as):
    shipment = world["shipment"]

    sam_list = api_as(world["sam"]).get("/api/v1/shipments/").json()["results"]
    olga_list = api_as(world["olga"]).get("/api/v1/shipments/").json()["results"]

    assert [s["id"] for s in sam_list] == [str(shipment.pk)]
    assert olga_list == []
    assert api_as(world["olga"]).get(f"/api/v1/shipments/{shipment.pk}/").status_code == 404
    assert api_as(world["olga"]).get(f"/api/v1/shipments/{shipment.pk}/label.pdf").status_code == 404


def test_label_pdf_and_zpl_download(world, api_as):
    shipment = world["shipment"]
    client = api_as(world["sam"])

    pdf = client.get(f"/api/v1/shipments/{shipment.pk}/label.pdf", HTTP_ACCEPT="application/pdf")
    zpl = client.get(f"/api/v1/shipments/{shipment.pk}/label.zpl")

    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF")
    assert f"TRACKING # {shipment.tracking_number}" in pdf_text(pdf.content)
    assert (zpl.status_code, zpl["Content-Type"]) == (200, "application/x-zpl")
    assert zpl.content.decode().startswith("^XA")
    assert f"^FD{shipment.tracking_number}^FS" in zpl.content.decode()


def test_labels_are_404_until_bought(world, api_as):
    # Packed, but the label task has not run yet.
    _, waiting = packed_order(world["alice"], external_id="A2", lines=[("MUG", 1)])
    client = api_as(world["alice_key"])

    detail = client.get(f"/api/v1/shipments/{waiting.pk}/").json()
    pdf = client.get(f"/api/v1/shipments/{waiting.pk}/label.pdf")
    zpl = client.get(f"/api/v1/shipments/{waiting.pk}/label.zpl")

    assert (detail["status"], detail["carrier"], detail["rate"], detail["label_url"], detail["label_zpl_url"]) == (
        "packed",
        "",
        None,
        None,
        None,
    )
    assert (pdf.status_code, zpl.status_code) == (404, 404)
    assert pdf.json()["detail"] == "No label has been bought for this shipment yet."


def test_shipments_filter_by_status_and_order(world, api_as):
    _, waiting = packed_order(world["alice"], external_id="A3", lines=[("MUG", 1)])
    client = api_as(world["alice_key"])

    packed = client.get("/api/v1/shipments/?status=packed").json()["results"]
    by_order = client.get(f"/api/v1/shipments/?order={world['order'].pk}").json()["results"]

    assert [s["id"] for s in packed] == [str(waiting.pk)]
    assert [s["id"] for s in by_order] == [str(world["shipment"].pk)]


def test_shipments_need_authentication(world, api):
    assert api.get("/api/v1/shipments/").status_code == 401
