"""The managers' returns page: expected (age, tracking), received today by the warehouse's local day,
awaiting the rest, unexpected units with "resolved", a chart; managers of the warehouse only; in
Chromium at 1366 and 360 px."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import time_machine

from fulfillment.tenancy import services as tenancy_services
from fulfillment.tenancy.tests.factories import staff_client, staff_with_token, tenant_with_key
from inventory.models import Warehouse
from inventory.tests import factories as inv
from returns import services
from returns.models import ReturnLabel, UnexpectedReturn
from returns.tests.factories import shipped_order
from shipping.models import CarrierAccount
from tests.browser import CHROMIUM, login

URL = "/returns/"
# 02:00 on Monday 7 December in Los Angeles.
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
LAST_NIGHT = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 22:00 on Sunday the 6th, local
THIS_MORNING = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 01:00 on the 7th, local
LAST_WEEK = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def _receive(rma, sku, quantity, grade="new", disposition="quarantine"):
    services.return_receive(
        return_id=rma.pk, lines=[{"sku": sku, "quantity": quantity, "condition": grade, "disposition": disposition}]
    )


def _floor(shop):
    """Four returns: one expected with a label (asked last week), one received last night (local), one
    received in part this morning, one received in full this morning; an unexpected unit."""
    Warehouse.objects.filter(pk=shop.wh.pk).update(timezone="America/Los_Angeles")

    def rma(lines):
        return services.return_create(
            tenant_id=shop.tenant.pk,
            order_id=shop.order.pk,
            lines=[{"sku": sku, "quantity": q, "reason": "Too small"} for sku, q in lines],
        )

    with time_machine.travel(LAST_WEEK, tick=False):
        expected = rma([("TEE-RED-M", 1)])
        ReturnLabel.objects.create(
            tenant_id=expected.tenant_id,
            rma=expected,
            account=CarrierAccount.objects.order_by("created_at").first(),
            service_code="ground",
            tracking_number="1ZEXPECTED01",
            label=b"%PDF-1.4",
            tracking_status="in_transit",
        )
    with time_machine.travel(LAST_NIGHT, tick=False):
        yesterday = rma([("TEE-RED-M", 1)])
        _receive(yesterday, "TEE-RED-M", 1, grade="opened")
    with time_machine.travel(THIS_MORNING, tick=False):
        partial = rma([("MUG-BLUE", 2)])
        _receive(partial, "MUG-BLUE", 1, grade="damaged")
        extra = services.unexpected_return_record(
            warehouse_id=shop.wh.pk, rma_id=partial.pk, sku="ODD-SKU", quantity=1, grade="defective", actor="ann"
        )
    return SimpleNamespace(expected=expected, yesterday=yesterday, partial=partial, extra=extra)


@pytest.fixture
def mia(shop):
    return staff_client("mia", "manager", shop.wh)


@pytest.mark.django_db
def test_the_page_shows_expected_received_today_awaiting_and_unexpected(shop, mia):
    made = _floor(shop)

    with time_machine.travel(NOW, tick=False):
        page = mia.get(URL)

    assert page.status_code == 200
    floor = page.context["floor"]
    assert [(e.rma.number, e.tracking_number, e.tracking_status, e.age_days) for e in floor.expected] == [
        (made.expected.number, "1ZEXPECTED01", "in_transit", 17)
    ]
    # Last night's receipt was before local midnight: not today.
    assert [(r.rma.number, r.units, r.grades, r.outstanding) for r in floor.received_today] == [
        (made.partial.number, 1, [("damaged", 1)], 1)
    ]
    assert [(a.rma.number, a.received, a.outstanding) for a in floor.awaiting] == [(made.partial.number, 1, 1)]
    assert [u.pk for u in floor.unexpected] == [made.extra.pk]
    assert [(d.day.isoformat(), d.by_grade) for d in floor.days if d.total] == [
        ("2026-12-06", {"opened": 1}),
        ("2026-12-07", {"damaged": 1}),
    ]
    assert len(floor.days) == 14
    html = page.content.decode()
    assert "no stock: unknown SKU" in html and f'id="resolve-{made.extra.pk}"' in html
    assert '<a href="/returns/" aria-current="page">Returns</a>' in html


@pytest.mark.django_db
def test_resolving_an_unexpected_unit_takes_it_off_the_list(shop, mia):
    made = _floor(shop)

    done = mia.post(URL, {"warehouse": shop.wh.code, "unexpected": str(made.extra.pk)}, follow=True)

    assert "1 x ODD-SKU marked resolved." in done.content.decode()
    assert UnexpectedReturn.objects.get(pk=made.extra.pk).resolved_at is not None
    assert done.context["floor"].unexpected == []


@pytest.mark.django_db
def test_another_warehouses_unexpected_unit_cannot_be_resolved(shop):
    made = _floor(shop)
    east = inv.warehouse("EAST")
    bob = staff_client("bob", "manager", east)

    answer = bob.post(URL, {"warehouse": "EAST", "unexpected": str(made.extra.pk)})

    assert answer.status_code == 404
    assert UnexpectedReturn.objects.get(pk=made.extra.pk).resolved_at is None
    assert bob.get(URL, {"warehouse": shop.wh.code}).status_code == 404


@pytest.mark.django_db
def test_associates_and_merchants_may_not_open_the_page(shop, client):
    ann = staff_client("ann", "associate", shop.wh)
    client.force_login(
        tenancy_services.merchant_user_create(tenant=shop.tenant, username="acme-web", password="pass-word-123")
    )

    assert ann.get(URL).status_code == 403
    assert client.get(URL).status_code == 403


FITS = "() => ({scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth})"


@pytest.mark.parametrize("width", [1366, 360])
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium at /usr/bin/chromium")
def test_a_manager_reads_the_returns_page_and_resolves_an_unexpected_unit(page, live_server, width):
    tenant, _key = tenant_with_key(slug="acme")
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE-RED-M")
    mug = inv.product(tenant, "MUG-BLUE")
    inv.stock(tenant, tee, wh, "01-01-1", 10, lot="LOT-A")
    inv.stock(tenant, mug, wh, "01-02-1", 10, lot="LOT-M")
    order = shipped_order(tenant, external_id="SHOP-1", lines=[("TEE-RED-M", 3), ("MUG-BLUE", 2)])
    made = _floor(SimpleNamespace(tenant=tenant, wh=wh, order=order))
    staff_with_token(username="mia", role="manager", warehouse=wh)
    page.set_viewport_size({"width": width, "height": 800})
    clock = time_machine.travel(NOW, tick=True)  # the page's "today" and its chart's two weeks
    clock.start()
    login(page, live_server.url, "mia")

    page.goto(f"{live_server.url}{URL}")
    assert page.locator("#chart svg").is_visible()
    assert page.locator(f"#received-today tr[data-return='{made.partial.number}']").count() == 1
    assert page.locator(f"#expected tr[data-return='{made.expected.number}']").count() == 1
    found = page.evaluate(FITS)
    assert found["scrollWidth"] <= found["innerWidth"] == width
    with page.expect_navigation():
        page.click(f"#resolve-{made.extra.pk}")

    assert page.locator("text=1 x ODD-SKU marked resolved.").is_visible()
    assert page.locator(f"tr[data-unexpected='{made.extra.pk}']").count() == 0
    found = page.evaluate(FITS)
    assert found["scrollWidth"] <= found["innerWidth"] == width
    clock.stop()
