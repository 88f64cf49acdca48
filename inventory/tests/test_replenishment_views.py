"""Replenishment pages: the manager's suggestions and alerts, the handheld replenishment flow."""

from __future__ import annotations

import pytest

from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory import services
from inventory.models import MoveTask, MoveTaskStatus, StockBalance, StockMovement
from inventory.services import replenishment as rep
from inventory.tests.factories import product, stock, warehouse
from inventory.tests.test_replenishment_api import low_stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def wh():
    return warehouse("MAIN", aisles=3, bays=3, levels=1)


def logged_in(client, wh, *, role="manager", username="mia"):
    user, _ = staff_with_token(username=username, role=role, warehouse=wh)
    client.force_login(user)
    return client


def test_manager_sees_suggestions_with_cover_reorder_point_and_quantity(client, wh):
    tenant = TenantFactory(name="Acme Apparel")
    low_stock(tenant, wh)
    logged_in(client, wh)

    page = client.get("/inventory/replenishment/")

    html = page.content.decode()
    assert page.status_code == 200
    assert '<tr data-sku="TEE" class="to-order">' in html
    assert '<td class="num days-of-cover">4.0</td>' in html
    assert '<td class="num reorder-point">35</td>' in html
    assert '<td class="num suggested">50</td>' in html
    assert 'data-alert="low_stock" data-sku="TEE"' in html


def test_associates_cannot_open_the_replenishment_page(client, wh):
    logged_in(client, wh, role="associate", username="ari")

    assert client.get("/inventory/replenishment/").status_code == 403


def test_alerts_partial_lists_open_alerts_of_the_staff_warehouses_only(client, wh):
    tenant = TenantFactory()
    low_stock(tenant, wh)
    other_wh = warehouse("WEST", aisles=1, bays=1, levels=1)
    logged_in(client, other_wh, username="wes")

    page = client.get("/inventory/replenishment/alerts/")

    assert page.status_code == 200
    assert "No open stock alerts." in page.content.decode()


@pytest.fixture
def task(wh):
    tenant = TenantFactory()
    tee = product(tenant, "TEE", barcode="4006381333931")
    stock(tenant, tee, wh, "02-01-1", 30)
    rep.pick_face_create(
        tenant_id=tenant.pk, product=tee, location=wh.locations.get(code="01-01-1"), min_quantity=5, max_quantity=12
    )
    rep.pick_faces_replenish()
    return MoveTask.objects.get()


def test_handheld_lists_open_replenishment_tasks(client, wh, task):
    logged_in(client, wh, role="associate", username="ari")

    page = client.get("/handheld/replenish/")

    assert page.status_code == 200
    assert f'data-task="{task.pk}"' in page.content.decode()
    assert "02-01-1 → 01-01-1" in page.content.decode()


def test_handheld_scans_source_product_and_pick_face_to_move_units(client, wh, task):
    logged_in(client, wh, role="associate", username="ari")
    url = f"/handheld/replenish/{task.pk}/"

    first = client.post(url, {"scan": "02-01-1"})
    second = client.post(url, {"scan": "4006381333931"})
    last = client.post(url, {"scan": "01-01-1"}, follow=True)

    assert (first.status_code, second.status_code) == (302, 302)
    assert "Moved 12 × TEE to 01-01-1." in last.content.decode()
    task.refresh_from_db()
    assert task.status == MoveTaskStatus.DONE
    assert StockBalance.objects.get(location__code="01-01-1").on_hand == 12
    assert services.ledger_differences() == []


def test_handheld_wrong_scan_buzzes_and_changes_nothing(client, wh, task):
    logged_in(client, wh, role="associate", username="ari")
    url = f"/handheld/replenish/{task.pk}/"
    movements = StockMovement.objects.count()
    client.post(url, {"scan": "02-01-1"})
    client.post(url, {"scan": "4006381333931"})

    page = client.post(url, {"scan": "01-02-1"})

    assert page.status_code == 422
    assert 'data-error="1"' in page.content.decode()
    assert "wrong location 01-02-1: bring to 01-01-1" in page.content.decode()
    task.refresh_from_db()
    assert task.status == MoveTaskStatus.OPEN
    assert StockMovement.objects.count() == movements


def test_staff_of_another_warehouse_gets_404_on_a_task(client, task):
    logged_in(client, warehouse("WEST", aisles=1, bays=1, levels=1), role="associate", username="wes")

    assert client.get(f"/handheld/replenish/{task.pk}/").status_code == 404
