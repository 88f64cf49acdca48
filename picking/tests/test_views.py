import re

import pytest
from django.test import Client

from fulfillment.tenancy.tests.factories import staff_with_token
from orders.models import Order, Status
from picking import services
from picking.models import PickList, PickScan, PickTask, TaskStatus
from picking.tests.factories import allocated_orders

pytestmark = pytest.mark.django_db

TEE = "0012345678905"


@pytest.fixture
def handheld(django_capture_on_commit_callbacks):
    """One order of 2 TEE at 01-03-1 on a discrete list, and the associate "picker" logged in."""
    _, wh, _, (order,) = allocated_orders(django_capture_on_commit_callbacks, count=1)
    user, _ = staff_with_token(username="picker", role="associate", warehouse=wh)
    pick_list = services.wave_build(warehouse=wh, strategy="discrete", max_orders=1).pick_lists.get()
    client = Client()
    client.force_login(user)
    return client, pick_list, order


def _form(page: str, action: str = "") -> dict:
    """The hidden fields of one form of the page: its scan id and the task it shows."""
    forms = re.findall(r"<form method=\"post\"[^>]*>(.*?)</form>", page, re.S)
    for form in forms:
        if action and f'name="action" value="{action}"' not in form:
            continue
        if not action and 'name="action"' in form:
            continue
        fields = dict(re.findall(r'name="(scan_id|task|csrfmiddlewaretoken)" value="([^"]*)"', form))
        fields.pop("csrfmiddlewaretoken", None)
        return fields
    raise AssertionError(f"no form for action {action!r}")


def _scan(client, url, code="", action=""):
    fields = _form(client.get(url).content.decode(), action)
    data = {**fields, "scan": code}
    if action:
        data["action"] = action
    return client.post(url, data)


def test_pick_list_page_lists_open_lists_with_progress_and_a_next_button(handheld):
    client, pick_list, _ = handheld
    page = client.get("/handheld/pick/").content.decode()
    assert f"/handheld/pick/{pick_list.pk}/" in page
    assert "0/1 picks" in page
    assert 'id="next-list"' in page and 'action="/handheld/pick/next/"' in page


def test_next_pick_list_takes_the_list_and_opens_it(handheld):
    client, pick_list, _ = handheld
    response = client.post("/handheld/pick/next/")
    assert response.status_code == 302 and response["Location"] == f"/handheld/pick/{pick_list.pk}/"
    assert PickList.objects.get(pk=pick_list.pk).assigned_to.username == "picker"
    assert "yours" in client.get("/handheld/pick/").content.decode()


def test_next_pick_list_with_nothing_to_pick_says_so(handheld):
    client, pick_list, _ = handheld
    PickList.objects.filter(pk=pick_list.pk).update(status="done")
    response = client.post("/handheld/pick/next/", follow=True)
    assert "Nothing to pick right now." in response.content.decode()


def test_scanning_location_product_and_tote_confirms_the_pick(handheld):
    client, pick_list, order = handheld
    url = f"/handheld/pick/{pick_list.pk}/"
    task = pick_list.tasks.get()
    page = client.get(url).content.decode()
    assert "Scan location 01-03-1" in page and 'inputmode="none"' in page
    assert 'id="task-location">01-03-1<' in page
    assert _scan(client, url, task.location.code).status_code == 302
    assert "Scan product TEE" in client.get(url).content.decode()
    assert _scan(client, url, TEE).status_code == 302
    page = client.get(url).content.decode()
    assert 'id="task-counted">1<' in page and 'id="count-all">All 2<' in page
    _scan(client, url, action="all")
    assert "Scan tote T1" in client.get(url).content.decode()
    response = _scan(client, url, "t1")
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).status == Status.PICKED
    page = client.get(url).content.decode()
    assert "Picked 2 × TEE into T1." in page
    assert "Take the cart to packing" in page and "<strong>T1</strong> · 2 units" in page


def test_wrong_scan_on_the_page_is_refused_and_changes_nothing(handheld):
    client, pick_list, _ = handheld
    url = f"/handheld/pick/{pick_list.pk}/"
    wrong = _scan(client, url, "09-09-9")
    assert wrong.status_code == 422
    body = wrong.content.decode()
    assert 'data-error="1"' in body and "Wrong location 09-09-9: go to 01-03-1." in body
    assert "Scan location 01-03-1" in body  # still the same step
    _scan(client, url, "01-03-1")
    wrong_product = _scan(client, url, "4006381333931")
    assert wrong_product.status_code == 422
    assert "Wrong product 4006381333931: expected TEE." in wrong_product.content.decode()
    task = PickTask.objects.get(pk=pick_list.tasks.get().pk)
    assert (task.picked_quantity, task.counted_quantity, task.location_confirmed) == (0, 0, True)


def test_a_form_submitted_twice_counts_once(handheld):
    client, pick_list, _ = handheld
    url = f"/handheld/pick/{pick_list.pk}/"
    _scan(client, url, "01-03-1")
    fields = _form(client.get(url).content.decode())
    first = client.post(url, {**fields, "scan": TEE})
    second = client.post(url, {**fields, "scan": TEE})
    assert (first.status_code, second.status_code) == (302, 302)
    assert PickTask.objects.get(pk=pick_list.tasks.get().pk).counted_quantity == 1
    assert PickScan.objects.filter(code=TEE).count() == 1


def test_every_render_carries_fresh_scan_ids(handheld):
    client, pick_list, _ = handheld
    url = f"/handheld/pick/{pick_list.pk}/"
    assert _form(client.get(url).content.decode()) != _form(client.get(url).content.decode())


def test_a_reload_resumes_at_the_same_step(handheld):
    client, pick_list, _ = handheld
    url = f"/handheld/pick/{pick_list.pk}/"
    _scan(client, url, "01-03-1")
    _scan(client, url, TEE)
    other_device = Client()
    other_device.force_login(PickList.objects.get(pk=pick_list.pk).assigned_to)
    for page in (client.get(url), other_device.get(url)):
        body = page.content.decode()
        assert 'data-step="count"' in body and 'id="task-counted">1<' in body
        assert page["Cache-Control"].startswith("max-age=0")


def test_a_stale_page_is_refused_and_shows_the_current_pick(handheld):
    client, pick_list, _ = handheld
    url = f"/handheld/pick/{pick_list.pk}/"
    response = client.post(url, {"scan_id": "x1", "task": "00000000-0000-0000-0000-000000000000", "scan": "01-03-1"})
    assert response.status_code == 409
    assert "The list moved on" in response.content.decode()
    assert PickTask.objects.get(pk=pick_list.tasks.get().pk).location_confirmed is False


def test_short_pick_asks_how_many_were_found_then_reports_it(handheld):
    client, pick_list, order = handheld
    url = f"/handheld/pick/{pick_list.pk}/"
    assert 'id="short-button"' not in client.get(url).content.decode()  # scan the location first
    _scan(client, url, "01-03-1")
    _scan(client, url, TEE)
    confirm = client.get(url + "?short=1").content.decode()
    assert 'id="short-found">1<' in confirm
    assert "Put the 1 in tote T1 and scan T1" in confirm
    task = pick_list.tasks.get()
    fields = _form(confirm, "short")
    wrong = client.post(url, {**fields, "action": "short", "scan": "T9"})
    assert wrong.status_code == 422 and 'id="short-confirm"' in wrong.content.decode()
    assert PickTask.objects.get(pk=task.pk).status == TaskStatus.OPEN
    fields = _form(wrong.content.decode(), "short")
    assert client.post(url, {**fields, "action": "short", "scan": "T1"}).status_code == 302
    page = client.get(url).content.decode()
    assert "Short pick: 1 of 2 × TEE at 01-03-1." in page
    assert PickTask.objects.get(pk=task.pk).status == TaskStatus.SHORT
    assert Order.objects.get(pk=order.pk).status == Status.BACKORDERED


def test_a_short_with_nothing_found_is_one_button(handheld):
    client, pick_list, _ = handheld
    url = f"/handheld/pick/{pick_list.pk}/"
    _scan(client, url, "01-03-1")
    confirm = client.get(url + "?short=1").content.decode()
    assert "Confirm: none found" in confirm
    buttons = re.findall(r"<form method=\"post\" data-async>(.*?)</form>", confirm, re.S)
    fields = dict(re.findall(r'name="(scan_id|task|action)" value="([^"]*)"', buttons[-1]))
    assert fields["action"] == "short"
    assert client.post(url, fields).status_code == 302
    assert PickTask.objects.get(pk=pick_list.tasks.get().pk).status == TaskStatus.SHORT


def test_a_list_of_another_picker_is_shown_but_not_picked_and_a_manager_takes_it_over(handheld):
    client, pick_list, _ = handheld
    url = f"/handheld/pick/{pick_list.pk}/"
    _scan(client, url, "01-03-1")
    other, _ = staff_with_token(username="other", role="associate", warehouse=pick_list.warehouse)
    intruder = Client()
    intruder.force_login(other)
    page = intruder.get(url).content.decode()
    assert "Being picked by picker." in page and 'id="take-over"' not in page
    refused = intruder.post(url, {**_form(page), "scan": TEE})
    assert refused.status_code == 409
    assert PickTask.objects.get(pk=pick_list.tasks.get().pk).counted_quantity == 0
    boss, _ = staff_with_token(username="boss", role="manager", warehouse=pick_list.warehouse)
    manager = Client()
    manager.force_login(boss)
    page = manager.get(url).content.decode()
    assert 'id="take-over"' in page
    assert manager.post(url, {**_form(page, "take"), "action": "take"}).status_code == 302
    assert PickList.objects.get(pk=pick_list.pk).assigned_to == boss


def test_staff_of_another_warehouse_get_404(handheld):
    from inventory.tests.factories import warehouse

    _, pick_list, _ = handheld
    stranger, _ = staff_with_token(username="stranger", role="associate", warehouse=warehouse("WEST"))
    client = Client()
    client.force_login(stranger)
    assert client.get(f"/handheld/pick/{pick_list.pk}/").status_code == 404
    assert client.post(f"/handheld/pick/{pick_list.pk}/", {"scan_id": "a", "scan": "01-03-1"}).status_code == 404
    assert PickScan.objects.count() == 0


def test_anonymous_is_sent_to_login(handheld):
    _, pick_list, _ = handheld
    response = Client().get(f"/handheld/pick/{pick_list.pk}/")
    assert response.status_code == 302 and "/login/" in response["Location"]
