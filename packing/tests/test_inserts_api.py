import pytest

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory.tests import factories as inv
from packing import services
from packing.models import InsertRule
from packing.tests.factories import picked_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Alice and Bob sell from MAIN (each with a FLYER product); Sam packs in MAIN, Olga in WEST."""
    alice, alice_key = tenant_with_key()
    bob, bob_key = tenant_with_key()
    main, west = inv.warehouse("MAIN"), inv.warehouse("WEST")
    for tenant in (alice, bob):
        inv.product(tenant, "FLYER-01", name="Spring flyer")
        tee = inv.product(tenant, "TEE")
        inv.stock(tenant, tee, main, "01-01-1", 10)
    bobs = services.insert_rule_create(tenant_id=bob.pk, sku="FLYER-01", when="always")
    _, sam = staff_with_token(username="sam", role="associate", warehouse=main)
    _, olga = staff_with_token(username="olga", role="manager", warehouse=west)
    return {"alice": alice, "alice_key": alice_key, "bob_key": bob_key, "bobs": bobs, "sam": sam, "olga": olga}


def _rules():
    return sorted(InsertRule.objects.values_list("tenant__slug", "product__sku", "quantity", "when", "active"))


def test_a_merchant_creates_lists_changes_and_deletes_its_insert_rules(world, api_as):
    client = api_as(world["alice_key"])

    created = client.post("/api/v1/insert-rules/", {"sku": "FLYER-01", "when": "first_order"}, format="json")
    assert created.status_code == 201, created.json()
    rule_id = created.json()["id"]
    assert {k: created.json()[k] for k in ("sku", "name", "quantity", "when", "active")} == {
        "sku": "FLYER-01",
        "name": "Spring flyer",
        "quantity": 1,
        "when": "first_order",
        "active": True,
    }
    assert [r["id"] for r in client.get("/api/v1/insert-rules/").json()["results"]] == [rule_id]

    patched = client.patch(f"/api/v1/insert-rules/{rule_id}/", {"quantity": 3, "active": False}, format="json")
    assert (patched.status_code, patched.json()["quantity"], patched.json()["active"]) == (200, 3, False)

    assert client.delete(f"/api/v1/insert-rules/{rule_id}/").status_code == 204
    assert not InsertRule.objects.filter(pk=rule_id).exists()


def test_another_merchants_rules_are_invisible_and_untouchable(world, api_as):
    client = api_as(world["alice_key"])
    bobs = world["bobs"].pk
    before = _rules()

    assert client.get("/api/v1/insert-rules/").json()["results"] == []
    assert client.get(f"/api/v1/insert-rules/{bobs}/").status_code == 404
    assert client.patch(f"/api/v1/insert-rules/{bobs}/", {"quantity": 9}, format="json").status_code == 404
    assert client.delete(f"/api/v1/insert-rules/{bobs}/").status_code == 404
    assert _rules() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"sku": "NOPE"}, "sku"),
        ({"sku": "FLYER-01", "quantity": 0}, "quantity"),
        ({"sku": "FLYER-01", "when": "sometimes"}, "when"),
        ({}, "sku"),
    ],
)
def test_a_refused_rule_is_422_and_creates_nothing(world, api_as, payload, field):
    before = _rules()

    response = api_as(world["alice_key"]).post("/api/v1/insert-rules/", payload, format="json")

    assert response.status_code == 422, response.json()
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert _rules() == before


def test_a_patch_to_an_unknown_sku_is_422_and_keeps_the_rule(world, api_as):
    before = _rules()

    response = api_as(world["bob_key"]).patch(
        f"/api/v1/insert-rules/{world['bobs'].pk}/", {"sku": "NOPE"}, format="json"
    )

    assert (response.status_code, response.json()["errors"][0]["code"]) == (422, "unknown_sku")
    assert _rules() == before


def test_staff_tokens_cannot_use_the_merchant_insert_rules(world, api_as):
    assert api_as(world["sam"]).get("/api/v1/insert-rules/").status_code == 403


def test_staff_see_the_inserts_of_an_order_in_their_warehouse(world, api_as):
    services.insert_rule_create(tenant_id=world["alice"].pk, sku="FLYER-01", quantity=2, when="first_order")
    picked = picked_order(world["alice"], external_id="A1", lines=[("TEE", 1)])

    response = api_as(world["sam"]).get(f"/api/v1/orders/{picked.pk}/inserts/")

    assert response.status_code == 200
    rule = InsertRule.objects.get(tenant=world["alice"])
    assert response.json() == {
        "order": str(picked.pk),
        "inserts": [
            {"rule": str(rule.pk), "sku": "FLYER-01", "name": "Spring flyer", "quantity": 2, "when": "first_order"}
        ],
    }
    assert api_as(world["olga"]).get(f"/api/v1/orders/{picked.pk}/inserts/").status_code == 404
    assert api_as(world["alice_key"]).get(f"/api/v1/orders/{picked.pk}/inserts/").status_code == 403
