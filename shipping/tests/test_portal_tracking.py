"""The merchant portal's order page (orders.views.portal.order_detail) shows each shipment's
tracking: status, estimate, the delayed flag, the shopper's tracking page and the scans newest
first, read through reverse relations with prefetching.

These tests live in shipping, not orders, because they make TrackingState and TrackingEvent rows
directly: orders (tests included) may not import shipping, a later stage (import-linter)."""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment.tenancy.services import merchant_user_create
from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.tests import factories as inv
from orders.models import Order
from orders.tests.factories import order
from packing.models import ShipmentStatus
from shipping.models import TrackingEvent, TrackingState, TrackingStatus
from tests.browser import BROWSER_MARKS, login

PASSWORD = "pass-word-123"
NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
FITS = "() => ({scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth})"


def _shop():
    """acme with its portal user, MAIN and a product; orders stay received (no stock): the
    shipment is made directly, as the page only reads it."""
    tenant = TenantFactory(slug="acme", name="Acme Outfitters", default_warehouse_code="MAIN")
    warehouse = inv.warehouse("MAIN")
    inv.product(tenant, "TEE-RED-M")
    merchant_user_create(tenant=tenant, username="acme-web", password=PASSWORD)
    return tenant, warehouse


def _shipped(tenant, warehouse, *, external_id: str = "SHOP-1", scans: int = 3, delayed: bool = True):
    placed = order(tenant, external_id=external_id, lines=[("TEE-RED-M", 1)])
    Order.objects.filter(pk=placed.pk).update(promised_delivery_date=date(2026, 12, 10))
    shipment = placed.shipments.create(
        tenant=tenant,
        warehouse=warehouse,
        status=ShipmentStatus.IN_TRANSIT,
        carrier_code="demo-post",
        service_code="standard",
        tracking_number=f"DP{external_id}",
        label_purchased_at=datetime(2026, 12, 5, 14, 0, tzinfo=UTC),
        estimated_delivery_date=date(2026, 12, 11),
    )
    for day in range(scans):
        TrackingEvent.objects.create(
            tenant=tenant,
            shipment=shipment,
            status=TrackingStatus.IN_TRANSIT if day else TrackingStatus.PICKED_UP,
            code=f"SCAN{day}",
            description=f"Scan number {day}",
            location=f"Depot {day}",
            occurred_at=datetime(2026, 12, 5 + day % 3, 10 + day // 3, 0, tzinfo=UTC),
        )
    TrackingState.objects.create(
        tenant=tenant,
        shipment=shipment,
        status=TrackingStatus.IN_TRANSIT,
        status_at=datetime(2026, 12, 7, 10, 0, tzinfo=UTC),
        last_news_at=datetime(2026, 12, 7, 10, 0, tzinfo=UTC),
        delayed_at=datetime(2026, 12, 7, 11, 0, tzinfo=UTC) if delayed else None,
    )
    return placed, shipment


@pytest.fixture
def shop(db):
    return _shop()


@pytest.fixture
def merchant(client, shop):
    assert client.login(username="acme-web", password=PASSWORD)
    return client


@time_machine.travel(NOW, tick=False)
def test_order_page_shows_tracking_status_estimate_delay_link_and_scans_newest_first(merchant, shop):
    placed, shipment = _shipped(*shop)

    html = merchant.get(f"/portal/orders/{placed.pk}/").content.decode()

    assert '<span class="badge tracking-in_transit">In Transit</span>' in html
    assert '<span class="tag delayed-flag">Delayed</span>' in html
    assert "Delayed: it cannot arrive by the promised date (2026-12-10); now expected 2026-12-11." in html
    assert "<td>2026-12-11</td>" in html
    link = f"http://testserver/track/{shipment.public_token}/"
    assert f'<a class="tracking-link" href="{link}" rel="noreferrer" target="_blank">{link}</a>' in html
    assert re.findall(r"Scan number (\d)", html) == ["2", "1", "0"]
    assert re.findall(r'<span class="muted">(Depot \d)</span>', html) == ["Depot 2", "Depot 1", "Depot 0"]


@time_machine.travel(NOW, tick=False)
def test_the_tracking_link_opens_the_shoppers_page(merchant, shop, client):
    placed, shipment = _shipped(*shop)
    html = merchant.get(f"/portal/orders/{placed.pk}/").content.decode()
    link = re.search(r'class="tracking-link" href="http://testserver(/track/[^"]+)"', html).group(1)

    merchant.logout()
    page = client.get(link)

    assert page.status_code == 200
    assert "DPSHOP-1" in page.content.decode()


@time_machine.travel(NOW, tick=False)
def test_on_time_shipment_has_no_delayed_flag(merchant, shop):
    placed, _ = _shipped(*shop, delayed=False)

    html = merchant.get(f"/portal/orders/{placed.pk}/").content.decode()

    assert "delayed-flag" not in html and "delayed-notice" not in html
    assert '<span class="badge tracking-in_transit">In Transit</span>' in html


@time_machine.travel(NOW, tick=False)
def test_labelled_shipment_without_tracking_state_reads_pending_and_an_unlabelled_one_shows_none(merchant, shop):
    tenant, warehouse = shop
    labelled = order(tenant, external_id="SHOP-2", lines=[("TEE-RED-M", 1)])
    labelled.shipments.create(
        tenant=tenant, warehouse=warehouse, tracking_number="DP2", label_purchased_at=NOW, carrier_code="demo-post"
    )
    packed = order(tenant, external_id="SHOP-3", lines=[("TEE-RED-M", 1)])
    packed.shipments.create(tenant=tenant, warehouse=warehouse)

    labelled_html = merchant.get(f"/portal/orders/{labelled.pk}/").content.decode()
    packed_html = merchant.get(f"/portal/orders/{packed.pk}/").content.decode()

    assert '<span class="badge tracking-pending">Pending</span>' in labelled_html
    assert "No carrier scans yet." in labelled_html
    assert "tracking-pending" not in packed_html and "No carrier scans yet." in packed_html


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


@time_machine.travel(NOW, tick=False)
def test_scans_cost_no_query_each(merchant, shop):
    tenant, warehouse = shop
    few, _ = _shipped(tenant, warehouse, external_id="SHOP-1", scans=1)
    many, _ = _shipped(tenant, warehouse, external_id="SHOP-2", scans=9)

    assert _queries(merchant, f"/portal/orders/{few.pk}/") == _queries(merchant, f"/portal/orders/{many.pk}/")


@time_machine.travel(NOW, tick=False)
def test_another_tenants_order_with_tracking_is_404(merchant, shop):
    other = TenantFactory(slug="globex", default_warehouse_code="MAIN")
    inv.product(other, "TEE-RED-M")
    theirs, _ = _shipped(other, shop[1], external_id="G-1")

    assert merchant.get(f"/portal/orders/{theirs.pk}/").status_code == 404


def _browser(test):
    for mark in reversed(BROWSER_MARKS):
        test = mark(test)
    return test


@pytest.fixture
def shipped_world(transactional_db):
    tenant, warehouse = _shop()
    return _shipped(tenant, warehouse, scans=6)


@_browser
@pytest.mark.parametrize("width", [1366, 360])
def test_portal_order_page_with_tracking_fits_the_screen(shipped_world, page, live_server, width):
    placed, shipment = shipped_world
    page.set_viewport_size({"width": width, "height": 800})
    login(page, live_server.url, "acme-web", PASSWORD)

    page.goto(f"{live_server.url}/portal/orders/{placed.pk}/")

    assert page.locator(".tracking-events li").count() == 6
    assert page.locator(".delayed-notice").is_visible()
    assert page.locator("a.tracking-link").is_visible()
    found = page.evaluate(FITS)
    assert found["innerWidth"] == width
    assert found["scrollWidth"] == width
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], f"portal-order-{width}.png"), full_page=True)
