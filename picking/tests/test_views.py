import pytest
from django.test import Client

from fulfillment.tenancy.tests.factories import staff_with_token
from orders.models import Order, Status
from picking import services
from picking.models import PickTask
from picking.tests.factories import allocated_orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def handheld(django_capture_on_commit_callbacks):
    _, wh, _, (order,) = allocated_orders(django_capture_on_commit_callbacks, count=1)
    user, _ = staff_with_token(username="picker", role="associate", warehouse=wh)
    pick_list = services.wave_build(warehouse=wh, strategy="discrete", max_orders=1).pick_lists.get()
    client = Client()
    client.force_login(user)
    return client, pick_list, order


def test_pick_list_page_lists_open_lists(handheld):
    client, pick_list, _ = handheld
    page = client.get("/handheld/pick/")
    assert page.status_code == 200
    assert f"/handheld/pick/{pick_list.pk}/" in page.content.decode()


def test_scanning_location_then_product_confirms_the_pick(handheld):
    client, pick_list, order = handheld
    url = f"/handheld/pick/{pick_list.pk}/"
    task = pick_list.tasks.get()
    page = client.get(url).content.decode()
    assert "Scan location" in page and task.location.code in page
    assert client.post(url, {"task": task.pk, "scan": task.location.code}).status_code == 302
    assert "Scan product" in client.get(url).content.decode()
    client.post(url, {"task": task.pk, "scan": "0012345678905"})
    assert Order.objects.get(pk=order.pk).status == Status.PICKED
    assert "Pick list complete" in client.get(url).content.decode()


def test_wrong_scan_on_the_page_is_refused_and_changes_nothing(handheld):
    client, pick_list, _ = handheld
    url = f"/handheld/pick/{pick_list.pk}/"
    task = pick_list.tasks.get()
    wrong = client.post(url, {"task": task.pk, "scan": "09-09-9"})
    assert wrong.status_code == 422
    assert "Wrong location" in wrong.content.decode()
    client.post(url, {"task": task.pk, "scan": task.location.code})
    wrong_product = client.post(url, {"task": task.pk, "scan": "4006381333931"})
    assert wrong_product.status_code == 422
    assert "wrong product" in wrong_product.content.decode()
    assert PickTask.objects.get(pk=task.pk).picked_quantity == 0


def test_anonymous_is_sent_to_login(handheld):
    _, pick_list, _ = handheld
    response = Client().get(f"/handheld/pick/{pick_list.pk}/")
    assert response.status_code == 302 and "/login/" in response["Location"]
