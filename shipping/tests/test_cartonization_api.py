"""The box catalog and cartonization over HTTP (API.md, "Packing")."""

import pytest

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory.tests import factories as inv
from orders.tests.factories import order
from packing.models import Box
from packing.tests.factories import ensure_default_boxes, picked_order
from shipping.models import CarrierAccount

pytestmark = pytest.mark.django_db

MUG = {"sku": "MUG", "length_mm": 120, "width_mm": 100, "height_mm": 100, "weight_g": 400, "quantity": 1}


@pytest.fixture
def world():
    ensure_default_boxes()
    alice, alice_key = tenant_with_key()
    main = inv.warehouse("MAIN")
    west = inv.warehouse("WEST")
    mug = inv.product(alice, "MUG", length_mm=120, width_mm=100, height_mm=100, weight_g=400, fragile=True)
    inv.stock(alice, mug, main, "01-01-1", 20)
    _, manager = staff_with_token(username="max", role="manager", warehouse=main)
    _, associate = staff_with_token(username="sam", role="associate", warehouse=main)
    _, olga = staff_with_token(username="olga", role="manager", warehouse=west)
    return {"alice": alice, "alice_key": alice_key, "manager": manager, "associate": associate, "olga": olga}


def _box(**fields):
    return {
        "code": "TUBE-1",
        "name": "Poster tube",
        "kind": "box",
        "length_mm": 700,
        "width_mm": 80,
        "height_mm": 80,
        "max_weight_g": 2000,
        "tare_weight_g": 120,
        "cost": "0.90",
        **fields,
    }


def test_a_manager_adds_a_box_and_cartonization_can_choose_it(world, api_as):
    response = api_as(world["manager"]).post("/api/v1/boxes/", _box(), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "box" and response.json()["active"] is True
    poster = {"sku": "POSTER", "length_mm": 650, "width_mm": 60, "height_mm": 60, "weight_g": 300, "quantity": 1}
    plan = api_as(world["associate"]).post("/api/v1/cartonization/", {"items": [poster]}, format="json").json()
    assert [p["box"] for p in plan["packages"]] == ["TUBE-1"]


def test_an_associate_cannot_change_the_box_catalog(world, api_as):
    response = api_as(world["associate"]).post("/api/v1/boxes/", _box(), format="json")
    patch = api_as(world["associate"]).patch("/api/v1/boxes/BOX-S/", {"active": False}, format="json")

    assert (response.status_code, patch.status_code) == (403, 403)
    assert not Box.objects.filter(code="TUBE-1").exists()
    assert Box.objects.get(code="BOX-S").is_active


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"length_mm": 0}, "length_mm"),
        ({"kind": "crate"}, "kind"),
        ({"cost": "-1"}, "cost"),
        ({"code": "BOX-S"}, "code"),
    ],
)
def test_a_bad_box_is_refused_and_nothing_is_created(world, api_as, fields, field):
    before = Box.objects.count()

    response = api_as(world["manager"]).post("/api/v1/boxes/", _box(**fields), format="json")

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert Box.objects.count() == before


def test_a_deactivated_box_is_never_chosen(world, api_as):
    first = api_as(world["manager"]).post("/api/v1/cartonization/", {"items": [MUG]}, format="json").json()
    response = api_as(world["manager"]).patch(f"/api/v1/boxes/{first['packages'][0]['box']}/", {"active": False})
    second = api_as(world["manager"]).post("/api/v1/cartonization/", {"items": [MUG]}, format="json").json()

    assert response.status_code == 200 and response.json()["active"] is False
    assert first["packages"][0]["box"] == "BOX-S"
    assert second["packages"][0]["box"] != "BOX-S"
    listed = api_as(world["manager"]).get("/api/v1/boxes/?active=false").json()["results"]
    assert [b["code"] for b in listed] == ["BOX-S"]


def test_cartonization_answers_boxes_weights_and_a_placement_for_every_unit(world, api_as):
    tee = {"sku": "TEE", "length_mm": 250, "width_mm": 200, "height_mm": 20, "weight_g": 200, "quantity": 2}

    response = api_as(world["associate"]).post(
        "/api/v1/cartonization/", {"items": [{**MUG, "quantity": 3}, tee]}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["dim_divisor"] == 5000
    assert body["total_billable_weight_g"] == sum(p["billable_weight_g"] for p in body["packages"])
    placed = sorted(pl["item"] for p in body["packages"] for pl in p["placements"])
    assert placed == [0, 0, 0, 1, 1]
    for package in body["packages"]:
        assert package["billable_weight_g"] == max(package["weight_g"], package["dim_weight_g"])
        for pl in package["placements"]:
            assert pl["x_mm"] + pl["length_mm"] <= package["length_mm"]
            assert pl["y_mm"] + pl["width_mm"] <= package["width_mm"]
            assert pl["z_mm"] + pl["height_mm"] <= package["height_mm"]


def test_an_item_bigger_than_every_box_ships_alone_without_a_box(world, api_as):
    bike = {"sku": "BIKE", "length_mm": 1500, "width_mm": 200, "height_mm": 800, "weight_g": 12000, "quantity": 1}

    body = api_as(world["associate"]).post("/api/v1/cartonization/", {"items": [bike]}, format="json").json()

    assert [(p["box"], p["items"], p["billable_weight_g"]) for p in body["packages"]] == [
        (None, [{"sku": "BIKE", "quantity": 1}], 48000)
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": [{**MUG, "length_mm": 0}]}, "items[0].length_mm"),
        ({"items": [{**MUG, "height_mm": -5}]}, "items[0].height_mm"),
        ({"items": [{**MUG, "quantity": 0}]}, "items[0].quantity"),
        ({"items": [{**MUG, "quantity": 150}, {**MUG, "quantity": 150}]}, "items"),
        ({"items": []}, "items"),
        ({"items": [MUG], "boxes": ["NOPE"]}, "boxes"),
        ({"items": [MUG], "carrier": "nobody"}, "carrier"),
    ],
)
def test_bad_cartonization_input_is_422(world, api_as, body, field):
    response = api_as(world["associate"]).post("/api/v1/cartonization/", body, format="json")

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]


def test_the_carriers_dim_divisor_changes_the_choice(world, api_as):
    ten_mugs = {"items": [{**MUG, "quantity": 10}], "boxes": ["BOX-M", "BOX-L"]}
    CarrierAccount.objects.create(
        carrier_name="generic", carrier_id="heavy", display_name="Weighs only", dim_divisor=1_000_000
    )

    metric = api_as(world["associate"]).post("/api/v1/cartonization/", ten_mugs, format="json").json()
    heavy = (
        api_as(world["associate"])
        .post("/api/v1/cartonization/", {**ten_mugs, "carrier": "heavy"}, format="json")
        .json()
    )

    assert [p["box"] for p in metric["packages"]] == ["BOX-M", "BOX-M"]
    assert [p["box"] for p in heavy["packages"]] == ["BOX-L"]


def test_an_orders_cartonization_follows_its_units_and_rules(world, api_as):
    ordered = order(world["alice"], external_id="C-1", lines=[("MUG", 2)])
    picked = picked_order(world["alice"], external_id="C-2", lines=[("MUG", 2)])

    before = api_as(world["associate"]).get(f"/api/v1/orders/{ordered.pk}/cartonization/")
    after = api_as(world["associate"]).get(f"/api/v1/orders/{picked.pk}/cartonization/")

    assert before.status_code == after.status_code == 200
    for body in (before.json(), after.json()):
        (package,) = body["packages"]
        assert package["items"] == [{"sku": "MUG", "quantity": 2}]
        # The two (fragile) mugs stand side by side on the box's floor.
        assert {pl["z_mm"] for pl in package["placements"]} == {0}


def test_another_warehouses_staff_and_merchants_get_no_order_cartonization(world, api_as):
    ordered = order(world["alice"], external_id="C-3", lines=[("MUG", 1)])

    assert api_as(world["olga"]).get(f"/api/v1/orders/{ordered.pk}/cartonization/").status_code == 404
    assert api_as(world["alice_key"]).get(f"/api/v1/orders/{ordered.pk}/cartonization/").status_code == 403
    assert api_as(world["alice_key"]).post("/api/v1/cartonization/", {"items": [MUG]}, format="json").status_code == 403
