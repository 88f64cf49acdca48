"""``/shipping/late/``: shipments late (flagged delayed, or past the promised day) and at risk (the
estimate is the promise, the carrier holds or delays the parcel, promised tomorrow and not out for
delivery), scoped to the user's warehouses, filtered, in a bounded number of queries."""

import os
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fulfillment.tenancy.tests.factories import staff_client, staff_with_token
from inventory.tests import factories as inv
from orders.models import Order
from packing.models import Shipment
from packing.tests.factories import packed_order
from shipping import services
from shipping.models import TrackingState
from shipping.tests.factories import carrier, shipped, stocked_tenant
from tests.browser import CHROMIUM, login

FITS = "() => ({scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth})"

pytestmark = pytest.mark.django_db

# A Monday morning in Toronto, before the cut-offs (as in test_views).
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("America/Toronto"))
TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def clock(request):
    if request.node.get_closest_marker("browser"):  # a live server and Chromium run on the real clock
        yield None
        return
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def main():
    return inv.warehouse("MAIN")


@pytest.fixture
def tenant(main):
    return stocked_tenant(main)


@pytest.fixture
def manager(main):
    return staff_client("mia", "manager", main)


@pytest.fixture
def ship(django_capture_on_commit_callbacks, tenant):
    """Pack and label an order of ``tenant`` (or another): its shipment, with the promise and the
    estimate given (either left as the services made them when not given)."""

    def make(external_id, *, of=None, promised=None, estimate=None, **fields):
        order, shipment = shipped(django_capture_on_commit_callbacks, of or tenant, external_id=external_id, **fields)
        if promised is not None:
            Order.objects.filter(pk=order.pk).update(promised_delivery_date=promised)
        if estimate is not None:
            Shipment.objects.filter(pk=shipment.pk).update(estimated_delivery_date=estimate)
        shipment.refresh_from_db()
        return shipment

    return make


@pytest.fixture
def scan(clock):
    """A carrier's scan of a shipment, pushed a few minutes after it happened; the clock moves on
    20 minutes each time (still Monday morning), so that every scan is newer than the label."""

    def push(shipment, code, *, description="", location="Toronto ON"):
        clock.shift(timedelta(minutes=20))
        added = services.shipment_tracking_event_add(
            shipment_id=shipment.pk,
            code=code,
            occurred_at=timezone.now() - timedelta(minutes=5),
            description=description,
            location=location,
        )
        assert added == 1

    return push


def listed(client, query=""):
    """{"late": {order numbers}, "at_risk": {...}} of the page (status 200 asserted)."""
    response = client.get(f"/shipping/late/{query}")
    assert response.status_code == 200
    body = response.content.decode()
    found = {}
    for name, table in (("late", "late-shipments"), ("at_risk", "at-risk-shipments")):
        match = re.search(rf'<table[^>]*id="{table}".*?</table>', body, re.S)
        found[name] = set(re.findall(r'data-order="([^"]+)"', match.group(0))) if match else set()
    return found


def row_of(body, shipment) -> str:
    return re.search(rf'<tr data-shipment="{shipment.pk}".*?</tr>', body, re.S).group(0)


def test_a_delayed_shipment_is_late_an_on_hold_one_at_risk_and_a_delivered_one_neither(manager, ship, scan):
    delayed = ship("D1")
    on_hold = ship("H1")
    delivered = ship("X1")
    calm = ship("C1")
    promised = delayed.order.promised_delivery_date
    assert promised > TODAY + timedelta(days=1)  # nothing is due yet: only tracking makes them late or risky
    # The carrier's new estimate is after the promise: tracking flags it delayed at the next scan.
    Shipment.objects.filter(pk=delayed.pk).update(estimated_delivery_date=promised + timedelta(days=2))
    scan(delayed, "in_transit", description="Departed facility", location="Mississauga ON")
    scan(on_hold, "on_hold", description="Held at customs")
    scan(delivered, "in_transit")
    scan(delivered, "delivered")
    scan(calm, "in_transit")
    assert TrackingState.objects.get(pk=delayed.pk).delayed_at is not None
    assert TrackingState.objects.get(pk=on_hold.pk).delayed_at is None
    Shipment.objects.filter(pk=calm.pk).update(estimated_delivery_date=promised - timedelta(days=1))

    response = manager.get("/shipping/late/")

    assert listed(manager) == {"late": {delayed.order.number}, "at_risk": {on_hold.order.number}}
    body = response.content.decode()
    late_row = row_of(body, delayed)
    assert f'href="/orders/{delayed.order_id}/"' in late_row
    assert f'href="/shipping/shipments/{delayed.pk}/"' in late_row and delayed.tracking_number in late_row
    assert "demo-post" in late_row and delayed.order.tenant.name in late_row
    assert "In transit" in late_row and "Flagged late Mar 2" in late_row
    assert "Departed facility · Mississauga ON" in late_row
    assert "+2 expected" in late_row  # not late yet in days: expected two days after the promise
    risk_row = row_of(body, on_hold)
    assert "Held by the carrier" in risk_row and "Held at customs" in risk_row
    assert str(delivered.pk) not in body and str(calm.pk) not in body


def test_a_passed_promise_is_late_with_its_days_even_before_tracking_flags_it(manager, ship):
    overdue = ship("P1", promised=date(2026, 2, 26))

    body = manager.get("/shipping/late/").content.decode()

    assert listed(manager) == {"late": {overdue.order.number}, "at_risk": set()}
    row = row_of(body, overdue)
    assert "Promised day has passed" in row and 'data-days-late="4"' in row
    assert "Label made, not scanned yet" in row and "Shipping label created" in row


def test_a_label_bought_before_tracking_states_existed_is_listed_too(manager, ship):
    overdue = ship("S1", promised=date(2026, 2, 27))
    tomorrow = ship("S2", promised=TODAY + timedelta(days=1), estimate=TODAY)
    TrackingState.objects.filter(pk__in=[overdue.pk, tomorrow.pk]).delete()

    body = manager.get("/shipping/late/").content.decode()

    assert listed(manager) == {"late": {overdue.order.number}, "at_risk": {tomorrow.order.number}}
    assert "Promised day has passed" in row_of(body, overdue) and "No scan yet" in row_of(body, overdue)


def test_at_risk_the_estimate_on_the_promise_and_tomorrow_not_out_for_delivery(manager, ship, scan):
    tomorrow = TODAY + timedelta(days=1)
    on_the_day = ship("E1", promised=date(2026, 3, 6), estimate=date(2026, 3, 6))
    due_tomorrow = ship("T1", promised=tomorrow, estimate=tomorrow - timedelta(days=1))
    near = ship("T2", promised=tomorrow, estimate=tomorrow - timedelta(days=1))
    scan(near, "out_for_delivery")
    failed = ship("F1", promised=date(2026, 3, 9), estimate=date(2026, 3, 5))
    scan(failed, "delivery_failed", description="Nobody home")

    body = manager.get("/shipping/late/").content.decode()

    numbers = {on_the_day.order.number, due_tomorrow.order.number, failed.order.number}
    assert listed(manager) == {"late": set(), "at_risk": numbers}
    assert "Expected on the promised day itself" in row_of(body, on_the_day)
    assert "Promised tomorrow, not out for delivery" in row_of(body, due_tomorrow)
    assert "Delivery attempt failed" in row_of(body, failed)


def test_staff_of_another_warehouse_do_not_see_them(manager, ship, scan):
    west = inv.warehouse("WEST")
    west_manager = staff_client("wes", "manager", west)
    ship("P1", promised=date(2026, 2, 26))
    held = ship("H1")
    scan(held, "on_hold")

    assert listed(west_manager) == {"late": set(), "at_risk": set()}
    body = west_manager.get("/shipping/late/").content.decode()
    assert 'data-total="late">0<' in body and 'data-total="at-risk">0<' in body
    refused = west_manager.get("/shipping/late/?warehouse=MAIN")  # not one of theirs: a refused filter
    assert refused.status_code == 400 and "data-shipment=" not in refused.content.decode()
    assert len(listed(manager)["late"]) == 1


def test_the_filters_narrow_both_lists_and_the_chart(manager, main, ship, scan):
    other = stocked_tenant(main)
    first = ship("A1", promised=date(2026, 2, 27))
    second = ship("B1", of=other, promised=date(2026, 2, 27))
    held = ship("H1", of=other)
    carrier("cheapco", standard_rate="4.00")  # cheaper: the next label is cheapco's
    third = ship("C1", promised=date(2026, 2, 27))
    assert third.carrier_code == "cheapco" and first.carrier_code == held.carrier_code == "demo-post"
    scan(held, "delivery_delayed")

    everything = listed(manager)
    assert everything == {
        "late": {first.order.number, second.order.number, third.order.number},
        "at_risk": {held.order.number},
    }
    assert listed(manager, "?carrier=cheapco") == {"late": {third.order.number}, "at_risk": set()}
    assert listed(manager, f"?merchant={other.slug}") == {"late": {second.order.number}, "at_risk": {held.order.number}}
    assert listed(manager, "?warehouse=main") == everything
    assert manager.get("/shipping/late/?carrier=nobody").status_code == 400
    assert manager.get("/shipping/late/?warehouse=WEST").status_code == 400

    body = manager.get(f"/shipping/late/?merchant={other.slug}").content.decode()
    assert 'data-total="late">1<' in body and 'data-total="at-risk">1<' in body
    chart = re.search(r'<svg class="late-chart".*?</svg>', body, re.S).group(0)
    assert re.findall(r'data-carrier="([^"]+)"', chart) == ["demo-post"]
    body = manager.get("/shipping/late/").content.decode()
    chart = re.search(r'<svg class="late-chart".*?</svg>', body, re.S).group(0)
    bars = dict(re.findall(r'<g data-carrier="([^"]+)">.*?data-count="late">(\d+)<', chart, re.S))
    assert bars == {"cheapco": "1", "demo-post": "2"}


def test_each_list_pages_on_its_own(manager, ship, monkeypatch, scan):
    monkeypatch.setattr("shipping.views.late.PAGE_SIZE", 1)
    late = [ship(f"L{i}", promised=date(2026, 2, 20 + i)) for i in range(2)]
    held = ship("H1")
    scan(held, "on_hold")

    first = listed(manager)
    second = listed(manager, "?late_page=2")

    assert first == {"late": {late[0].order.number}, "at_risk": {held.order.number}}
    assert second == {"late": {late[1].order.number}, "at_risk": {held.order.number}}
    body = manager.get("/shipping/late/?carrier=demo-post").content.decode()
    assert 'href="?carrier=demo-post&amp;late_page=2"' in body


def test_the_page_reads_in_a_bounded_number_of_queries(manager, ship, django_assert_max_num_queries, scan):
    def render_count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert manager.get("/shipping/late/").status_code == 200
        return len(queries)

    ship("P0", promised=date(2026, 2, 20))
    held = ship("H0")
    scan(held, "on_hold")
    few = render_count()
    for i in range(1, 5):
        ship(f"P{i}", promised=date(2026, 2, 20))
        held = ship(f"H{i}")
        scan(held, "on_hold", description=f"Held {i}")

    assert len(listed(manager)["late"]) == 5 and len(listed(manager)["at_risk"]) == 5
    with django_assert_max_num_queries(few):
        assert manager.get("/shipping/late/").status_code == 200


def test_the_shipping_menu_links_the_late_page_and_merchants_may_not_open_it(manager, main):
    from django.test import Client

    from fulfillment.tenancy.services import merchant_user_create
    from fulfillment.tenancy.tests.factories import TenantFactory

    associate = staff_client("sam", "associate", main)
    merchant = Client()
    merchant.force_login(merchant_user_create(tenant=TenantFactory(), username="shop", password="pw-123456789"))

    assert 'href="/shipping/late/"' in manager.get("/shipping/").content.decode()
    page = manager.get("/shipping/late/").content.decode()
    assert '<a href="/shipping/late/" aria-current="page">Late</a>' in page
    assert "{{" not in page and "{%" not in page
    assert associate.get("/shipping/late/").status_code == 200
    assert merchant.get("/shipping/late/").status_code == 403


# -- in Chromium -------------------------------------------------------------------------------


@pytest.fixture
def late_world(transactional_db):
    """Made before the ``page`` fixture starts Playwright (karrio's rate sheet runs an event loop of
    its own): a parcel past its promise with a long scan, one flagged delayed, one on hold."""
    main = inv.warehouse("MAIN")
    tenant = stocked_tenant(main)
    staff_with_token(username="mia", role="manager", warehouse=main)
    today = timezone.localdate()
    found = {}
    for external_id in ("W1", "W2", "W3"):
        _, found[external_id] = packed_order(tenant, external_id=external_id, lines=[("TEE", 1)])
    Order.objects.filter(shipments=found["W1"]).update(promised_delivery_date=today - timedelta(days=3))
    promised = Order.objects.get(shipments=found["W2"]).promised_delivery_date
    Shipment.objects.filter(pk=found["W2"].pk).update(estimated_delivery_date=promised + timedelta(days=3))
    for key, code, description in (
        ("W1", "in_transit", "Arrived at the regional sort facility after a long road haul, waiting to be loaded"),
        ("W2", "in_transit", "Departed facility"),
        ("W3", "on_hold", "Held at customs: the commercial invoice is missing a value"),
    ):
        services.shipment_tracking_event_add(
            shipment_id=found[key].pk,
            code=code,
            occurred_at=timezone.now(),
            description=description,
            location="Mississauga ON",
        )
    assert TrackingState.objects.get(pk=found["W2"].pk).delayed_at is not None
    return found


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium at /usr/bin/chromium")
@pytest.mark.parametrize("width", [1366, 360])
def test_the_late_page_fits_the_screen(late_world, page, live_server, width):
    page.set_viewport_size({"width": width, "height": 800})
    login(page, live_server.url, "mia")

    page.goto(f"{live_server.url}/shipping/late/")

    assert page.locator("#late-shipments tbody tr").count() == 2
    assert page.locator("#at-risk-shipments tbody tr").count() == 1
    assert page.locator("svg.late-chart g[data-carrier]").count() == 1
    assert page.locator("svg.late-chart").bounding_box()["width"] > 0
    found = page.evaluate(FITS)
    assert found["innerWidth"] == width
    assert found["scrollWidth"] <= found["innerWidth"]
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], f"late-{width}.png"), full_page=True)
