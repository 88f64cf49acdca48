"""The Materials page in Chromium at a manager's 1366 x 768 screen."""

import os

from fulfillment.tenancy.tests.factories import staff_with_token
from inventory.tests import factories as inv
from packing import services
from tests.browser import BROWSER_MARKS, login

pytestmark = BROWSER_MARKS


def test_the_materials_page_fits_a_1366_px_screen_and_records_a_delivery(page, live_server):
    main = inv.warehouse("MAIN")
    staff_with_token(username="mia", role="manager", warehouse=main)
    for code, box, point, received in (
        ("M-BOX-S", "BOX-S", 10, 4),
        ("M-BOX-M", "BOX-M", 10, 35),
        ("TAPE", None, 2, 12),
    ):
        services.material_create(
            code=code, name=f"{code} stock", kind="tape" if box is None else "box", box_code=box, reorder_point=point
        )
        services.material_receive(warehouse_id=main.pk, material_code=code, quantity=received)
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, live_server.url, "mia")

    page.goto(f"{live_server.url}/packing/materials/")

    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    chart = page.locator('svg[data-chart="MAIN"]').bounding_box()
    assert chart["width"] >= 400 and chart["x"] + chart["width"] <= 1366
    assert page.locator('tr[data-material="M-BOX-S"].low').count() == 1
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "materials-1366.png"), full_page=True)

    page.select_option("select[name=material]", "M-BOX-S")
    page.select_option("select[name=reason]", "received")
    page.fill("input[name=quantity]", "20")
    with page.expect_navigation():
        page.click("#movement-form button[type=submit]")

    assert "M-BOX-S in MAIN: received (+20)." in page.inner_text(".messages")
    assert page.locator('tr[data-material="M-BOX-S"].low').count() == 0
    assert page.inner_text('tr[data-material="M-BOX-S"] td.on-hand') == "24"
