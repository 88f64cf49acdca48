"""POST /api/v1/pick-lists/{id}/picks/ answers its conflicts (409) with the code that names which one,
in ``errors[].code`` as every other problem document, so that a client can tell them apart."""

import pytest

from fulfillment.tenancy.tests.factories import staff_with_token
from orders import services as orders
from orders.models import Order, Status
from picking import services
from picking.models import PickTask, TaskStatus
from picking.tests.factories import allocated_orders

pytestmark = pytest.mark.django_db

TEE = "0012345678905"


@pytest.fixture
def floor(django_capture_on_commit_callbacks, api_as):
    """Two orders of 2 TEE at 01-03-1 on one batch list; the associates ana and ben with their API clients."""
    _, wh, _, made = allocated_orders(django_capture_on_commit_callbacks, count=2)
    pick_list = services.wave_build(warehouse=wh, strategy="batch", max_orders=10).pick_lists.get()
    (ana, ana_key), (_ben, ben_key) = (
        staff_with_token(username="ana", role="associate", warehouse=wh),
        staff_with_token(username="ben", role="associate", warehouse=wh),
    )
    return pick_list, made, ana, api_as(ana_key), api_as(ben_key)


def _pick(client, pick_list, task, quantity=2):
    return client.post(
        f"/api/v1/pick-lists/{pick_list.pk}/picks/",
        {"task": str(task.pk), "location_barcode": "01-03-1", "product_barcode": TEE, "quantity": quantity},
        format="json",
    )


def _problem(response) -> tuple:
    body = response.json()
    return response.status_code, response["Content-Type"], [(e["field"], e["code"]) for e in body["errors"]]


def test_picking_a_task_already_done_is_409_task_done(floor):
    pick_list, made, _ana, client, _ben = floor
    task = pick_list.tasks.order_by("sequence").first()
    assert _pick(client, pick_list, task).status_code == 201

    again = _pick(client, pick_list, task)

    assert _problem(again) == (409, "application/problem+json", [("task", "task_done")])
    assert again.json()["errors"][0]["message"] == again.json()["detail"] == "this task is already picked"
    assert PickTask.objects.get(pk=task.pk).picked_quantity == 2


def test_picking_for_a_cancelled_order_is_409_order_not_picking(floor):
    pick_list, made, _ana, client, _ben = floor
    task = pick_list.tasks.select_related("order").order_by("sequence").first()
    orders.order_cancel(order_id=task.order_id, actor="merchant")

    refused = _pick(client, pick_list, task)

    assert _problem(refused) == (409, "application/problem+json", [(None, "order_not_picking")])
    assert refused.json()["detail"] == f"order {task.order.number} is cancelled; put the items back"
    assert (PickTask.objects.get(pk=task.pk).status, PickTask.objects.get(pk=task.pk).picked_quantity) == (
        TaskStatus.CANCELLED,
        0,
    )
    assert Order.objects.get(pk=task.order_id).status == Status.CANCELLED


def test_picking_on_another_pickers_list_is_409_assigned_elsewhere(floor):
    pick_list, made, ana, _client, ben_client = floor
    services.pick_list_assign(pick_list=pick_list, user=ana, actor="ana")
    task = pick_list.tasks.order_by("sequence").first()

    refused = ben_client.post(
        f"/api/v1/pick-lists/{pick_list.pk}/picks/",
        {"task": str(task.pk), "location_barcode": "01-03-1", "product_barcode": TEE, "quantity": 2},
        format="json",
    )

    assert _problem(refused) == (409, "application/problem+json", [(None, "assigned_elsewhere")])
    assert PickTask.objects.get(pk=task.pk).picked_quantity == 0
    assert {Order.objects.get(pk=o.pk).status for o in made} == {Status.PICKING}
