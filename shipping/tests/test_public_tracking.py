"""The shopper's public tracking page /track/<token>/: branded, history newest first, nothing of
the address but city and country, 404 for unknown tokens, per-shipment tokens across tenants under
row-level security, and the per-address rate limit."""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from fulfillment.tenancy import rls, services
from fulfillment.tenancy.tests.factories import TenantFactory, image_bytes
from inventory.tests import factories as inv
from orders.models import Order
from orders.tests.factories import ship_to
from packing.models import Shipment, ShipmentStatus
from packing.tests.factories import packed_order
from shipping.models import TrackingEvent, TrackingState, TrackingStatus
from shipping.tests.factories import stocked_tenant
from tests.browser import BROWSER_MARKS

NOW = datetime(2026, 12, 7, 15, 0, 10, tzinfo=UTC)
FITS = "() => ({scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth})"
SHOPPER = ship_to(
    name="Grace Hopper",
    line1="77 Queen Street East",
    line2="Apartment 1204",
    city="Hamilton",
    region="ON",
    postal_code="L8N 1A1",
    phone="+19055550199",
    email="grace.hopper@example.org",
)


def _url(shipment) -> str:
    return reverse("public-tracking", kwargs={"token": shipment.public_token})


def _labelled(tenant, *, external_id: str, tracking_number: str, ship_to_=SHOPPER):
    """A packed order whose shipment has a label (set directly: this page reads, never buys)."""
    order, shipment = packed_order(tenant, external_id=external_id, lines=[("TEE", 1)], ship_to=ship_to_)
    Order.objects.filter(pk=order.pk).update(promised_delivery_date=date(2026, 12, 10))
    Shipment.objects.filter(pk=shipment.pk).update(
        status=ShipmentStatus.IN_TRANSIT,
        carrier_code="demo-post",
        service_code="standard",
        tracking_number=tracking_number,
        label_purchased_at=datetime(2026, 12, 5, 14, 0, tzinfo=UTC),
        estimated_delivery_date=date(2026, 12, 11),
    )
    shipment.refresh_from_db()
    return order, shipment


def _event(shipment, status, *, at: datetime, description: str = "", location: str = "", code: str = ""):
    return TrackingEvent.objects.create(
        tenant_id=shipment.tenant_id,
        shipment=shipment,
        status=status,
        code=code or status.upper(),
        description=description,
        location=location,
        occurred_at=at,
    )


def _page(html: str, token: str) -> str:
    html = html.replace(f"/track/{token}/", "/track/TOKEN/")
    return re.sub(r'"X-CSRFToken": "[^"]*"', '"X-CSRFToken": ""', html)


@pytest.fixture
def main(db):
    return inv.warehouse("MAIN")


@pytest.fixture
def shop(main):
    tenant = stocked_tenant(main, tenant=TenantFactory(slug="acme", name="Acme Outfitters"))
    services.tenant_branding_update(tenant_id=tenant.pk, brand_color="#0A7D3B", logo=image_bytes())
    return tenant


@pytest.fixture
def parcel(shop):
    """Acme's shipment in transit, three scans told out of order, found late."""
    order, shipment = _labelled(shop, external_id="SHOP-1", tracking_number="DP123456789")
    _event(
        shipment,
        TrackingStatus.IN_TRANSIT,
        at=datetime(2026, 12, 6, 9, 30, tzinfo=UTC),
        description="Arrived at sort facility",
        location="Mississauga, ON",
    )
    _event(
        shipment,
        TrackingStatus.PICKED_UP,
        at=datetime(2026, 12, 5, 20, 15, tzinfo=UTC),
        description="Picked up from the warehouse",
        location="Toronto, ON",
    )
    _event(
        shipment,
        TrackingStatus.DELIVERY_DELAYED,
        at=datetime(2026, 12, 7, 11, 0, tzinfo=UTC),
        description="Weather delay at the hub",
        location="Burlington, ON",
    )
    TrackingState.objects.create(
        tenant_id=shop.pk,
        shipment=shipment,
        status=TrackingStatus.DELIVERY_DELAYED,
        status_at=datetime(2026, 12, 7, 11, 0, tzinfo=UTC),
        last_news_at=datetime(2026, 12, 7, 11, 0, tzinfo=UTC),
        delayed_at=datetime(2026, 12, 7, 11, 5, tzinfo=UTC),
    )
    return order, shipment


@time_machine.travel(NOW, tick=False)
def test_page_shows_branding_status_dates_and_history_newest_first(client, parcel):
    order, shipment = parcel

    response = client.get(_url(shipment))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme Outfitters" in html
    assert "--brand: #0A7D3B;" in html
    assert re.search(r'<img src="/brand/acme/logo\?v=[0-9a-f]{12}" alt="Acme Outfitters" id="logo">', html)
    assert order.number in html
    assert "DP123456789" in html
    assert '<dd id="carrier">Demo Post (rate sheet)</dd>' in html
    assert '<h1 id="status-words">Delayed</h1>' in html
    assert '<dd id="estimated">Friday, December 11</dd>' in html
    assert '<dd id="promised">Thursday, December 10</dd>' in html
    assert 'id="delayed"' in html and "Your parcel is delayed." in html
    descriptions = re.findall(r"<p>([^<]+)</p>", html.split('id="history"')[1])
    assert descriptions == ["Weather delay at the hub", "Arrived at sort facility", "Picked up from the warehouse"]
    words = re.findall(r'<p class="words">([^<]+)</p>', html)
    assert words == ["Delayed", "On its way", "Picked up by the carrier"]
    locations = re.findall(r'<span class="location">([^<]+)</span>', html)
    assert locations == ["Burlington, ON", "Mississauga, ON", "Toronto, ON"]
    # Times in the shipping warehouse's zone (America/Toronto): 11:00 UTC is 06:00 EST.
    assert '<time datetime="2026-12-07T06:00:00-05:00">Dec 7, 06:00 EST</time>' in html


@time_machine.travel(NOW, tick=False)
def test_page_shows_the_destination_city_and_country_but_no_name_street_email_or_phone(client, parcel):
    _, shipment = parcel

    html = client.get(_url(shipment)).content.decode()

    assert '<dd id="destination">Hamilton, CA</dd>' in html
    for secret in (
        "Grace",
        "Hopper",
        "77 Queen",
        "Queen Street",
        "Apartment 1204",
        "L8N",
        "9055550199",
        "+1905",
        "grace.hopper",
        "example.org",
    ):
        assert secret not in html, secret


@time_machine.travel(NOW, tick=False)
def test_page_carries_no_staff_menu_and_headers_keep_it_private_unindexed_and_the_token_unleaked(client, parcel):
    _, shipment = parcel

    response = client.get(_url(shipment))

    html = response.content.decode()
    assert 'aria-label="Main"' not in html and "/dashboard" not in html and "Log out" not in html
    assert response["Cache-Control"] == "private, max-age=60"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "csrftoken" not in response.cookies


@time_machine.travel(NOW, tick=False)
def test_shipment_without_tracking_state_reads_label_created_with_no_scans(client, shop):
    _, shipment = _labelled(shop, external_id="SHOP-2", tracking_number="DP000000002")

    html = client.get(_url(shipment)).content.decode()

    assert '<h1 id="status-words">Label created</h1>' in html
    assert 'id="no-events"' in html
    assert 'id="delayed"' not in html
    assert "--brand: #0A7D3B;" in html


@time_machine.travel(NOW, tick=False)
def test_merchant_without_colour_or_logo_gets_the_slips_default_colour_and_no_image(client, main):
    plain = stocked_tenant(main, tenant=TenantFactory(slug="plain", name="Plain Shop"))
    _, shipment = _labelled(plain, external_id="P-1", tracking_number="DP000000003")

    html = client.get(_url(shipment)).content.decode()

    assert "--brand: #000000;" in html and "--brand-text: #FFFFFF;" in html
    assert "<img" not in html
    assert "Plain Shop" in html


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("token", ["not-a-token", "x", "%00", "a" * 65, "DP123456789", "SHOP-1"])
def test_unknown_or_malformed_token_is_404(client, parcel, token):
    order, shipment = parcel
    unknown = "A" * 32  # well formed, no shipment has it

    baseline = client.get(f"/track/{unknown}/")
    response = client.get(f"/track/{token}/")

    assert baseline.status_code == response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html  # the project's 404 page
    assert "Acme" not in html and order.number not in html and shipment.public_token not in html
    # The same page as any unknown token's, but for the path it echoes (and the CSRF token the
    # project's 404 page mints for every request): nothing tells them apart.
    assert _page(html, token) == _page(baseline.content.decode(), unknown)


@time_machine.travel(NOW, tick=False)
def test_each_tenants_token_shows_its_own_shipment_only(client, parcel, main):
    _, ours = parcel
    globex = stocked_tenant(main, tenant=TenantFactory(slug="globex", name="Globex Goods"))
    _, theirs = _labelled(
        globex,
        external_id="G-1",
        tracking_number="DP999999999",
        ship_to_=ship_to(city="Winnipeg", region="MB", postal_code="R3C 4T3"),
    )
    _event(theirs, TrackingStatus.IN_TRANSIT, at=datetime(2026, 12, 6, 8, 0, tzinfo=UTC), description="Globex scan")

    our_page = client.get(_url(ours)).content.decode()
    their_page = client.get(_url(theirs)).content.decode()

    assert "Acme Outfitters" in our_page and "DP123456789" in our_page and "Hamilton" in our_page
    assert "Globex" not in our_page and "DP999999999" not in our_page and "Winnipeg" not in our_page
    assert "Globex Goods" in their_page and "DP999999999" in their_page and "Globex scan" in their_page
    assert "Acme" not in their_page and "DP123456789" not in their_page and "Weather delay" not in their_page


@time_machine.travel(NOW, tick=False)
def test_page_works_for_a_signed_in_merchant_of_another_tenant(client, parcel, main):
    """The page sets its own scope: another merchant's session (whose scope hides acme) changes nothing."""
    _, shipment = parcel
    globex = TenantFactory(slug="globex")
    client.force_login(services.merchant_user_create(tenant=globex, username="globex-web", password="pass-word-123"))

    response = client.get(_url(shipment))

    assert response.status_code == 200
    assert "DP123456789" in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_lookup_runs_with_no_scope_at_all(parcel):
    """What an anonymous request has: no row-level-security scope, in which no shipment is visible."""
    from shipping import selectors_tracking as selectors

    _, shipment = parcel
    with rls.use(rls.NONE):
        assert not Shipment.objects.filter(pk=shipment.pk).exists()
        found = selectors.public_tracking(token=shipment.public_token)
        assert rls.current() == rls.NONE

    assert found is not None
    assert found.tracking_number == "DP123456789"
    assert [e.status for e in found.events] == ["delivery_delayed", "in_transit", "picked_up"]


@time_machine.travel(NOW, tick=False)
def test_over_the_rate_limit_answers_429_with_retry_after_and_reads_nothing(
    client, parcel, settings, django_assert_num_queries
):
    settings.TRACKING_PAGE_RATE = "3/m"
    _, shipment = parcel
    state_before = TrackingState.objects.filter(pk=shipment.pk).values().get()
    events_before = list(TrackingEvent.objects.filter(shipment=shipment).values().order_by("pk"))

    # Unknown tokens count too: guessing costs the same as looking.
    assert client.get("/track/" + "B" * 32 + "/").status_code == 404
    assert client.get(_url(shipment)).status_code == 200
    assert client.get(_url(shipment)).status_code == 200
    with django_assert_num_queries(0):
        refused = client.get(_url(shipment))

    assert refused.status_code == 429
    assert refused["Retry-After"] == "50"  # the minute's window ends at 15:01:00; now is 15:00:10
    assert refused["Cache-Control"] == "no-store"
    html = refused.content.decode()
    assert "Too many requests" in html
    assert "DP123456789" not in html and "Acme" not in html
    assert client.get("/track/" + "B" * 32 + "/").status_code == 429
    # Another address is counted apart.
    assert client.get(_url(shipment), REMOTE_ADDR="203.0.113.9").status_code == 200
    # Nothing else changed.
    assert TrackingState.objects.filter(pk=shipment.pk).values().get() == state_before
    assert list(TrackingEvent.objects.filter(shipment=shipment).values().order_by("pk")) == events_before


def test_the_next_window_is_open_again(client, parcel, settings):
    settings.TRACKING_PAGE_RATE = "1/m"
    _, shipment = parcel

    with time_machine.travel(NOW, tick=False) as clock:
        assert client.get(_url(shipment)).status_code == 200
        assert client.get(_url(shipment)).status_code == 429
        clock.move_to(datetime(2026, 12, 7, 15, 1, 0, tzinfo=UTC))
        assert client.get(_url(shipment)).status_code == 200


@time_machine.travel(NOW, tick=False)
def test_the_rate_setting_is_read_like_the_api_rate_and_its_unit_sets_the_window(client, parcel, settings, monkeypatch):
    from fulfillment.env import env_rate

    monkeypatch.setenv("TRACKING_PAGE_RATE", "1/hour")
    settings.TRACKING_PAGE_RATE = env_rate("TRACKING_PAGE_RATE", "60/min")
    _, shipment = parcel

    assert client.get(_url(shipment)).status_code == 200
    refused = client.get(_url(shipment))

    assert refused.status_code == 429
    assert refused["Retry-After"] == "3590"  # the hour's window ends at 16:00:00; now is 15:00:10


@time_machine.travel(NOW, tick=False)
def test_rate_off_never_refuses(client, parcel, settings):
    settings.TRACKING_PAGE_RATE = None
    _, shipment = parcel

    assert [client.get(_url(shipment)).status_code for _ in range(70)] == [200] * 70


@time_machine.travel(NOW, tick=False)
def test_the_apis_tracking_url_opens_this_page(client, parcel):
    from shipping.api.serializers import ShipmentSerializer

    _, shipment = parcel
    url = ShipmentSerializer(Shipment.objects.get(pk=shipment.pk)).data["tracking_url"]

    assert url == f"/track/{shipment.public_token}/"
    assert client.get(url).status_code == 200


def _browser(test):
    for mark in reversed(BROWSER_MARKS):
        test = mark(test)
    return test


@pytest.fixture
def browser_parcel(transactional_db):
    """Made before Playwright starts (the page fixture); the label is set directly, none is bought."""
    from django.db import transaction

    main = inv.warehouse("MAIN")
    tenant = stocked_tenant(main, tenant=TenantFactory(slug="acme", name="Acme Outfitters and Sons of Ontario"))
    services.tenant_branding_update(tenant_id=tenant.pk, brand_color="#F2C94C", logo=image_bytes((240, 60)))
    with transaction.atomic():  # packing's label purchase waits for the commit: make it find a label
        _, shipment = _labelled(tenant, external_id="SHOP-1", tracking_number="DP123456789012345678")
    TrackingState.objects.update_or_create(
        shipment=shipment,
        defaults={
            "tenant_id": tenant.pk,
            "status": TrackingStatus.DELIVERY_DELAYED,
            "last_news_at": NOW,
            "delayed_at": NOW,
        },
    )
    for hour in range(5):
        _event(
            shipment,
            TrackingStatus.IN_TRANSIT,
            at=datetime(2026, 12, 6, hour, 0, tzinfo=UTC),
            code=f"S{hour}",
            description="Departed the regional sort facility and is on its way to the next one " * 2,
            location="Mississauga Gateway Processing Centre, ON",
        )
    return shipment


@_browser
@pytest.mark.parametrize("width", [1366, 360])
def test_tracking_page_fits_the_screen(browser_parcel, page, live_server, width):
    page.set_viewport_size({"width": width, "height": 740})

    response = page.goto(f"{live_server.url}{_url(browser_parcel)}")

    assert response.status == 200
    assert page.locator("#status-words").inner_text() == "Delayed"
    assert page.locator("#tracking-number").inner_text() == "DP123456789012345678"
    assert page.locator("#delayed").is_visible()
    assert page.locator("ol.history li").count() == 5
    assert page.locator("#logo").evaluate("img => img.naturalWidth") == 240  # the logo loaded
    found = page.evaluate(FITS)
    assert found["innerWidth"] == width
    assert found["scrollWidth"] == width
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], f"tracking-{width}.png"), full_page=True)
