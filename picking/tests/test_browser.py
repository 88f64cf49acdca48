"""The handheld pick page in Chromium at 360 x 740, driven by typed scans (code + Enter)."""

from fulfillment.tenancy.tests.factories import staff_with_token
from orders.models import Order, Status
from picking import services
from picking.tests.factories import allocated_orders
from tests.browser import BROWSER_MARKS, scan

pytestmark = BROWSER_MARKS


def test_associate_picks_a_list_on_the_handheld_with_a_wrong_scan_and_a_short_pick(
    live_server, page, django_capture_on_commit_callbacks
):
    _, wh, _, orders = allocated_orders(
        django_capture_on_commit_callbacks, count=2, quantity=1, stock=1, locations=("01-03-1", "02-04-1")
    )
    staff_with_token(username="picker", role="associate", warehouse=wh)
    pick_list = services.wave_build(warehouse=wh, strategy="batch", max_orders=10).pick_lists.get()

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "picker")
    page.fill("input[name=password]", "pass-word-123")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(f"{live_server.url}/handheld/pick/")
    page.click(f"a[href='/handheld/pick/{pick_list.pk}/']")

    first = page.text_content("#task-location")
    box = page.locator("#short-button").bounding_box()
    assert box["height"] >= 48 and box["width"] <= 360  # gloved hands, no horizontal scrolling
    # A wrong location is refused, loudly, and the task stays.
    scan(page, "09-09-9")
    assert "Wrong location" in page.text_content("#scan-error")
    assert page.text_content("#task-location") == first
    # The right location, then the product's barcode: the pick is confirmed.
    scan(page, first)
    assert "Scan product" in page.text_content("label[for=scan]")
    scan(page, "0012345678905")
    assert "Picked 1" in page.text_content(".hh-success")
    assert page.text_content(".hh-progress").startswith("1/2")
    # The second location is empty: report a short pick. No stock elsewhere: the order waits.
    with page.expect_navigation():
        page.click("#short-button")
    assert "Short pick reported" in page.text_content(".hh-warning")
    assert "Pick list complete" in page.text_content("#list-done")
    statuses = sorted(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True))
    assert statuses == sorted([Status.PICKED, Status.BACKORDERED])
