"""POST /api/v1/waves/ (release) and /api/v1/waves/preview/ (the plan, nothing written)."""

import pytest

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory.tests import factories as inv
from orders import services as orders
from orders.models import Order, Status
from orders.tests.factories import order
from picking.tests.factories import lead_and_picker, main_floor, wave_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(django_capture_on_commit_callbacks, api_as):
    """MAIN with TEE at 01-03-1 and MUG at 03-07-1; orders: two standard, one same-day single unit."""
    tenant, wh = main_floor()
    for sku, code in (("TEE", "01-03-1"), ("MUG", "03-07-1")):
        inv.stock(tenant, inv.product(tenant, sku), wh, code, 50)
    with django_capture_on_commit_callbacks(execute=True):
        made = [
            order(tenant, external_id="A", lines=[("TEE", 2), ("MUG", 1)]),
            order(tenant, external_id="B", lines=[("TEE", 3)]),
            order(tenant, external_id="S", lines=[("MUG", 1)], shipping_method="same_day"),
        ]
    (_, lead), (_, picker) = lead_and_picker(wh)
    return wh, made, api_as(lead), api_as(picker)


def test_preview_answers_the_plan_and_writes_nothing(floor):
    _, made, lead, _ = floor
    response = lead.post("/api/v1/waves/preview/", {"warehouse": "main", "strategy": "batch"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    a, b, s = (str(o.pk) for o in made)
    assert body["orders"] == [s, a, b]  # same day first
    assert (body["order_count"], body["line_count"], body["unit_count"], body["tasks_count"]) == (3, 4, 7, 4)
    assert (body["planned_as"], body["single_unit_orders"], body["waiting"], body["left_waiting"]) == ("batch", 1, 3, 0)
    assert [(g["priority"], g["shipping_method"], g["orders"], g["cut"]) for g in body["groups"]] == [
        ("Same Day", "same_day", 1, False),
        ("Standard", "standard", 2, False),
    ]
    lists = body["pick_lists"]
    # All three are due at the same cut-off (14:00): one set of carts, the single-unit order on its own.
    assert [(pl["single_units"], pl["orders"], pl["totes"]) for pl in lists] == [(False, [a, b], 2), (True, [s], 1)]
    assert body["distance_m"] == pytest.approx(sum(pl["distance_m"] for pl in lists))
    assert body["fcfs_distance_m"] >= body["distance_m"] > 0
    assert wave_rows() == (0, 0, 0, 0)
    assert {o.status for o in Order.objects.all()} == {Status.ALLOCATED}


def test_associates_may_preview_but_not_release(floor):
    _, _, _, picker = floor
    assert picker.post("/api/v1/waves/preview/", {"warehouse": "MAIN"}, format="json").status_code == 200
    refused = picker.post("/api/v1/waves/", {"warehouse": "MAIN"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Only managers release waves."
    assert wave_rows() == (0, 0, 0, 0)


def test_release_answers_the_wave_with_its_lists_and_caps_apply(floor):
    _, made, lead, _ = floor
    body = {"warehouse": "MAIN", "strategy": "batch", "max_orders": 10, "totes_per_cart": 1, "max_lines": 3}
    response = lead.post("/api/v1/waves/", body, format="json")
    assert response.status_code == 201, response.content
    wave = response.json()
    a, b, s = (str(o.pk) for o in made)
    # Max 3 lines: S (1) and A (2); B waits. One tote per cart: A and S on separate lists anyway.
    assert (wave["status"], wave["order_count"], wave["line_count"], wave["left_out"]) == ("released", 2, 3, 0)
    assert sorted((pl["orders"], pl["tasks_count"], pl["single_units"]) for pl in wave["pick_lists"]) == sorted(
        [([a], 2, False), ([s], 1, True)]
    )
    assert all(pl["distance_m"] > 0 and pl["zone"] == "" for pl in wave["pick_lists"])
    assert wave["distance_m"] == pytest.approx(sum(pl["distance_m"] for pl in wave["pick_lists"]))
    assert Order.objects.get(pk=b).status == Status.ALLOCATED
    assert lead.get(f"/api/v1/waves/{wave['id']}/").json()["order_count"] == 2


def test_release_of_a_preview_leaves_out_orders_that_changed(floor):
    _, made, lead, _ = floor
    preview = lead.post("/api/v1/waves/preview/", {"warehouse": "MAIN"}, format="json").json()
    orders.order_cancel(order_id=made[1].pk, reason="customer")
    response = lead.post("/api/v1/waves/", {"warehouse": "MAIN", "orders": preview["orders"]}, format="json")
    assert response.status_code == 201, response.content
    wave = response.json()
    assert (wave["order_count"], wave["left_out"]) == (2, 1)
    assert sorted(o for pl in wave["pick_lists"] for o in pl["orders"]) == sorted([str(made[0].pk), str(made[2].pk)])


@pytest.mark.parametrize(
    "body, field",
    [
        ({"warehouse": "MAIN", "strategy": "fastest"}, "strategy"),
        ({"warehouse": "MAIN", "max_orders": 0}, "max_orders"),
        ({"warehouse": "MAIN", "max_orders": 10_001}, "max_orders"),
        ({"warehouse": "MAIN", "max_lines": 0}, "max_lines"),
        ({"warehouse": "MAIN", "totes_per_cart": 0}, "totes_per_cart"),
        ({"warehouse": "MAIN", "tote_volume_l": "0"}, "tote_volume_l"),
        ({"warehouse": "MAIN", "cart_volume_l": "-1"}, "cart_volume_l"),
        ({"warehouse": "MAIN", "orders": ["not-a-uuid"]}, "orders[0]"),
        ({"warehouse": "MAIN", "ship_by_until": "tomorrow"}, "ship_by_until"),
        ({"warehouse": "NOPE"}, "warehouse"),
        ({}, "warehouse"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/waves/", "/api/v1/waves/preview/"])
def test_bad_input_is_a_422_problem_naming_the_field_and_writes_nothing(floor, body, field, path):
    _, _, lead, _ = floor
    response = lead.post(path, body, format="json")
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert wave_rows() == (0, 0, 0, 0)


def test_release_with_nothing_waiting_is_422_and_preview_answers_an_empty_plan(floor):
    _, made, lead, _ = floor
    for o in made:
        orders.order_cancel(order_id=o.pk, reason="gone")
    refused = lead.post("/api/v1/waves/", {"warehouse": "MAIN"}, format="json")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "nothing_to_pick"
    preview = lead.post("/api/v1/waves/preview/", {"warehouse": "MAIN"}, format="json").json()
    assert (preview["order_count"], preview["pick_lists"], preview["distance_m"]) == (0, [], 0.0)
    assert wave_rows() == (0, 0, 0, 0)


def test_staff_of_another_warehouse_cannot_plan_or_release_here(floor, api_as):
    _, _, _, _ = floor
    _, token = staff_with_token(username="west", role="manager", warehouse=inv.warehouse("WEST"))
    west = api_as(token)
    for path in ("/api/v1/waves/", "/api/v1/waves/preview/"):
        response = west.post(path, {"warehouse": "MAIN"}, format="json")
        assert response.status_code == 422
        assert response.json()["errors"][0] == {
            "field": "warehouse",
            "code": "unknown_warehouse",
            "message": "unknown warehouse MAIN",
        }
    assert wave_rows() == (0, 0, 0, 0)


def test_merchants_cannot_preview_waves(floor, api_as):
    _, key = tenant_with_key(slug="shop")
    assert api_as(key).post("/api/v1/waves/preview/", {"warehouse": "MAIN"}, format="json").status_code == 403
