"""The handheld blind count and the count review page in Chromium at 360 x 740 (typed scans: code + Enter)."""

from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory.models import CountStatus, ProductBarcode, StockBalance
from inventory.services import counts, ledger_differences
from inventory.tests import factories as inv
from tests.browser import BROWSER_MARKS, login, scan

pytestmark = BROWSER_MARKS


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_associate_counts_blind_on_the_handheld_and_a_manager_approves(live_server, page):
    tenant = TenantFactory(slug="acme")
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE")
    ProductBarcode.objects.create(tenant=tenant, product=tee, code="14006381333938", quantity=6)
    inv.stock(tenant, tee, wh, "01-01-1", 20, lot="L1")
    count = counts.count_create(warehouse_id=wh.pk, location_code="01-01-1")
    staff_with_token(username="al", role="associate", warehouse=wh)
    staff_with_token(username="mia", role="manager", warehouse=wh)

    login(page, live_server.url, "al")
    page.goto(f"{live_server.url}/handheld/count/")
    assert fits(page)
    with page.expect_navigation():  # a scanner's keystrokes before the page has loaded go nowhere
        page.click(f"a[href='/handheld/count/{count.pk}/']")
    scan(page, "01-02-1")  # wrong location: refused, with the buzz marker
    assert page.get_attribute("#scan-error", "data-error") == "1"
    scan(page, "01-01-1")
    scan(page, "14006381333938")
    scan(page, "14006381333938")
    assert page.text_content("[data-sku=TEE] .count-qty") == "12"
    scan(page, "11")  # a typed number sets the count
    assert page.text_content("[data-sku=TEE] .count-qty") == "11"
    assert fits(page)
    with page.expect_navigation():
        page.click("#submit-count")
    assert "Count of 01-01-1 submitted." in page.content()

    count.refresh_from_db()
    assert count.status == CountStatus.IN_REVIEW  # 9 of 20 missing: over the tolerance

    page.context.clear_cookies()
    login(page, live_server.url, "mia")
    page.goto(f"{live_server.url}/inventory/counts/")
    assert page.text_content(f"[data-count='{count.pk}'] .variance").strip() == "-9"
    assert fits(page)  # the table scrolls inside its wrapper, the page does not
    with page.expect_navigation():
        page.click(f"[data-count='{count.pk}'] button:has-text('Approve')")
    count.refresh_from_db()
    assert count.status == CountStatus.CLOSED
    assert StockBalance.objects.get(product=tee, location__code="01-01-1").on_hand == 11
    assert ledger_differences() == []
