"""The merchant portal's order pages: list (filters, pagination, CSV export) and detail."""

import csv
import io
import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from fulfillment.tenancy.services import merchant_user_create
from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory.tests import factories as inv
from orders.models import Order
from orders.tests.factories import order, ship_to
from orders.views import portal
from tests.browser import BROWSER_MARKS, login

PASSWORD = "pass-word-123"
LIST = "/portal/"


def _numbers(response) -> list[str]:
    return re.findall(r'<tr data-order="([\w-]+)">', response.content.decode())


@pytest.fixture
def shop(db):
    """Tenant acme with a portal user, a warehouse and a product; no stock (orders stay received)."""
    tenant = TenantFactory(slug="acme", default_warehouse_code="MAIN")
    wh = inv.warehouse()
    inv.product(tenant, "TEE-RED-M")
    user = merchant_user_create(tenant=tenant, username="acme-web", password=PASSWORD)
    return tenant, wh, user


@pytest.fixture
def merchant_client(client, shop):
    client.force_login(shop[2])
    return client


def _order(tenant, external_id, **fields):
    return order(tenant, external_id=external_id, lines=[("TEE-RED-M", 1)], **fields)


def test_anonymous_user_is_sent_to_login(client, shop):
    response = client.get(LIST)

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/portal/"


def test_list_shows_only_the_merchants_own_orders_newest_first(merchant_client, shop):
    tenant, _, _ = shop
    first = _order(tenant, "SHOP-1")
    second = _order(tenant, "SHOP-2")
    other = TenantFactory(slug="globex", default_warehouse_code="MAIN")
    inv.product(other, "TEE-RED-M")
    theirs = _order(other, "THEIRS-1")

    response = merchant_client.get(LIST)

    assert response.status_code == 200
    assert _numbers(response) == [second.number, first.number]
    assert theirs.number not in response.content.decode()


def test_status_filter_takes_several_statuses(merchant_client, shop):
    tenant, _, _ = shop
    received = _order(tenant, "SHOP-1")
    payment = _order(tenant, "SHOP-2", payment_status="pending")
    address = _order(tenant, "SHOP-3", ship_to=ship_to(postal_code="12345"))
    assert [o.status for o in (received, payment, address)] == ["received", "on_hold", "on_hold"]

    on_hold = merchant_client.get(LIST, {"status": ["on_hold"]})
    both = merchant_client.get(LIST, {"status": ["on_hold", "received"]})
    shipped = merchant_client.get(LIST, {"status": ["shipped"]})

    assert _numbers(on_hold) == [address.number, payment.number]
    assert _numbers(both) == [address.number, payment.number, received.number]
    assert _numbers(shipped) == []
    assert "No orders match these filters." in shipped.content.decode()
    # Hold reasons are shown per row.
    html = on_hold.content.decode()
    assert '<span class="tag">payment_pending</span>' in html and '<span class="tag">address_invalid</span>' in html


def test_created_range_includes_the_whole_last_day(merchant_client, shop):
    tenant, _, _ = shop
    old = _order(tenant, "OLD")
    recent = _order(tenant, "RECENT")
    today = timezone.localdate()
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))

    last_week = merchant_client.get(LIST, {"created_from": (today - timedelta(days=7)).isoformat()})
    until_today = merchant_client.get(LIST, {"created_to": today.isoformat()})
    long_ago = merchant_client.get(
        LIST,
        {
            "created_from": (today - timedelta(days=11)).isoformat(),
            "created_to": (today - timedelta(days=9)).isoformat(),
        },
    )

    assert _numbers(last_week) == [recent.number]
    assert _numbers(until_today) == [recent.number, old.number]
    assert _numbers(long_ago) == [old.number]


def test_search_matches_external_id_number_or_ship_to_name(merchant_client, shop):
    tenant, _, _ = shop
    ada = _order(tenant, "SHOP-ADA")
    grace = _order(tenant, "SHOP-GRACE", ship_to=ship_to(name="Grace Hopper"))

    assert _numbers(merchant_client.get(LIST, {"q": "shop-ada"})) == [ada.number]
    assert _numbers(merchant_client.get(LIST, {"q": grace.number})) == [grace.number]
    assert _numbers(merchant_client.get(LIST, {"q": "hopper"})) == [grace.number]
    assert _numbers(merchant_client.get(LIST, {"q": "nobody"})) == []


def test_bad_filters_are_form_errors_and_not_applied(merchant_client, shop):
    tenant, _, _ = shop
    placed = _order(tenant, "SHOP-1")

    response = merchant_client.get(LIST, {"created_from": "yesterday", "status": ["lost"]})
    backwards = merchant_client.get(LIST, {"created_from": "2026-02-01", "created_to": "2026-01-01"})
    export = merchant_client.get(LIST, {"created_from": "yesterday", "export": "csv"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid date." in html and "Select a valid choice." in html
    assert _numbers(response) == [placed.number]
    assert "Must be on or after the start date." in backwards.content.decode()
    assert export.status_code == 400
    assert "created_from" in export.content.decode()


def test_list_pages_by_page_size(merchant_client, shop, monkeypatch):
    tenant, _, _ = shop
    placed = [_order(tenant, f"SHOP-{n}") for n in range(3)]
    monkeypatch.setattr(portal, "PAGE_SIZE", 2)

    first = merchant_client.get(LIST, {"q": "shop"})
    second = merchant_client.get(LIST, {"q": "shop", "page": 2})

    assert _numbers(first) == [placed[2].number, placed[1].number]
    assert _numbers(second) == [placed[0].number]
    assert 'href="?q=shop&amp;page=2"' in first.content.decode()


def test_list_pages_hold_50_orders():
    assert portal.PAGE_SIZE == 50


def test_csv_export_of_the_filtered_list_neutralises_formulas(merchant_client, shop):
    tenant, _, _ = shop
    evil = _order(tenant, "SHOP-EVIL", ship_to=ship_to(name='=HYPERLINK("http://evil.example/x","click")'))
    _order(tenant, "SHOP-PLAIN", payment_status="pending")

    response = merchant_client.get(LIST, {"status": ["received"], "export": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="orders-{date.today().isoformat()}.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == portal.CSV_HEADER
    assert len(rows) == 2  # the on-hold order is filtered out
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["number"] == evil.number and row["external_id"] == "SHOP-EVIL" and row["status"] == "received"
    assert row["ship_to_name"] == '\'=HYPERLINK("http://evil.example/x","click")'


def test_detail_shows_lines_ship_to_holds_with_address_errors_and_timeline(merchant_client, shop):
    tenant, _, _ = shop
    held = _order(tenant, "SHOP-1", ship_to=ship_to(postal_code="12345"))
    held.refresh_from_db()
    assert held.address_errors  # the Canadian postal code rules refuse 12345

    response = merchant_client.get(f"/portal/orders/{held.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert held.number in html and "SHOP-1" in html
    assert '<tr data-sku="TEE-RED-M">' in html
    for error in held.address_errors:
        assert f"<code>{error['field']}</code>: {error['message']}" in html
    assert f"PATCH /api/v1/orders/{held.pk}/" in html
    assert "Ada Lovelace" in html and "123 King St W" in html and "12345" in html
    assert "Not shipped yet." in html
    for event in held.events.all():
        assert event.type in html


def test_detail_shows_shipments_read_through_the_reverse_relation(merchant_client, shop):
    tenant, wh, _ = shop
    placed = _order(tenant, "SHOP-1")
    placed.shipments.create(
        tenant=tenant,
        warehouse=wh,
        carrier_code="sandbox",
        service_code="express",
        tracking_number="SBX000123",
        estimated_delivery_date=date(2026, 3, 4),
    )

    html = merchant_client.get(f"/portal/orders/{placed.pk}/").content.decode()

    assert "sandbox" in html and "express" in html and "SBX000123" in html and "2026-03-04" in html


def test_other_tenants_order_is_404(merchant_client, shop):
    other = TenantFactory(slug="globex", default_warehouse_code="MAIN")
    inv.product(other, "TEE-RED-M")
    theirs = _order(other, "THEIRS-1")

    assert merchant_client.get(f"/portal/orders/{theirs.pk}/").status_code == 404
    assert merchant_client.get("/portal/orders/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_staff_user_gets_403_on_the_portal(client, shop):
    manager, _ = staff_with_token(username="maria", role="manager", warehouse=shop[1])
    client.force_login(manager)
    placed = _order(shop[0], "SHOP-1")

    assert client.get(LIST).status_code == 403
    assert client.get(f"/portal/orders/{placed.pk}/").status_code == 403
    assert client.get("/portal/api-keys/").status_code == 403
    assert client.get("/portal/webhooks/").status_code == 403


def test_merchant_is_sent_from_the_dashboard_to_the_portal_and_refused_on_staff_pages(merchant_client):
    assert merchant_client.get("/").status_code == 302
    assert merchant_client.get("/")["Location"] == "/portal/"
    assert merchant_client.get("/inventory/").status_code == 403
    assert merchant_client.get("/handheld/pick/").status_code == 403


def test_merchant_lands_on_the_portal_after_logging_in(client, shop):
    response = client.post("/login/", {"username": "acme-web", "password": PASSWORD}, follow=True)

    assert response.redirect_chain == [("/", 302), ("/portal/", 302)]
    assert response.status_code == 200
    assert "<h1>Orders</h1>" in response.content.decode()


def _browser(test):
    for mark in reversed(BROWSER_MARKS):
        test = mark(test)
    return test


@_browser
def test_merchant_browses_orders_and_an_order_on_a_handheld_screen(page, live_server):
    tenant = TenantFactory(slug="acme", default_warehouse_code="MAIN")
    inv.warehouse()
    inv.product(tenant, "TEE-RED-M")
    merchant_user_create(tenant=tenant, username="acme-web", password=PASSWORD)
    held = _order(tenant, "SHOP-HELD", ship_to=ship_to(postal_code="12345"))
    _order(tenant, "SHOP-OK")

    login(page, live_server.url, "acme-web", PASSWORD)

    assert page.url == f"{live_server.url}/portal/"
    assert page.locator("#orders tbody tr").count() == 2
    # Nothing but the table scrolls sideways at 360 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    with page.expect_navigation():
        page.click(f"text={held.number}")
    assert page.url == f"{live_server.url}/portal/orders/{held.pk}/"
    assert page.locator("#address-errors li").count() >= 1
    assert page.locator("#lines tbody tr").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
