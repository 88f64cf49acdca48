"""The dashboard in Chromium at handheld width: log in, read the counts, watch htmx refresh them."""

import os
import shutil

import pytest

from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory.tests import factories as inv
from orders.tests.factories import order

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture
def browser_page(live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM is used between Playwright calls
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True)
        page = context.new_page()
        page.foreign_requests = []
        page.on(
            "request",
            lambda request: (
                None if request.url.startswith(live_server.url) else page.foreign_requests.append(request.url)
            ),
        )
        yield page
        browser.close()


def _count(page, status: str) -> str:
    return page.text_content(f'#order-counts tr[data-status="{status}"] td.num').strip()


def test_manager_logs_in_at_360px_and_the_counts_refresh_themselves(live_server, browser_page):
    page = browser_page
    wh = inv.warehouse("MAIN", aisles=1, bays=1, levels=1)
    tenant = TenantFactory(name="Acme Goods")
    inv.product(tenant, "MUG-BLUE")
    first = order(tenant, external_id="A-1", lines=[("MUG-BLUE", 1)], warehouse="MAIN")
    staff_with_token(username="maria", role="manager", warehouse=wh)

    page.goto(f"{live_server.url}/")
    assert page.url == f"{live_server.url}/login/?next=/"
    page.fill("input[name=username]", "maria")
    page.fill("input[name=password]", "pass-word-123")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.url == f"{live_server.url}/"
    assert page.text_content("h1") == "Dashboard"
    assert page.text_content(f'tr[data-order="{first.number}"] td:nth-child(2)') == "Acme Goods"
    assert page.evaluate("document.documentElement.scrollWidth") == 360  # nothing wider than the screen
    assert page.is_visible("text=Handheld")
    backordered_before = _count(page, "backordered")

    # A new order arrives; the counts table picks it up on its next 15 s poll, without a reload.
    order(tenant, external_id="A-2", lines=[("MUG-BLUE", 1)], warehouse="MAIN")
    page.wait_for_function(
        """() => document.querySelector('#order-counts tr[data-status="backordered"] td.num').textContent.trim() === '2'""",
        timeout=20_000,
    )

    assert backordered_before == "1"
    assert _count(page, "backordered") == "2"
    assert page.foreign_requests == []

    with page.expect_navigation():
        page.click("button:has-text('Log out')")
    assert page.url == f"{live_server.url}/login/"
