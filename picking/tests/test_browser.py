"""The handheld pick page in Chromium at 360 x 740, driven by typed scans (code + Enter), as a
keyboard-wedge scanner does: a batch of three orders in three totes from two locations, with a
wrong scan, a reload in the middle of a task and a short pick; fast scans over a slow network; a
scan whose answer was lost; and the page without JavaScript."""

import re

from django.template.defaultfilters import floatformat

from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory.models import StockBalance, StockMovement
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders.models import Order, Status
from orders.tests.factories import order
from picking import services
from picking.models import PickList, PickListStatus, PickScan, PickTask, TaskStatus
from tests.browser import BROWSER_MARKS, login
from tests.browser import scan as scan_and_load

pytestmark = BROWSER_MARKS

BARCODES = {"TEE": "0012345678905", "MUG": "4006381333931"}

# Every target a gloved thumb may hit, and whether the page scrolls sideways.
LAYOUT = """() => {
  const small = [];
  for (const el of document.querySelectorAll("a, button, input:not([type=hidden])")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.width < 48 || box.height < 48) small.push(`${el.id || el.textContent.trim()} ${box.width}x${box.height}`);
  }
  return {small, scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth};
}"""


def check_layout(page) -> None:
    layout = page.evaluate(LAYOUT)
    assert layout["small"] == []
    assert layout["scrollWidth"] <= layout["innerWidth"] == 360


def focused(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def _answered(page, act) -> None:
    """Do ``act`` and wait until the page shows the server's answer (each answer has a new render id)."""
    before = page.get_attribute("[data-render]", "data-render")
    act()
    page.wait_for_function(
        "(old) => { const el = document.querySelector('[data-render]'); return el && el.dataset.render !== old; }",
        arg=before,
    )


def scan(page, code: str) -> None:
    """What the scanner does: type the code into the focused field, then Enter."""
    _answered(page, lambda: (page.keyboard.type(code), page.keyboard.press("Enter")))


def tap(page, selector: str) -> None:
    _answered(page, lambda: page.click(selector))


def world() -> dict:
    return {
        "tasks": sorted(PickTask.objects.values_list("pk", "status", "picked_quantity", "counted_quantity")),
        "balances": sorted(StockBalance.objects.values_list("location__code", "on_hand", "allocated")),
        "movements": StockMovement.objects.count(),
        "orders": sorted(Order.objects.values_list("number", "status")),
    }


def shown(page) -> dict:
    return {
        "location": page.text_content("#task-location"),
        "sku": page.text_content("#task-sku"),
        "counted": int(page.text_content("#task-counted")),
        "quantity": int(page.text_content("#task-quantity")),
        "tote": page.text_content("#task-tote"),
        "step": page.get_attribute("[data-step]", "data-step"),
    }


def distance_shown(pick_list) -> str:
    return f"{floatformat(services.pick_state(pick_list=pick_list).remaining_distance_m, -1)} m to go"


def test_associate_picks_a_batch_with_a_wrong_scan_a_reload_and_a_short_pick(
    live_server, page, django_capture_on_commit_callbacks
):
    tenant = TenantFactory()
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE", barcode=BARCODES["TEE"])
    mug = inv.product(tenant, "MUG", barcode=BARCODES["MUG"])
    inv.stock(tenant, tee, wh, "01-03-1", 5)
    inv.stock(tenant, mug, wh, "02-04-1", 3)
    with django_capture_on_commit_callbacks(execute=True):
        orders = [
            order(tenant, external_id="B1", lines=[("TEE", 2), ("MUG", 1)]),
            order(tenant, external_id="B2", lines=[("MUG", 2)]),
            order(tenant, external_id="B3", lines=[("TEE", 3)]),
        ]
    staff_with_token(username="picker", role="associate", warehouse=wh)
    pick_list = services.wave_build(warehouse=wh, strategy="batch", max_orders=10).pick_lists.get()
    totes = set(pick_list.tasks.values_list("tote", flat=True))
    assert len(totes) == 3 and pick_list.tasks.count() == 4
    # B2's two mugs are not all there: one is found, the other is reported missing.
    short_task = pick_list.tasks.get(order=orders[1])

    login(page, live_server.url, "picker")
    page.goto(f"{live_server.url}/handheld/pick/")
    check_layout(page)
    with page.expect_navigation():
        page.click("#next-list")
    assert page.url == f"{live_server.url}/handheld/pick/{pick_list.pk}/"
    assert PickList.objects.get(pk=pick_list.pk).assigned_to.username == "picker"
    assert focused(page) == "scan"
    assert page.text_content("#progress") == "0/4 picks · 0/8 units"
    assert page.text_content("#distance") == distance_shown(pick_list)
    check_layout(page)

    # A wrong scan is refused, loudly, and changes nothing.
    first = shown(page)
    before = world()
    scan(page, "09-09-9")
    assert page.text_content("#scan-error") == f"Wrong location 09-09-9: go to {first['location']}."
    assert page.get_attribute("body", "data-feedback") == "refused"
    assert shown(page) == first
    assert world() == before
    assert focused(page) == "scan"

    reloaded = shorted = False
    while page.query_selector("#task-location"):
        task = shown(page)
        if task["step"] == "location":
            scan(page, task["location"])
            assert page.get_attribute("body", "data-feedback") == "accepted"
            assert page.text_content("#scan-prompt") == f"Scan product {task['sku']}"
            assert page.text_content("#distance") == distance_shown(pick_list)
        scan(page, BARCODES[task["sku"]])
        assert shown(page)["counted"] == 1 and focused(page) == "scan"
        current = PickTask.objects.get(pk=page.get_attribute("[data-task]", "data-task"))
        if current.pk == short_task.pk:
            with page.expect_navigation():
                page.click("#short-button")
            assert page.text_content("#short-found") == "1"
            assert focused(page) == "scan"
            check_layout(page)
            scan(page, task["tote"])
            assert page.text_content(".hh-warning").startswith(f"Short pick: 1 of 2 × MUG at {task['location']}.")
            shorted = True
        else:
            if not reloaded and task["quantity"] > 1:
                # A reload in the middle of the task resumes at the same step, with what was counted.
                page.reload()
                assert shown(page) == {**task, "counted": 1, "step": "count"}
                assert focused(page) == "scan"
                reloaded = True
                scan(page, BARCODES[task["sku"]])  # scanning again counts one more
                assert shown(page)["counted"] == 2
            if shown(page)["counted"] < task["quantity"]:
                check_layout(page)
                tap(page, "#count-all")
                assert shown(page)["counted"] == task["quantity"] and focused(page) == "scan"
            assert page.text_content("#scan-prompt") == f"Scan tote {task['tote']}"
            scan(page, task["tote"].lower())
            assert page.text_content(".hh-success").startswith(f"Picked {task['quantity']} × {task['sku']} into")
        assert focused(page) == "scan" or page.query_selector("#list-done")
    assert reloaded and shorted

    assert page.text_content("#list-done").strip().startswith("Pick list complete.")
    assert "Take the cart to packing" in page.text_content("#list-done")
    drops = page.locator("#totes li").all_text_contents()
    assert len(drops) == 3 and {d.split(" · ")[0] for d in drops} == totes
    assert page.text_content("#progress") == "4/4 picks · 7/7 units"
    check_layout(page)
    assert PickList.objects.get(pk=pick_list.pk).status == PickListStatus.DONE
    statuses = {o.external_id: Order.objects.get(pk=o.pk).status for o in orders}
    assert statuses == {"B1": Status.PICKED, "B2": Status.BACKORDERED, "B3": Status.PICKED}
    assert StockBalance.objects.get(location__code="PACKING", product=tee).on_hand == 5
    assert StockBalance.objects.get(location__code="PACKING", product=mug).on_hand == 2
    assert ledger_differences() == []


# -- scans faster than the network ---------------------------------------------------------------

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# The largest number of scans waiting for an answer at once, as the page reports it in data-pending.
WATCH_PENDING = """
window.__maxPending = 0;
new MutationObserver(() => {
  const n = Number((document.body && document.body.dataset.pending) || 0);
  if (n > window.__maxPending) window.__maxPending = n;
}).observe(document, {attributes: true, subtree: true, attributeFilter: ["data-pending"]});
"""
STYLE = """(selector) => {
  const style = getComputedStyle(document.querySelector(selector));
  return {overflowWrap: style.overflowWrap, wordBreak: style.wordBreak};
}"""
# A warehouse LAN on plain http is no secure context: the browser has no crypto.randomUUID there.
PLAIN_HTTP = "delete Crypto.prototype.randomUUID;"


def _one_order_list(quantity: int):
    """An order of ``quantity`` TEE at 01-03-1 on a batch list of its own (one tote), and the picker."""
    tenant = TenantFactory()
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE", barcode=BARCODES["TEE"])
    inv.stock(tenant, tee, wh, "01-03-1", quantity)
    made = order(tenant, external_id="F1", lines=[("TEE", quantity)])  # allocated at commit (no transaction here)
    assert Order.objects.get(pk=made.pk).status == Status.ALLOCATED
    staff_with_token(username="picker", role="associate", warehouse=wh)
    pick_list = services.wave_build(warehouse=wh, strategy="batch", max_orders=1).pick_lists.get()
    return made, pick_list, pick_list.tasks.get()


def _take(page, live_server, pick_list) -> None:
    login(page, live_server.url, "picker")
    page.goto(f"{live_server.url}/handheld/pick/")
    with page.expect_navigation():
        page.click("#next-list")
    assert page.url == f"{live_server.url}/handheld/pick/{pick_list.pk}/"


class _SlowAnswer:
    """A route handler for a slow network: while armed, the first scan sent (a fetch POST) is held
    unanswered until ``release()``; everything else goes on at once. Sync Playwright runs the
    handler only inside a Playwright call of the test, so the held route is kept, not waited on."""

    def __init__(self, page):
        self.page = page
        self.armed = False
        self.held = []

    def __call__(self, route) -> None:
        request = route.request
        scan = request.method == "POST" and request.headers.get("x-requested-with") == "fetch"
        if scan and self.armed:
            self.armed = False
            self.held.append(route)
            return
        route.continue_()

    def release(self, timeout_ms=10_000) -> None:
        for _ in range(timeout_ms // 10):
            if self.held:
                break
            self.page.wait_for_timeout(10)  # lets Playwright hand the scan to the handler
        assert self.held, "no scan was sent"
        self.held.pop().continue_()


def _burst(page, slow: _SlowAnswer, codes, *, gap_ms=150) -> None:
    """Scans ``gap_ms`` apart while the first one's answer is held back (by ``slow``); once all
    wait in the page's queue the answer comes, then wait until every one is answered."""
    slow.armed = True
    for code in codes:
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        page.wait_for_timeout(gap_ms)
    page.wait_for_function("(n) => document.body.dataset.pending === String(n)", arg=len(codes))
    slow.release()
    page.wait_for_function("() => !document.body.hasAttribute('data-pending')")


def _scans(task):
    return list(PickScan.objects.filter(task=task).order_by("created_at", "id").values_list("kind", "code", "accepted"))


def test_fast_scans_over_a_slow_network_are_all_counted_in_order(live_server, page):
    _order, pick_list, task = _one_order_list(5)
    page.add_init_script(PLAIN_HTTP)
    page.add_init_script(WATCH_PENDING)
    slow = _SlowAnswer(page)
    page.route("**/handheld/pick/**", slow)
    _take(page, live_server, pick_list)

    # Location and three units, 150 ms apart, typed before the first answer comes: none of them
    # waits for the previous answer.
    _burst(page, slow, ["01-03-1", BARCODES["TEE"], BARCODES["TEE"], BARCODES["TEE"]])

    assert shown(page)["counted"] == 3 and shown(page)["step"] == "count"
    assert page.evaluate("window.__maxPending") >= 2  # scans did queue behind answers in flight
    assert focused(page) == "scan" and page.input_value("#scan") == ""
    assert page.get_attribute("body", "data-feedback") == "accepted"
    assert page.query_selector("[data-error]") is None

    # Codes may break anywhere rather than widen the page; words break only between them.
    assert page.evaluate(STYLE, "#task-sku") == {"overflowWrap": "anywhere", "wordBreak": "normal"}

    _burst(page, slow, [BARCODES["TEE"], BARCODES["TEE"], task.tote])

    assert page.text_content("#list-done").strip().startswith("Pick list complete.")
    assert page.evaluate(STYLE, "#list-done .hh-mid") == {"overflowWrap": "normal", "wordBreak": "normal"}
    assert _scans(task) == [
        ("location", "01-03-1", True),
        *[("product", BARCODES["TEE"], True)] * 5,
        ("tote", task.tote, True),
    ]
    ids = list(PickScan.objects.filter(task=task).values_list("scan_id", flat=True))
    assert len(set(ids)) == 7 and all(UUID4.match(i) for i in ids)
    task.refresh_from_db()
    assert (task.status, task.picked_quantity) == (TaskStatus.PICKED, 5)
    assert ledger_differences() == []


def test_scans_queued_behind_a_refused_scan_are_not_sent_and_are_named(live_server, page):
    _order, pick_list, task = _one_order_list(5)
    slow = _SlowAnswer(page)
    page.route("**/handheld/pick/**", slow)
    _take(page, live_server, pick_list)

    # A wrong location first: the two scans typed behind it were meant for a step that never came.
    # Typed before the first answer comes, however slowly the machine types.
    _burst(page, slow, ["09-09-9", "01-03-1", BARCODES["TEE"]], gap_ms=30)

    assert page.text_content("#scan-error") == "Wrong location 09-09-9: go to 01-03-1."
    assert page.text_content("#scan-offline") == f"2 more scans not sent (01-03-1, {BARCODES['TEE']}): scan again."
    assert page.get_attribute("body", "data-feedback") == "refused"
    assert shown(page)["step"] == "location"
    assert _scans(task) == [("location", "09-09-9", False)]
    assert focused(page) == "scan"


def test_a_scan_whose_answer_was_lost_counts_once_when_scanned_again(live_server, page):
    _order, pick_list, task = _one_order_list(3)
    product_posts = []

    def lose_one(route):
        request = route.request
        if request.method == "POST" and BARCODES["TEE"] in (request.post_data or ""):
            product_posts.append(request)
            if len(product_posts) == 2:
                route.fetch()  # the server takes the scan; its answer never reaches the device
                route.abort()
                return
        route.continue_()

    page.route("**/handheld/pick/**", lose_one)
    _take(page, live_server, pick_list)
    scan(page, "01-03-1")
    scan(page, BARCODES["TEE"])

    page.keyboard.type(BARCODES["TEE"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#scan-offline")

    assert page.text_content("#scan-offline") == "No answer from the server: scan again."
    assert page.get_attribute("body", "data-feedback") == "refused"
    assert PickTask.objects.get(pk=task.pk).counted_quantity == 2  # the server did count it

    scan(page, BARCODES["TEE"])  # again, with the lost scan's id: answered from what was stored

    assert shown(page)["counted"] == 2
    assert PickTask.objects.get(pk=task.pk).counted_quantity == 2
    ids = [re.search(r'name="scan_id"\r\n\r\n([^\r]+)', r.post_data).group(1) for r in product_posts[1:]]
    assert len(ids) == 2 and ids[0] == ids[1] and UUID4.match(ids[0])

    scan(page, BARCODES["TEE"])  # a new scan: a new id, one more unit

    assert shown(page)["counted"] == 3 and shown(page)["step"] == "tote"
    assert [kind for kind, _code, accepted in _scans(task) if accepted] == ["location", "product", "product", "product"]


def test_without_javascript_each_scan_posts_and_the_page_shows_the_next_step(live_server, page):
    _order, pick_list, task = _one_order_list(2)
    context = page.context.browser.new_context(
        viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True, java_script_enabled=False
    )
    plain = context.new_page()
    _take(plain, live_server, pick_list)
    plain.focus("#scan")  # no script to focus it: the scanner's user taps it once

    scan_and_load(plain, "01-03-1")

    assert plain.text_content("#scan-prompt") == "Scan product TEE"
    plain.focus("#scan")
    scan_and_load(plain, BARCODES["TEE"])
    assert plain.text_content("#task-counted") == "1"
    plain.focus("#scan")
    scan_and_load(plain, "09-09-9")  # neither the product nor its tote: refused, nothing counted
    assert plain.text_content("#scan-error").startswith("Wrong product 09-09-9")
    assert PickTask.objects.get(pk=task.pk).counted_quantity == 1
    assert [accepted for _kind, _code, accepted in _scans(task)] == [True, True, False]
    context.close()
