"""The merchant portal's Shopper e-mails page (on or off, which kinds, the sender) and the service
behind it. Every refusal changes nothing."""

from __future__ import annotations

import os

import pytest
from django.db import IntegrityError, transaction

from fulfillment.tenancy import selectors, services
from fulfillment.tenancy.models import Tenant
from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from tests.browser import CHROMIUM, login

pytestmark = pytest.mark.django_db

URL = "/portal/emails/"
PASSWORD = "pass-word-123"
ALL_KINDS = ["confirmation", "shipped", "out_for_delivery", "delivered", "delayed"]


def _state(tenant) -> tuple:
    tenant.refresh_from_db()
    return tenant.shopper_emails, tenant.shopper_email_opt_out, tenant.email_from


@pytest.fixture
def tenant():
    return TenantFactory(
        slug="acme", name="Acme Apparel", shopper_emails=True, shopper_email_opt_out=["delayed"],
        email_from="hello@acme.test",
    )  # fmt: skip


@pytest.fixture
def portal(client, tenant):
    user = services.merchant_user_create(tenant=tenant, username="acme-web", password=PASSWORD)
    client.force_login(user)
    return client


# -- the service -----------------------------------------------------------------------------


def test_the_service_stores_the_kinds_not_chosen_as_opted_out():
    tenant = TenantFactory()

    services.tenant_shopper_emails_update(
        tenant_id=tenant.pk, enabled=True, kinds=["shipped", "delivered", "shipped"], email_from=" hi@shop.test "
    )

    assert _state(tenant) == (True, ["confirmation", "out_for_delivery", "delayed"], "hi@shop.test")
    assert selectors.shopper_email_settings_get(tenant_id=tenant.pk) == selectors.ShopperEmailSettings(
        enabled=True, kinds=("shipped", "delivered"), email_from="hi@shop.test"
    )


def test_the_service_refuses_an_unknown_kind_and_a_bad_address_together_and_changes_nothing(tenant):
    before = _state(tenant)

    with pytest.raises(services.ShopperEmailSettingsError) as refused:
        services.tenant_shopper_emails_update(
            tenant_id=tenant.pk, enabled=False, kinds=["shipped", "invoice"], email_from="not an address"
        )

    assert refused.value.status == 422
    assert [(e["field"], e["code"]) for e in refused.value.errors] == [
        ("kinds", "invalid_choice"),
        ("email_from", "invalid"),
    ]
    assert _state(tenant) == before


@pytest.mark.parametrize(
    "address",
    ["hello@acme.test\nBcc: x@y.test", "a@acme.test, b@acme.test", "@acme.test", "hello@", "x" * 250 + "@acme.test"],
    ids=["line-break", "two", "no-local-part", "no-domain", "too-long"],
)
def test_the_service_refuses_a_sender_that_is_not_one_valid_address(tenant, address):
    before = _state(tenant)

    with pytest.raises(services.ShopperEmailSettingsError):
        services.tenant_shopper_emails_update(tenant_id=tenant.pk, enabled=True, kinds=ALL_KINDS, email_from=address)

    assert _state(tenant) == before


def test_the_database_refuses_an_unknown_kind_in_the_opt_outs(tenant):
    with pytest.raises(IntegrityError), transaction.atomic():
        Tenant.objects.filter(pk=tenant.pk).update(shopper_email_opt_out=["delayed", "invoice"])


# -- the page --------------------------------------------------------------------------------


def test_the_page_is_in_the_portal_menu_and_shows_the_current_settings(portal):
    page = portal.get(URL)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/portal/emails/" aria-current="page"' in html
    assert 'id="id_enabled" checked' in html
    for kind in ["confirmation", "shipped", "out_for_delivery", "delivered"]:
        assert f'value="{kind}" id="id_kind_{kind}" checked' in html
    assert 'value="delayed" id="id_kind_delayed">' in html  # opted out: not ticked
    assert 'value="hello@acme.test"' in html
    assert 'id="emails-off"' not in html


def test_the_branding_page_links_to_it_in_the_menu(portal):
    assert 'href="/portal/emails/">Shopper e-mails</a>' in portal.get("/portal/branding/").content.decode()


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_staff_users_are_refused(client):
    staff_with_token(username="mgr")
    client.login(username="mgr", password=PASSWORD)

    assert client.get(URL).status_code == 403


def test_the_page_saves_the_switch_the_kinds_and_the_sender(portal, tenant):
    response = portal.post(
        URL, {"enabled": "on", "kinds": ["shipped", "delivered", "delayed"], "email_from": "  orders@acme.test "}
    )

    assert response.status_code == 302
    assert response["Location"] == URL
    assert _state(tenant) == (True, ["confirmation", "out_for_delivery"], "orders@acme.test")
    page = portal.get(URL).content.decode()
    assert "E-mail settings saved." in page
    assert 'value="delayed" id="id_kind_delayed" checked' in page


def test_the_page_turns_emails_off_and_empties_the_sender(portal, tenant):
    response = portal.post(URL, {"kinds": ALL_KINDS, "email_from": ""})

    assert response.status_code == 302
    assert _state(tenant) == (False, [], "")
    page = portal.get(URL).content.decode()
    assert 'id="emails-off"' in page
    assert 'id="id_enabled">' in page


def test_the_page_refuses_a_bad_sender_shows_why_and_changes_nothing(portal, tenant):
    before = _state(tenant)

    response = portal.post(URL, {"kinds": ["shipped"], "email_from": "hello at acme"})

    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was changed" in html
    assert "Enter one valid e-mail address" in html
    assert 'aria-invalid="true" aria-describedby="email-from-error"' in html
    assert 'value="hello at acme"' in html  # what was typed, to correct it
    assert 'value="confirmation" id="id_kind_confirmation">' in html  # the ticks as sent, not as saved
    assert _state(tenant) == before


def test_the_page_refuses_an_unknown_kind_and_changes_nothing(portal, tenant):
    before = _state(tenant)

    response = portal.post(URL, {"enabled": "on", "kinds": ["shipped", "invoice"], "email_from": "new@acme.test"})

    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was changed" in html
    assert "invoice is not one of the available choices" in html
    assert _state(tenant) == before


def test_a_merchant_changes_only_its_own_settings(portal, tenant):
    other = TenantFactory(slug="globex", shopper_emails=True, email_from="hi@globex.test")

    portal.post(URL, {"kinds": [], "email_from": ""})

    assert _state(other) == (True, [], "hi@globex.test")


# -- in a browser, at 1366 and 360 px ----------------------------------------------------------

FITS = "() => ({scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth})"


def _fits(page, width):
    found = page.evaluate(FITS)
    assert found["innerWidth"] == width
    assert found["scrollWidth"] <= found["innerWidth"], page.url


@pytest.fixture
def merchant(transactional_db):
    tenant = TenantFactory(slug="acme", name="Acme Apparel")
    services.merchant_user_create(tenant=tenant, username="acme-web", password=PASSWORD)
    return tenant


@pytest.mark.parametrize("width", [1366, 360])
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium at /usr/bin/chromium")
def test_a_merchant_turns_emails_on_picks_kinds_and_is_told_of_a_bad_sender(merchant, page, live_server, width):
    page.set_viewport_size({"width": width, "height": 800})
    login(page, live_server.url, "acme-web", PASSWORD)

    page.goto(f"{live_server.url}{URL}")
    assert page.locator('a[href="/portal/emails/"][aria-current="page"]').count() == 1
    _fits(page, width)
    page.check("#id_enabled")
    page.uncheck("#id_kind_delayed")
    # The browser itself stops "hello at acme" (type=email); this one it lets through, the server refuses.
    page.fill("#id_email_from", "hello@acme")
    with page.expect_navigation():
        page.click("text=Save e-mail settings")

    assert page.locator("#email-from-error").is_visible()
    _fits(page, width)
    assert _state(merchant) == (False, [], "")
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(
            path=os.path.join(os.environ["SCREENSHOT_DIR"], f"shopper-emails-error-{width}.png"), full_page=True
        )

    page.fill("#id_email_from", "hello@acme.test")
    with page.expect_navigation():
        page.click("text=Save e-mail settings")

    assert page.url == f"{live_server.url}{URL}"
    assert page.locator("text=E-mail settings saved.").is_visible()
    _fits(page, width)
    assert _state(merchant) == (True, ["delayed"], "hello@acme.test")
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], f"shopper-emails-{width}.png"), full_page=True)
