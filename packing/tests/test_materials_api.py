import pytest

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory.tests import factories as inv
from packing import services
from packing.models import Material, MaterialAlert, MaterialBalance, MaterialMovement

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """MAIN, where Mia manages and Sam packs; WEST, where Olga manages; Alice is a merchant."""
    main, west = inv.warehouse("MAIN"), inv.warehouse("WEST")
    _, alice_key = tenant_with_key()
    _, mia = staff_with_token(username="mia", role="manager", warehouse=main)
    _, sam = staff_with_token(username="sam", role="associate", warehouse=main)
    _, olga = staff_with_token(username="olga", role="manager", warehouse=west)
    services.material_create(code="M-BOX-S", name="Small box", kind="box", box_code="BOX-S", reorder_point=5)
    services.material_receive(warehouse_id=main.pk, material_code="M-BOX-S", quantity=4, actor="mia")
    services.material_receive(warehouse_id=west.pk, material_code="M-BOX-S", quantity=50, actor="olga")
    return {"main": main, "west": west, "alice": alice_key, "mia": mia, "sam": sam, "olga": olga}


def _state():
    return (
        list(Material.objects.order_by("code").values_list("code", flat=True)),
        sorted(MaterialBalance.objects.values_list("warehouse__code", "on_hand")),
        MaterialMovement.objects.count(),
    )


def test_staff_list_materials_with_the_balances_of_their_own_warehouses_and_a_low_flag(world, api_as):
    body = api_as(world["sam"]).get("/api/v1/materials/").json()

    assert body["results"] == [
        {
            "id": str(Material.objects.get().pk),
            "code": "M-BOX-S",
            "name": "Small box",
            "kind": "box",
            "box": "BOX-S",
            "unit_cost": "0.0000",
            "currency": "USD",
            "reorder_point": 5,
            "weight_g": 0,
            "balances": [{"warehouse": "MAIN", "on_hand": 4, "low": True}],
        }
    ]
    west = api_as(world["olga"]).get("/api/v1/materials/").json()["results"][0]["balances"]
    assert west == [{"warehouse": "WEST", "on_hand": 50, "low": False}]


def test_a_merchant_cannot_see_or_change_materials(world, api_as):
    before = _state()
    client = api_as(world["alice"])

    assert client.get("/api/v1/materials/").status_code == 403
    assert client.get("/api/v1/materials/M-BOX-S/movements/").status_code == 403
    assert (
        client.post("/api/v1/materials/", {"code": "X", "name": "X", "kind": "tape"}, format="json").status_code == 403
    )
    assert _state() == before


def test_an_associate_reads_but_cannot_add_materials_or_record_movements(world, api_as):
    before = _state()
    client = api_as(world["sam"])

    created = client.post("/api/v1/materials/", {"code": "TAPE", "name": "Tape", "kind": "tape"}, format="json")
    moved = client.post(
        "/api/v1/materials/M-BOX-S/movements/",
        {"warehouse": "MAIN", "reason": "received", "quantity": 10},
        format="json",
    )

    assert (created.status_code, moved.status_code) == (403, 403)
    assert created.headers["Content-Type"].startswith("application/problem+json")
    assert client.get("/api/v1/materials/M-BOX-S/movements/").status_code == 200
    assert _state() == before


def test_a_manager_adds_a_material(world, api_as):
    response = api_as(world["mia"]).post(
        "/api/v1/materials/",
        {"code": "MAILER-L-STOCK", "name": "Large mailer", "kind": "mailer", "box": "MAILER-L", "reorder_point": 20},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["box"], response.json()["balances"]) == (
        "MAILER-L",
        [{"warehouse": "MAIN", "on_hand": 0, "low": True}],
    )
    assert Material.objects.filter(code="MAILER-L-STOCK", box__code="MAILER-L").exists()


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"code": "M-BOX-S", "name": "Again", "kind": "box"}, 409, "code"),
        ({"code": "NEW", "name": "New", "kind": "crate"}, 422, "kind"),
        ({"code": "NEW", "name": "New", "kind": "box", "box": "NOPE"}, 422, "box"),
        ({"code": "NEW", "name": "New", "kind": "box", "box": "BOX-S"}, 422, "box"),
        ({"code": "NEW", "name": "New", "kind": "tape", "reorder_point": -1}, 422, "reorder_point"),
        ({"code": "NEW", "name": "New", "kind": "void_fill", "weight_g": -5}, 422, "weight_g"),
    ],
)
def test_a_refused_material_is_a_problem_and_changes_nothing(world, api_as, payload, status, field):
    before = _state()

    response = api_as(world["mia"]).post("/api/v1/materials/", payload, format="json")

    assert response.status_code == status, response.json()
    if status == 422:
        assert [e["field"] for e in response.json()["errors"]] == [field]
    assert _state() == before


def test_a_manager_sets_the_void_fill_weight_counted_in_parcels(world, api_as):
    client = api_as(world["mia"])

    created = client.post(
        "/api/v1/materials/", {"code": "VOID", "name": "Paper", "kind": "void_fill", "weight_g": 6}, format="json"
    )
    changed = client.patch("/api/v1/materials/VOID/", {"weight_g": 8}, format="json")

    assert (created.status_code, created.json()["weight_g"]) == (201, 6)
    assert (changed.status_code, changed.json()["weight_g"]) == (200, 8)
    assert Material.objects.get(code="VOID").weight_g == 8


def test_a_manager_records_a_receipt_and_the_ledger_lists_it(world, api_as):
    client = api_as(world["mia"])

    response = client.post(
        "/api/v1/materials/M-BOX-S/movements/",
        {"warehouse": "MAIN", "reason": "received", "quantity": 10, "reference": "DN-881", "note": "pallet 1"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("warehouse", "material", "quantity_delta", "reason", "reference", "user", "note")} == {
        "warehouse": "MAIN",
        "material": "M-BOX-S",
        "quantity_delta": 10,
        "reason": "received",
        "reference": "DN-881",
        "user": "mia",
        "note": "pallet 1",
    }
    assert MaterialBalance.objects.get(warehouse=world["main"]).on_hand == 14
    ledger = client.get("/api/v1/materials/M-BOX-S/movements/").json()["results"]
    assert [(m["warehouse"], m["quantity_delta"]) for m in ledger] == [("MAIN", 10), ("MAIN", 4)]


def test_a_manager_counts_and_the_movement_is_the_difference(world, api_as):
    response = api_as(world["mia"]).post(
        "/api/v1/materials/M-BOX-S/movements/", {"warehouse": "MAIN", "reason": "counted", "quantity": 1}, format="json"
    )

    assert (response.status_code, response.json()["quantity_delta"]) == (201, -3)
    assert MaterialBalance.objects.get(warehouse=world["main"]).on_hand == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"warehouse": "MAIN", "reason": "received", "quantity": 0}, "quantity"),
        ({"warehouse": "MAIN", "reason": "consumed", "quantity": 1}, "reason"),
        ({"warehouse": "MAIN", "reason": "adjusted", "quantity": 0}, "quantity"),
        ({"warehouse": "MAIN", "reason": "counted", "quantity": -2}, "quantity"),
        ({"warehouse": "WEST", "reason": "received", "quantity": 5}, "warehouse"),  # not Mia's
        ({"warehouse": "NOWHERE", "reason": "received", "quantity": 5}, "warehouse"),
        ({"reason": "received", "quantity": 5}, "warehouse"),
    ],
)
def test_a_refused_movement_is_422_and_changes_nothing(world, api_as, payload, field):
    before = _state()

    response = api_as(world["mia"]).post("/api/v1/materials/M-BOX-S/movements/", payload, format="json")

    assert response.status_code == 422, response.json()
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert _state() == before


def test_an_unknown_material_is_404(world, api_as):
    client = api_as(world["mia"])
    before = _state()

    assert client.get("/api/v1/materials/NOPE/movements/").status_code == 404
    posted = client.post(
        "/api/v1/materials/NOPE/movements/", {"warehouse": "MAIN", "reason": "received", "quantity": 5}, format="json"
    )
    assert posted.status_code == 404
    assert _state() == before


def test_the_ledger_shows_only_the_staff_members_warehouses(world, api_as):
    olga = api_as(world["olga"]).get("/api/v1/materials/M-BOX-S/movements/").json()["results"]
    mia = api_as(world["mia"]).get("/api/v1/materials/M-BOX-S/movements/?warehouse=WEST").json()["results"]

    assert [(m["warehouse"], m["quantity_delta"], m["actor"]) for m in olga] == [("WEST", 50, "olga")]
    assert mia == []


def test_a_manager_raises_the_reorder_point_and_the_alert_follows_at_once(world, api_as):
    client = api_as(world["olga"])  # WEST holds 50, MAIN 4 (already low: alerted when received)
    assert list(MaterialAlert.objects.values_list("warehouse__code", flat=True)) == ["MAIN"]

    response = client.patch(
        "/api/v1/materials/M-BOX-S/", {"reorder_point": 60, "name": "Small box (200)"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["name"], response.json()["balances"]) == (
        "Small box (200)",
        [{"warehouse": "WEST", "on_hand": 50, "low": True}],
    )
    assert sorted(MaterialAlert.objects.filter(resolved_at__isnull=True).values_list("warehouse__code", flat=True)) == [
        "MAIN",
        "WEST",
    ]
    client.patch("/api/v1/materials/M-BOX-S/", {"reorder_point": 3}, format="json")
    assert not MaterialAlert.objects.filter(resolved_at__isnull=True).exists()


def test_an_associate_reads_a_material_but_cannot_change_it(world, api_as):
    client = api_as(world["sam"])
    before = _state()

    assert client.get("/api/v1/materials/M-BOX-S/").json()["balances"] == [
        {"warehouse": "MAIN", "on_hand": 4, "low": True}
    ]
    assert client.patch("/api/v1/materials/M-BOX-S/", {"reorder_point": 0}, format="json").status_code == 403
    assert Material.objects.get().reorder_point == 5
    assert _state() == before
    assert client.get("/api/v1/materials/NOPE/").status_code == 404
