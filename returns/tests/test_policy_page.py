"""The merchant portal's Return policy page: read, saved, refused with nothing changed; in Chromium."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from fulfillment.tenancy import services as tenancy_services
from fulfillment.tenancy.tests.factories import TenantFactory, staff_client
from inventory.tests import factories as inv
from returns.models import ReturnPolicy
from tests.browser import CHROMIUM, login

pytestmark = pytest.mark.django_db

URL = "/portal/returns/policy/"
PASSWORD = "pass-word-123"
FORM = {
    "window_days": "21",
    "restocking_fee_percent": "10",
    "return_shipping_fee": "6.50",
    "free_exchanges": "on",
    "resolutions": ["refund", "exchange"],
    "non_returnable_skus": "GIFT-CARD\nSOCKS-3PK\n",
    "reasons": "Too small\nToo large\nChanged my mind",
}


@pytest.fixture
def tenant():
    return TenantFactory(slug="acme", name="Acme Apparel")


@pytest.fixture
def portal(client, tenant):
    client.force_login(tenancy_services.merchant_user_create(tenant=tenant, username="acme-web", password=PASSWORD))
    return client


def test_the_page_shows_the_defaults_and_saves_the_policy(portal, tenant):
    shown = portal.get(URL).content.decode()

    saved = portal.post(URL, FORM)

    assert 'value="30"' in shown and "Changed my mind" in shown
    assert saved.status_code == 302
    policy = ReturnPolicy.objects.get(tenant=tenant)
    assert (policy.window_days, policy.restocking_fee_percent, policy.return_shipping_fee) == (
        21,
        Decimal("10.00"),
        Decimal("6.50"),
    )
    assert policy.non_returnable_skus == ["GIFT-CARD", "SOCKS-3PK"]
    assert (policy.resolutions, policy.reasons) == (
        ["refund", "exchange"],
        ["Too small", "Too large", "Changed my mind"],
    )
    assert policy.updated_by


def test_a_refused_policy_marks_the_fields_and_changes_nothing(portal, tenant):
    portal.post(URL, FORM)

    answer = portal.post(URL, {**FORM, "restocking_fee_percent": "150", "resolutions": [], "window_days": "7"})

    assert answer.status_code == 422
    html = answer.content.decode()
    assert 'id="restocking_fee_percent-error"' in html and 'id="resolutions-error"' in html
    assert "Nothing was changed" in html
    assert ReturnPolicy.objects.get(tenant=tenant).window_days == 21


def test_staff_may_not_open_the_merchants_policy_page(client):
    staff = staff_client("mia", "manager", inv.warehouse("MAIN"))

    assert staff.get(URL).status_code in {302, 403}
    assert ReturnPolicy.objects.count() == 0


FITS = "() => ({scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth})"


@pytest.mark.parametrize("width", [1366, 360])
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium at /usr/bin/chromium")
def test_a_merchant_sets_the_return_window_on_a_phone_and_a_desktop(page, live_server, width):
    tenant = TenantFactory(slug="acme", name="Acme Apparel")
    tenancy_services.merchant_user_create(tenant=tenant, username="acme-web", password=PASSWORD)
    page.set_viewport_size({"width": width, "height": 800})
    login(page, live_server.url, "acme-web", PASSWORD)

    page.goto(f"{live_server.url}{URL}")
    assert page.locator(f'a[href="{URL}"][aria-current="page"]').count() == 1
    page.fill("#id_window_days", "14")
    page.fill("#id_return_shipping_fee", "4.999")
    with page.expect_navigation():
        page.click("text=Save return policy")
    assert page.locator("#return_shipping_fee-error").is_visible()
    found = page.evaluate(FITS)
    assert found["scrollWidth"] <= found["innerWidth"] == width
    page.fill("#id_return_shipping_fee", "4.99")
    with page.expect_navigation():
        page.click("text=Save return policy")

    assert page.locator("text=Return policy saved").is_visible()
    found = page.evaluate(FITS)
    assert found["scrollWidth"] <= found["innerWidth"] == width
    policy = ReturnPolicy.objects.get(tenant=tenant)
    assert (policy.window_days, policy.return_shipping_fee) == (14, Decimal("4.99"))
