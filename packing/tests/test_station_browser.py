"""The pack station in Chromium: a packer at a 360 px handheld and at a 1366 px bench packs a demo
order with a wrong scan and a wrong weight on the way, as a keyboard-wedge scanner and scale type."""

from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory.services.catalog import gtin_check_digit
from inventory.tests import factories as inv
from orders.models import Order, Status
from packing.models import PackScan, PackSessionPackage
from packing.tests.factories import ensure_default_boxes, picked_order
from tests.browser import BROWSER_MARKS, login

pytestmark = BROWSER_MARKS

TEE_UPC = "0012345678905"
MUG_EAN = "400638133393" + str(gtin_check_digit("400638133393"))
SOCK_UPC = "0036000291452"

LAYOUT = """() => {
  const small = [];
  for (const el of document.querySelectorAll("main a, main button, main input:not([type=hidden]), main textarea")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.height < 44) small.push(`${el.id || el.textContent.trim()} ${box.width}x${box.height}`);
  }
  return {small, scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth};
}"""


def _world():
    ensure_default_boxes()
    tenant = TenantFactory(name="Acme Apparel")
    wh = inv.warehouse("MAIN")
    tee = inv.product(tenant, "TEE", barcode=TEE_UPC, name="Red tee, size M")
    mug = inv.product(tenant, "MUG", barcode=MUG_EAN, length_mm=120, width_mm=100, height_mm=100, weight_g=400)
    inv.product(tenant, "SOCK", barcode=SOCK_UPC)
    inv.stock(tenant, tee, wh, "01-01-1", 10)
    inv.stock(tenant, mug, wh, "01-02-1", 10)
    staff_with_token(username="packer", role="associate", warehouse=wh)
    return tenant


def _check_layout(page, width):
    layout = page.evaluate(LAYOUT)
    assert layout["small"] == []
    assert layout["scrollWidth"] <= layout["innerWidth"] == width


def _answered(page, act):
    before = page.get_attribute("[data-render]", "data-render")
    act()
    page.wait_for_function(
        "(old) => { const el = document.querySelector('[data-render]'); return el && el.dataset.render !== old; }",
        arg=before,
    )


def _scan(page, code):
    _answered(page, lambda: (page.keyboard.type(code), page.keyboard.press("Enter")))


def _focused(page):
    return page.evaluate("document.activeElement && document.activeElement.id")


def _pack(page, base_url, picked, *, layout, width):
    login(page, base_url, "packer")
    page.goto(f"{base_url}/{layout}/")
    _check_layout(page, width)
    assert _focused(page) == "scan"
    page.keyboard.type(picked.number)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.text_content("#progress").startswith("0/3 units scanned")
    assert page.locator("#recommended svg .pk-unit").count() == 3
    _check_layout(page, width)

    _scan(page, "BOX-S")
    _scan(page, TEE_UPC)
    _scan(page, SOCK_UPC)  # not in the order: refused loudly, nothing counted
    assert page.get_attribute("body", "data-feedback") == "refused"
    page.screenshot(path=f"/tmp/station-refused-{width}.png", full_page=True)
    assert "SOCK is not in order" in page.text_content("#scan-error")
    assert page.text_content("#progress").startswith("1/3 units scanned")
    _scan(page, TEE_UPC)
    assert page.get_attribute("body", "data-feedback") == "accepted"
    _scan(page, MUG_EAN)
    # The mug went into the wrong parcel: take it back, then scan it again.
    _answered(page, lambda: page.click("#undo-button"))
    assert page.text_content("#progress").startswith("2/3 units scanned")
    assert _focused(page) == "scan"
    _scan(page, MUG_EAN)

    # All scanned: the scale's field takes the focus; the scale types a weight far off, and Enter.
    assert page.text_content("#progress").startswith("3/3 units scanned")
    assert _focused(page) == "weight_0"
    page.screenshot(path=f"/tmp/station-weigh-{width}.png", full_page=True)
    _check_layout(page, width)
    _answered(page, lambda: (page.keyboard.type("2.5 kg"), page.keyboard.press("Enter")))
    assert page.get_attribute("body", "data-feedback") == "refused"
    assert "weighs 2500 g but should weigh" in page.text_content("#weight_0_error")
    assert Order.objects.get(pk=picked.pk).status == Status.PICKED
    page.fill("#reason_0", "the mug's catalog weight is wrong")
    _answered(page, lambda: page.click("#close-button"))

    # Packed; the test settings run Celery eagerly, so the rate-sheet label is bought on commit.
    assert Order.objects.get(pk=picked.pk).status == Status.SHIPPED
    assert page.locator("#slip-link").is_visible()
    assert page.locator("#label-pdf").is_visible() and page.locator("#label-zpl").is_visible()
    _check_layout(page, width)
    package = PackSessionPackage.objects.get(session__order=picked)
    assert (package.weight_g, package.override_reason) == (2500, "the mug's catalog weight is wrong")
    assert PackScan.objects.filter(session__order=picked, result="refused").count() == 1


def test_a_packer_packs_an_order_on_the_handheld(live_server, page):
    tenant = _world()
    picked = picked_order(tenant, external_id="H1", lines=[("TEE", 2), ("MUG", 1)])

    _pack(page, live_server.url, picked, layout="handheld/pack", width=360)
    page.screenshot(path="/tmp/station-360.png", full_page=True)


def test_a_packer_packs_an_order_at_the_bench(live_server, page):
    tenant = _world()
    picked = picked_order(tenant, external_id="B1", lines=[("TEE", 2), ("MUG", 1)])
    page.set_viewport_size({"width": 1366, "height": 900})

    _pack(page, live_server.url, picked, layout="pack", width=1366)
