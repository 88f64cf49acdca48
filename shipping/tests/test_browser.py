"""The shipping pages in Chromium at a manager's 1366 px screen and a 360 px handheld: nothing
scrolls sideways, the menu shows Shipping, Void asks first, and the account form's rows grow."""

import os

import pytest

from fulfillment.tenancy.tests.factories import staff_with_token
from inventory.tests import factories as inv
from orders.models import Order, Status
from packing.tests.factories import packed_order
from shipping.models import CarrierAccount, CarrierService, ShippingException
from shipping.tests.factories import stocked_tenant
from tests.browser import BROWSER_MARKS, login

pytestmark = BROWSER_MARKS

FITS = "() => ({scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth})"


@pytest.fixture
def world(transactional_db):
    """Made before the ``page`` fixture starts Playwright: karrio's rate-sheet carrier runs an event
    loop of its own, which it cannot do in a thread where Playwright's loop is running."""
    main = inv.warehouse("MAIN")
    tenant = stocked_tenant(main)
    staff_with_token(username="mia", role="manager", warehouse=main)
    # Transactional test: packing's purchase runs on commit, so this one ships with a label.
    shipped, _ = packed_order(tenant, external_id="B1", lines=[("TEE", 2)])
    # No same-day service: this one waits in the exceptions queue without a label.
    CarrierService.objects.filter(level="same_day").update(active=False)
    waiting, _ = packed_order(tenant, external_id="B2", lines=[("MUG", 1)], shipping_method="same_day")
    CarrierService.objects.filter(level="same_day").update(active=True)
    return shipped, waiting


def _fits(page, width):
    found = page.evaluate(FITS)
    assert found["innerWidth"] == width
    assert found["scrollWidth"] <= found["innerWidth"], page.url


@pytest.mark.parametrize("width", [1366, 360])
def test_every_shipping_page_fits_the_screen_and_the_menu_shows_shipping(world, page, live_server, width):
    shipped, waiting = world
    assert Order.objects.get(pk=shipped.pk).status == Status.SHIPPED
    assert ShippingException.objects.filter(shipment__order=waiting, resolved_at__isnull=True).exists()
    page.set_viewport_size({"width": width, "height": 800})
    login(page, live_server.url, "mia")

    for path in (
        "/shipping/",
        f"/shipping/shipments/{shipped.shipments.get().pk}/",
        f"/shipping/shipments/{waiting.shipments.get().pk}/",
        "/shipping/exceptions/",
        "/shipping/carriers/",
        "/shipping/carriers/new/",
        f"/shipping/carriers/{CarrierAccount.objects.get(carrier_id='demo-post').pk}/edit/",
        "/shipping/end-of-day/",
    ):
        page.goto(f"{live_server.url}{path}")
        assert page.locator('nav[aria-label="Main"] a[href="/shipping/"]').is_visible(), path
        assert page.locator('nav[aria-label="Shipping"] a[href="/shipping/carriers/"]').is_visible(), path
        _fits(page, width)
        if os.environ.get("SCREENSHOT_DIR"):
            name = path.strip("/").replace("/", "-")[:40] or "shipping"
            page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], f"{name}-{width}.png"), full_page=True)


def test_void_asks_first_and_puts_the_order_back_to_packed(world, page, live_server):
    shipped, _ = world
    login(page, live_server.url, "mia")
    page.goto(f"{live_server.url}/shipping/")
    void = page.locator(f'tr[data-order="{shipped.number}"] form[action$="/void/"] button')

    page.once("dialog", lambda dialog: dialog.dismiss())
    void.click()
    page.wait_for_timeout(300)
    assert Order.objects.get(pk=shipped.pk).status == Status.SHIPPED

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        void.click()

    assert "voided; the order is packed again." in page.inner_text(".messages")
    assert Order.objects.get(pk=shipped.pk).status == Status.PACKED
    _fits(page, 360)


def test_the_account_form_shows_the_chosen_carriers_fields_and_adds_zone_rows(world, page, live_server):
    login(page, live_server.url, "mia")
    page.goto(f"{live_server.url}/shipping/carriers/new/")

    assert page.locator('fieldset[data-carrier="generic"]').is_visible()
    assert not page.locator('fieldset[data-carrier="fedex"]').is_visible()
    first = page.locator('[data-service-row="0"]')
    assert first.locator(".zone-row").count() == 3
    first.locator("[data-add-zone]").click()
    assert first.locator(".zone-row").count() == 4
    page.click("#add-service")
    assert page.locator('[data-service-row="3"] .zone-row').count() == 3
    _fits(page, 360)

    page.fill("input[name=carrier_id]", "town-post")
    page.fill("input[name=service-0-code]", "standard")
    page.fill("input[name=service-0-transit_days]", "2")
    page.fill("input[name=service-0-zone-3-countries]", "CA")
    page.fill("input[name=service-0-zone-3-rate]", "6.50")
    with page.expect_navigation():
        page.click("#save-account")

    assert "Carrier account town-post added with 1 service." in page.inner_text(".messages")
    service = CarrierService.objects.get(account__carrier_id="town-post")
    assert service.zones == [
        {"country_codes": ["CA"], "min_weight_kg": None, "max_weight_kg": None, "rate": "6.50", "transit_days": None}
    ]

    page.goto(f"{live_server.url}/shipping/carriers/new/")
    page.select_option("select[name=carrier_name]", "fedex")
    assert page.locator('fieldset[data-carrier="fedex"] input[type=password]').count() == 5
    assert not page.locator('fieldset[data-carrier="generic"]').is_visible()
    assert not page.locator('[data-service-row="0"] [data-zones]').is_visible()
