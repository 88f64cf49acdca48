import pytest

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from orders.models import Order, Status
from picking.models import PickTask
from picking.tests.factories import allocated_orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(django_capture_on_commit_callbacks, api_as):
    tenant, wh, tee, orders = allocated_orders(django_capture_on_commit_callbacks, count=2)
    # A manager: releasing a wave is a manager's action (associates may preview, and pick).
    _, token = staff_with_token(username="lead", role="manager", warehouse=wh)
    return wh, orders, api_as(token)


def test_post_wave_answers_pick_lists_with_orders_tasks_and_distance(floor):
    wh, orders, staff = floor
    response = staff.post("/api/v1/waves/", {"warehouse": "MAIN", "strategy": "batch", "max_orders": 10}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "released"
    (pick_list,) = body["pick_lists"]
    assert sorted(pick_list["orders"]) == sorted(str(o.pk) for o in orders)
    assert pick_list["tasks_count"] == 2
    assert pick_list["distance_m"] > 0


def test_pick_list_tasks_come_in_route_order_and_a_wrong_scan_is_422(floor):
    _, orders, staff = floor
    wave = staff.post("/api/v1/waves/", {"warehouse": "MAIN", "strategy": "batch"}, format="json").json()
    pick_list_id = wave["pick_lists"][0]["id"]
    tasks = staff.get(f"/api/v1/pick-lists/{pick_list_id}/").json()["tasks"]
    assert [t["sequence"] for t in tasks] == [1, 2]
    wrong = staff.post(
        f"/api/v1/pick-lists/{pick_list_id}/picks/",
        {"task": tasks[0]["id"], "location_barcode": tasks[0]["location"], "product_barcode": "WRONG", "quantity": 2},
        format="json",
    )
    assert wrong.status_code == 422
    assert wrong["Content-Type"] == "application/problem+json"
    assert wrong.json()["errors"][0]["field"] == "product_barcode"
    assert PickTask.objects.get(pk=tasks[0]["id"]).picked_quantity == 0
    for task in tasks:
        ok = staff.post(
            f"/api/v1/pick-lists/{pick_list_id}/picks/",
            {
                "task": task["id"],
                "location_barcode": task["location"],
                "product_barcode": "0012345678905",
                "quantity": 2,
            },
            format="json",
        )
        assert ok.status_code == 201, ok.content
        assert ok.json()["status"] == "picked"
    assert {Order.objects.get(pk=o.pk).status for o in orders} == {Status.PICKED}


def test_merchant_keys_cannot_build_waves(floor, api_as):
    _, key = tenant_with_key(slug="other")
    response = api_as(key).post("/api/v1/waves/", {"warehouse": "MAIN"}, format="json")
    assert response.status_code == 403


def test_staff_of_another_warehouse_cannot_see_the_pick_list(floor, api_as):
    from inventory.tests.factories import warehouse

    _, _, staff = floor
    wave = staff.post("/api/v1/waves/", {"warehouse": "MAIN", "strategy": "batch"}, format="json").json()
    _, token = staff_with_token(username="elsewhere", warehouse=warehouse("WEST"))
    assert api_as(token).get(f"/api/v1/pick-lists/{wave['pick_lists'][0]['id']}/").status_code == 404
