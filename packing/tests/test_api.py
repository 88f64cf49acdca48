import pytest

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory.tests import factories as inv
from orders.models import OrderEvent, Status
from orders.services import order_allocate
from orders.tests.factories import order
from packing.models import Package, Shipment
from packing.tests.factories import picked_order
from packing.tests.pdf import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Alice's shop and Bob's shop in MAIN; Sam packs in MAIN, Olga works in another warehouse."""
    alice, alice_key = tenant_with_key()
    bob, bob_key = tenant_with_key()
    main = inv.warehouse("MAIN")
    other = inv.warehouse("WEST")
    for tenant in (alice, bob):
        tee = inv.product(tenant, "TEE", name="Red tee, size M")
        mug = inv.product(tenant, "MUG", length_mm=120, width_mm=100, height_mm=100, weight_g=400)
        inv.stock(tenant, tee, main, "01-01-1", 10)
        inv.stock(tenant, mug, main, "01-02-1", 10)
    _, sam_token = staff_with_token(username="sam", role="associate", warehouse=main)
    _, olga_token = staff_with_token(username="olga", role="manager", warehouse=other)
    return {"alice": alice, "alice_key": alice_key, "bob_key": bob_key, "sam": sam_token, "olga": olga_token}


def _url(order_obj, suffix="pack/"):
    return f"/api/v1/orders/{order_obj.pk}/{suffix}"


def test_pack_with_no_body_uses_cartonization_and_answers_the_shipment(world, api_as):
    picked = picked_order(world["alice"], external_id="A1", lines=[("TEE", 2)])

    response = api_as(world["sam"]).post(_url(picked))

    assert response.status_code == 201, response.json()
    body = response.json()
    shipment = Shipment.objects.get()
    assert body["id"] == str(shipment.pk)
    assert (body["order"], body["order_number"], body["warehouse"]) == (str(picked.pk), picked.number, "MAIN")
    assert body["packages"] == [
        {
            "id": str(shipment.packages.get().pk),
            "number": 1,
            "box": "BOX-S",
            "weight_g": 650,
            "length_mm": 200,
            "width_mm": 150,
            "height_mm": 100,
            "items": [{"sku": "TEE", "quantity": 2}],
            "tracking_number": "",
        }
    ]
    assert body["status"] == "packed"
    picked.refresh_from_db()
    assert picked.status == Status.PACKED


def test_pack_with_packages_records_them(world, api_as):
    picked = picked_order(world["alice"], external_id="A2", lines=[("TEE", 1), ("MUG", 1)])

    response = api_as(world["sam"]).post(
        _url(picked),
        {
            "packages": [
                {"box": "BOX-S", "weight_g": 500, "items": [{"sku": "MUG", "quantity": 1}]},
                {"box": "MAILER-L", "weight_g": 300, "items": [{"sku": "TEE", "quantity": 1}]},
            ]
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert [(p["box"], p["weight_g"], p["items"]) for p in response.json()["packages"]] == [
        ("BOX-S", 500, [{"sku": "MUG", "quantity": 1}]),
        ("MAILER-L", 300, [{"sku": "TEE", "quantity": 1}]),
    ]


def test_pack_refuses_an_order_that_is_not_picked_with_409_and_changes_nothing(world, api_as):
    allocated = order(world["alice"], external_id="A3", lines=[("TEE", 1)])
    order_allocate(order_id=allocated.pk)
    events = OrderEvent.objects.filter(order=allocated).count()

    response = api_as(world["sam"]).post(_url(allocated))

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "An order in allocated cannot be packed; it must be picked."
    allocated.refresh_from_db()
    assert allocated.status == Status.ALLOCATED
    assert OrderEvent.objects.filter(order=allocated).count() == events
    assert Shipment.objects.count() == 0


def test_pack_twice_is_409_the_second_time(world, api_as):
    picked = picked_order(world["alice"], external_id="A4", lines=[("TEE", 1)])
    assert api_as(world["sam"]).post(_url(picked)).status_code == 201

    response = api_as(world["sam"]).post(_url(picked))

    assert response.status_code == 409
    assert (Shipment.objects.count(), Package.objects.count()) == (1, 1)


def test_pack_with_items_that_do_not_match_the_picked_ones_is_422_and_creates_nothing(world, api_as):
    picked = picked_order(world["alice"], external_id="A5", lines=[("TEE", 2)])

    response = api_as(world["sam"]).post(
        _url(picked),
        {
            "packages": [
                {
                    "box": "BOX-M",
                    "weight_g": 700,
                    "items": [{"sku": "TEE", "quantity": 1}, {"sku": "MUG", "quantity": 1}],
                }
            ]
        },
        format="json",
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "packages[0].items[1].sku", "code": "not_picked", "message": "SKU MUG was not picked for this order"}
    ]
    picked.refresh_from_db()
    assert picked.status == Status.PICKED
    assert (Shipment.objects.count(), Package.objects.count()) == (0, 0)


def test_pack_with_short_quantities_is_422_and_creates_nothing(world, api_as):
    picked = picked_order(world["alice"], external_id="A6", lines=[("TEE", 2)])

    response = api_as(world["sam"]).post(
        _url(picked), {"packages": [{"box": "BOX-M", "items": [{"sku": "TEE", "quantity": 1}]}]}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "packages", "code": "quantity_mismatch", "message": "SKU TEE: 1 packed but 2 picked"}
    ]
    assert Shipment.objects.count() == 0


def test_pack_with_malformed_packages_is_422_with_field_paths(world, api_as):
    picked = picked_order(world["alice"], external_id="A7", lines=[("TEE", 2)])

    response = api_as(world["sam"]).post(
        _url(picked),
        {"packages": [{"box": "BOX-M", "items": [{"sku": "TEE", "quantity": 0}]}, {"items": []}]},
        format="json",
    )

    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["errors"]) == [
        "packages[0].items[0].quantity",
        "packages[1].box",
        "packages[1].items",
    ]
    assert Shipment.objects.count() == 0


def test_pack_needs_a_staff_token(world, api_as):
    picked = picked_order(world["alice"], external_id="A8", lines=[("TEE", 1)])

    response = api_as(world["alice_key"]).post(_url(picked))

    assert response.status_code == 403
    assert Shipment.objects.count() == 0


def test_staff_of_another_warehouse_gets_404_on_pack(world, api_as):
    picked = picked_order(world["alice"], external_id="A9", lines=[("TEE", 1)])

    response = api_as(world["olga"]).post(_url(picked))

    assert response.status_code == 404
    picked.refresh_from_db()
    assert picked.status == Status.PICKED


def test_pack_with_the_same_idempotency_key_replays_the_first_answer(world, api_as):
    picked = picked_order(world["alice"], external_id="A10", lines=[("TEE", 1)])
    client = api_as(world["sam"])

    first = client.post(_url(picked), HTTP_IDEMPOTENCY_KEY="pack-A10")
    second = client.post(_url(picked), HTTP_IDEMPOTENCY_KEY="pack-A10")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Shipment.objects.count() == 1


def test_packing_slip_is_a_pdf_with_the_order_number_ship_to_and_lines(world, api_as):
    picked = picked_order(world["alice"], external_id="A11", lines=[("TEE", 2), ("MUG", 1)])

    for key in (world["sam"], world["alice_key"]):
        response = api_as(key).get(_url(picked, "packing-slip.pdf"))

        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        text = pdf_text(response.content)
        assert f"Order {picked.number}" in text
        assert {
            "Ada Lovelace",
            "123 King St W",
            "Toronto ON M5H 1A1",
            "TEE",
            "MUG",
            "Red tee, size M",
            "2",
            "1",
        } <= set(text)


def test_other_tenant_gets_404_on_the_packing_slip(world, api_as):
    picked = picked_order(world["alice"], external_id="A12", lines=[("TEE", 1)])

    response = api_as(world["bob_key"]).get(_url(picked, "packing-slip.pdf"), HTTP_ACCEPT="application/pdf")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_staff_of_another_warehouse_gets_404_on_the_packing_slip(world, api_as):
    picked = picked_order(world["alice"], external_id="A13", lines=[("TEE", 1)])

    assert api_as(world["olga"]).get(_url(picked, "packing-slip.pdf")).status_code == 404


def test_boxes_lists_the_catalog_for_staff_only(world, api_as):
    response = api_as(world["sam"]).get("/api/v1/boxes/")

    assert response.status_code == 200
    assert [b["code"] for b in response.json()["results"]] == [
        "BOX-L",
        "BOX-M",
        "BOX-S",
        "CARTON-XL",
        "MAILER-L",
        "MAILER-S",
    ]
    assert response.json()["results"][2] == {
        "id": response.json()["results"][2]["id"],
        "code": "BOX-S",
        "name": "Small box",
        "kind": "box",
        "length_mm": 200,
        "width_mm": 150,
        "height_mm": 100,
        "max_weight_g": 5000,
        "tare_weight_g": 150,
        "cost": "0.45",
        "currency": "USD",
        "recyclable": True,
        "active": True,
    }
    assert api_as(world["alice_key"]).get("/api/v1/boxes/").status_code == 403
