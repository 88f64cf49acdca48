import pytest

from fulfillment.tenancy.services import api_key_create
from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory.tests import factories as inv
from packing.tests.factories import packed_order
from shipping import services
from shipping.models import CarrierService, LabelPurchase
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
    assert {k: body[k] for k in ["id", "order", "order_number", "warehouse", "status", "carrier", "service"]} == {
        "id": str(shipment.pk),
        "order": str(order.pk),
        "order_number": order.number,
        "warehouse": "MAIN",
        "status": "label_purchased",
        "carrier": "demo-post",
        "service": "standard",
    }
    assert body["tracking_number"] == shipment.tracking_number
    assert body["rate"] == {"amount": "9.50", "currency": "CAD"}
    assert body["estimated_delivery_date"] <= order.promised_delivery_date.isoformat()
    assert body["packages"] == [
        {
            "id": str(package.pk),
            "number": 1,
            "box": "BOX-S",
            "weight_g": 650,
            "length_mm": 200,
            "width_mm": 150,
            "height_mm": 100,
            "items": [{"sku": "TEE", "quantity": 2}],
            "tracking_number": shipment.tracking_number,
        }
    ]
    assert body["label_url"] == f"http://testserver/api/v1/shipments/{shipment.pk}/label.pdf"
    assert body["label_zpl_url"] == f"http://testserver/api/v1/shipments/{shipment.pk}/label.zpl"
    assert [(e["status"], e["code"]) for e in body["events"]] == [("pending", "label_created")]
    assert (body["tracking_status"], body["delayed"], body["tracking_reason"]) == ("pending", False, "")
    assert body["tracking_url"] == f"http://testserver/track/{shipment.public_token}/"
    chosen = body["rate_shop"]["quotes"][body["rate_shop"]["chosen"]]
    assert (chosen["carrier"], chosen["service"], chosen["keeps_promise"]) == ("demo-post", "standard", True)
    assert body["rate_shop"]["reason"]
    assert [(p["status"], p["tracking_numbers"]) for p in body["label_purchases"]] == [
        ("bought", [shipment.tracking_number])
    ]
    assert body["exception"] is None


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
    assert (zpl.status_code, zpl["Content-Type"]) == (200, "application/x-zpl")
    assert zpl.content.decode().startswith("^XA")
    assert f"^FDTRACKING # {shipment.tracking_number}^FS" in zpl.content.decode()
    assert f"^FD{shipment.tracking_number}^FS" in zpl.content.decode()  # the barcode


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


# -- rates, purchase, void, tracking events, exceptions, end of day ------------------------------


def test_rates_list_every_quote_cheapest_first_with_the_choice(world, api_as):
    _, waiting = packed_order(world["alice"], external_id="A4", lines=[("MUG", 1)])

    response = api_as(world["sam"]).get(f"/api/v1/shipments/{waiting.pk}/rates/")

    assert response.status_code == 200
    body = response.json()
    totals = [float(q["total_charge"]) for q in body["results"]]
    assert totals == sorted(totals) and len(totals) == 2  # standard and express of demo-post
    assert body["chosen"]["service"] == "standard" and body["reason"]
    assert {"carrier", "carrier_account", "service", "total_charge", "currency", "transit_days"} <= set(
        body["results"][0]
    )
    assert api_as(world["alice_key"]).get(f"/api/v1/shipments/{waiting.pk}/rates/").status_code == 403
    assert api_as(world["olga"]).get(f"/api/v1/shipments/{waiting.pk}/rates/").status_code == 404


def test_purchase_buys_the_named_quote_and_a_second_purchase_is_409(world, api_as):
    _, waiting = packed_order(world["alice"], external_id="A5", lines=[("MUG", 1)])
    client = api_as(world["sam"])
    account = client.get("/api/v1/carrier-accounts/").json()["results"][0]["id"]

    bought = client.post(
        f"/api/v1/shipments/{waiting.pk}/purchase/", {"carrier_account": account, "service": "express"}, format="json"
    )
    again = client.post(f"/api/v1/shipments/{waiting.pk}/purchase/", {}, format="json")

    assert bought.status_code == 201
    assert (bought.json()["service"], bought.json()["status"]) == ("express", "label_purchased")
    assert again.status_code == 409 and again["Content-Type"] == "application/problem+json"
    assert LabelPurchase.objects.filter(shipment=waiting).count() == 1


def test_purchase_of_a_service_that_cannot_carry_the_parcel_is_422_and_buys_nothing(world, api_as):
    _, waiting = packed_order(world["alice"], external_id="A6", lines=[("MUG", 1)])
    CarrierService.objects.filter(service_code="express").update(max_weight_g=100)

    response = api_as(world["sam"]).post(
        f"/api/v1/shipments/{waiting.pk}/purchase/", {"service": "express"}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "service"
    waiting.refresh_from_db()
    assert (waiting.status, waiting.has_label) == ("packed", False)
    assert not LabelPurchase.objects.filter(shipment=waiting).exists()


def test_void_then_rebuy_through_the_api(world, api_as):
    shipment, order = world["shipment"], world["order"]
    client = api_as(world["sam"])

    voided = client.post(f"/api/v1/shipments/{shipment.pk}/void/")
    second_void = client.post(f"/api/v1/shipments/{shipment.pk}/void/")
    rebought = client.post(f"/api/v1/shipments/{shipment.pk}/purchase/", {}, format="json")

    assert voided.status_code == 200
    assert (voided.json()["status"], voided.json()["tracking_number"], voided.json()["label_url"]) == (
        "packed",
        "",
        None,
    )
    assert second_void.status_code == 409
    assert rebought.status_code == 201 and rebought.json()["tracking_number"] != shipment.tracking_number
    order.refresh_from_db()
    assert order.status == "shipped"


def test_tracking_events_are_normalised_and_a_duplicate_is_200(world, api_as):
    shipment = world["shipment"]
    client = api_as(world["sam"])
    url = f"/api/v1/shipments/{shipment.pk}/tracking-events/"
    body = {"code": "picked_up", "occurred_at": "2026-03-03T15:00:00Z", "location": "Mississauga ON"}

    first = client.post(url, body, format="json")
    again = client.post(url, body, format="json")
    unknown = client.post(url, {**body, "code": "teleported"}, format="json")

    assert first.status_code == 201 and first.json()["shipment"]["status"] == "in_transit"
    assert first.json()["shipment"]["tracking_status"] == "picked_up"
    # oldest first: the scan (3 March) came before this label was bought (the wall clock of the set-up)
    assert [e["status"] for e in first.json()["shipment"]["events"]] == ["picked_up", "pending"]
    assert again.status_code == 200 and again.json()["added"] == 0
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "code"


def test_end_of_day_through_the_api_with_its_pdf(world, api_as):
    client = api_as(world["sam"])

    closed = client.post("/api/v1/manifests/", {"warehouse": "MAIN", "carrier_account": "demo-post"}, format="json")
    nothing_left = client.post(
        "/api/v1/manifests/", {"warehouse": "MAIN", "carrier_account": "demo-post"}, format="json"
    )
    unknown = client.post("/api/v1/manifests/", {"warehouse": "MAIN", "carrier_account": "nobody"}, format="json")

    assert closed.status_code == 201
    body = closed.json()
    assert (body["shipments_count"], body["carrier"]) == (1, "demo-post")
    assert body["shipments"][0]["tracking_numbers"] == [world["shipment"].tracking_number]
    pdf = client.get(f"/api/v1/manifests/{body['id']}/manifest.pdf", HTTP_ACCEPT="application/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert nothing_left.status_code == 409
    assert unknown.status_code == 422
    assert api_as(world["olga"]).get(f"/api/v1/manifests/{body['id']}/").status_code == 404


def test_the_exceptions_queue_lists_and_retries(world, api_as, django_capture_on_commit_callbacks):
    _, waiting = packed_order(world["alice"], external_id="A7", lines=[("MUG", 1)], shipping_method="same_day")
    CarrierService.objects.filter(level="same_day").update(active=False)
    services.shipment_purchase_label(shipment_id=waiting.pk)
    client = api_as(world["sam"])

    listed = client.get("/api/v1/shipping-exceptions/").json()["results"]
    assert [(e["shipment"], e["code"]) for e in listed] == [(str(waiting.pk), "no_quote")]
    CarrierService.objects.filter(level="same_day").update(active=True)
    with django_capture_on_commit_callbacks(execute=True):
        retried = client.post(f"/api/v1/shipping-exceptions/{listed[0]['id']}/retry/")

    assert retried.status_code == 202
    waiting.refresh_from_db()
    assert waiting.has_label
    assert client.get("/api/v1/shipping-exceptions/").json()["results"] == []
    assert api_as(world["olga"]).get("/api/v1/shipping-exceptions/").json()["results"] == []
