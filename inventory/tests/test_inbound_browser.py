"""The handheld receive and put-away pages in Chromium at 360 x 740, driven by typed scans (code + Enter)."""

from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory import services
from inventory.models import InboundLine, Receipt, StockBalance
from inventory.tests import factories as inv
from tests.browser import BROWSER_MARKS, scan

pytestmark = BROWSER_MARKS


def test_associate_receives_with_gs1_scans_and_puts_away_after_a_wrong_scan(live_server, page):
    tenant = TenantFactory(name="Acme")
    wh = inv.warehouse()
    pills = inv.product(tenant, "PILLS", barcode="09501101530003", lot_tracked=True, expiry_tracked=True)
    asn = services.inbound_create(
        tenant_id=tenant.pk, warehouse=wh, reference="PO-7", lines=[services.InboundLineInput(sku="PILLS", quantity=3)]
    )
    staff_with_token(username="ann", role="associate", warehouse=wh)

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "ann")
    page.fill("input[name=password]", "pass-word-123")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(f"{live_server.url}/handheld/receive/")
    with page.expect_navigation():
        page.click(f"a[data-shipment='{asn.pk}']")

    # A bad check digit buzzes; then three GS1-128 scans count three units with lot and expiry.
    scan(page, "0109501101530004|10B-1|17270630")
    assert page.locator("[data-error]").count() == 1
    for _ in range(3):
        scan(page, "0109501101530003|10B-1|17270630")
    assert page.text_content("#receive-count") == "3"
    # One of them is damaged: typed by hand, the field keeps the focus.
    page.click("#quantity")
    page.fill("#quantity", "2")
    page.click("#damaged")
    page.keyboard.press("Backspace")
    page.keyboard.type("1")
    assert page.evaluate("document.activeElement.id") == "damaged"
    box = page.locator("#confirm-button").bounding_box()
    assert box["height"] >= 48 and box["width"] <= 360
    with page.expect_navigation():
        page.click("#confirm-button")
    assert "Received 2 × PILLS into RECEIVING and 1 damaged to QUARANTINE." in page.text_content(".hh-success")
    line = InboundLine.objects.get(shipment=asn)
    assert (line.received_quantity, line.damaged_quantity) == (2, 1)

    page.goto(f"{live_server.url}/handheld/putaway/")
    suggested = page.text_content("#suggested-location")
    assert suggested == "01-01-1"
    scan(page, "PACKING")
    assert page.locator("[data-error]").count() == 1
    scan(page, suggested)
    assert "Put away 2 × PILLS in 01-01-1." in page.text_content(".hh-success")
    assert Receipt.objects.get().status == "put_away"
    assert StockBalance.objects.get(product=pills, location__code="01-01-1").on_hand == 2
    assert services.ledger_differences() == []
