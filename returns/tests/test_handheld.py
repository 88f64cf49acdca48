"""The handheld returns pages: scan a label, an RMA or an order; grade the parcel (two grades of one
line in one submit); refusals shown beside the row with nothing saved; another warehouse's return
is not found; in Chromium at 360 px."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from fulfillment.tenancy.tests.factories import image_bytes, staff_client, staff_with_token, tenant_with_key
from inventory.models import StockBalance, StockMovement
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from returns import services
from returns.models import Return, ReturnLabel, ReturnLine, ReturnPhoto, ReturnReceipt, ReturnStatus, UnexpectedReturn
from returns.tests.factories import shipped_order
from shipping.models import CarrierAccount
from tests.browser import CHROMIUM, login, scan

TRACKING = "1ZRET0000000001"


def _rma(shop, lines=(("TEE-RED-M", 3), ("MUG-BLUE", 2)), *, label: str = ""):
    rma = services.return_create(
        tenant_id=shop.tenant.pk,
        order_id=shop.order.pk,
        lines=[{"sku": sku, "quantity": q, "reason": "Too small"} for sku, q in lines],
    )
    if label:
        ReturnLabel.objects.create(
            tenant_id=rma.tenant_id,
            rma=rma,
            account=CarrierAccount.objects.order_by("created_at").first(),
            service_code="ground",
            tracking_number=label,
            label=b"%PDF-1.4",
        )
    return rma


def _lines(rma):
    return {line.sku: line for line in ReturnLine.objects.filter(rma=rma)}


def _state():
    return (
        ReturnReceipt.objects.count(),
        StockMovement.objects.count(),
        UnexpectedReturn.objects.count(),
        list(ReturnLine.objects.order_by("pk").values_list("received_quantity", flat=True)),
    )


def _form(rma, **rows):
    """POST data: ``rows`` = {"TEE-RED-M": (qty, grade, disposition, location), "TEE-RED-M/2": (...)}."""
    lines = _lines(rma)
    data = {}
    for key, (quantity, grade, disposition, location) in rows.items():
        sku, _, second = key.partition("/")
        slot = "2" if second else ""
        pk = lines[sku].pk
        data.update(
            {
                f"qty{slot}-{pk}": str(quantity),
                f"grade{slot}-{pk}": grade,
                f"disp{slot}-{pk}": disposition,
                f"loc{slot}-{pk}": location,
            }
        )
    for sku, line in lines.items():
        data.setdefault(f"qty-{line.pk}", "0")
        data[f"seen-{line.pk}"] = str(line.received_quantity)
    return data


@pytest.fixture
def ann(shop):
    return staff_client("ann", "associate", shop.wh)


# -- the scan ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_return_labels_tracking_number_opens_the_return(shop, ann):
    rma = _rma(shop, label=TRACKING)

    found = ann.get("/handheld/returns/", {"scan": TRACKING.lower()})

    assert found.status_code == 302 and found["Location"] == f"/handheld/returns/{rma.pk}/"


@pytest.mark.django_db
def test_a_carrier_barcode_ending_in_the_tracking_number_opens_the_return(shop, ann):
    rma = _rma(shop, label="9400111899223100012345")

    found = ann.get("/handheld/returns/", {"scan": "42010001" + "9400111899223100012345"})

    assert found["Location"] == f"/handheld/returns/{rma.pk}/"


@pytest.mark.django_db
def test_a_tracking_number_typed_in_groups_opens_the_return(shop, ann):
    rma = _rma(shop, label=TRACKING)

    found = ann.get("/handheld/returns/", {"scan": "1ZRET 0000 0000 01"})

    assert found["Location"] == f"/handheld/returns/{rma.pk}/"


@pytest.mark.django_db
def test_a_return_on_its_way_is_offered_for_receiving(shop, ann):
    rma = _rma(shop, label=TRACKING)
    Return.objects.filter(pk=rma.pk).update(status=ReturnStatus.IN_TRANSIT)

    found = ann.get("/handheld/returns/", {"scan": TRACKING})

    assert found["Location"] == f"/handheld/returns/{rma.pk}/"


@pytest.mark.django_db
def test_the_rma_number_opens_the_return(shop, ann):
    rma = _rma(shop)

    assert ann.get("/handheld/returns/", {"scan": rma.number})["Location"] == f"/handheld/returns/{rma.pk}/"


@pytest.mark.django_db
def test_an_order_with_two_open_returns_lists_both_to_choose(shop, ann):
    first = _rma(shop, [("TEE-RED-M", 1)])
    second = _rma(shop, [("MUG-BLUE", 1)])

    page = ann.get("/handheld/returns/", {"scan": shop.order.number})

    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-return="{first.number}"' in html and f'data-return="{second.number}"' in html


@pytest.mark.django_db
def test_nothing_found_offers_to_record_the_parcel_as_unexpected(shop, ann):
    page = ann.get("/handheld/returns/", {"scan": "NO-SUCH-PARCEL"})

    assert page.status_code == 404
    html = page.content.decode()
    assert "Nothing matches NO-SUCH-PARCEL" in html and 'data-error="1"' in html
    assert "/handheld/returns/unexpected/?scanned=NO-SUCH-PARCEL" in html


@pytest.mark.django_db
def test_another_warehouses_return_is_not_found(shop):
    rma = _rma(shop, label=TRACKING)
    bob = staff_client("bob", "associate", inv.warehouse("EAST"))
    before = _state()

    assert bob.get("/handheld/returns/", {"scan": TRACKING}).status_code == 404
    assert bob.get(f"/handheld/returns/{rma.pk}/").status_code == 404
    assert (
        bob.post(f"/handheld/returns/{rma.pk}/", _form(rma, **{"TEE-RED-M": (1, "new", "restock", "")})).status_code
        == 404
    )
    assert _state() == before


@pytest.mark.django_db
def test_a_return_received_in_full_is_not_offered_for_receiving(shop, ann):
    rma = _rma(shop, [("MUG-BLUE", 1)])
    services.return_receive(
        return_id=rma.pk, lines=[{"sku": "MUG-BLUE", "quantity": 1, "condition": "new", "disposition": "quarantine"}]
    )

    page = ann.get("/handheld/returns/", {"scan": rma.number})

    assert page.status_code == 409
    assert "nothing more is expected" in page.content.decode()
    assert f"/handheld/returns/{rma.pk}/unexpected/" in page.content.decode()


# -- grading the parcel --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_shows_units_still_expected_and_the_suggested_location(shop, ann):
    rma = _rma(shop)

    html = ann.get(f"/handheld/returns/{rma.pk}/").content.decode()

    assert "3 of 3 still expected" in html and "2 of 2 still expected" in html
    assert 'suggested <strong class="hh-code">01-01-1</strong>' in html


@pytest.mark.django_db
def test_the_inspector_sees_the_shoppers_photo_of_a_line_and_another_warehouse_does_not(shop, ann):
    rma = _rma(shop)
    png = image_bytes()
    photo = ReturnPhoto.objects.create(
        tenant_id=rma.tenant_id,
        rma=rma,
        line=_lines(rma)["TEE-RED-M"],
        content_type="image/png",
        content=png,
        size=len(png),
    )
    url = f"/handheld/returns/{rma.pk}/photos/{photo.pk}/"
    bob = staff_client("bob", "associate", inv.warehouse("EAST"))

    html = ann.get(f"/handheld/returns/{rma.pk}/").content.decode()
    shown = ann.get(url)

    assert f'src="{url}"' in html
    assert (shown.status_code, shown["Content-Type"], shown.content) == (200, "image/png", png)
    assert bob.get(url).status_code == 404


@pytest.mark.django_db
def test_a_parcel_with_two_grades_of_one_line_is_received_in_one_submit(shop, ann):
    rma = _rma(shop)

    done = ann.post(
        f"/handheld/returns/{rma.pk}/",
        _form(rma, **{"TEE-RED-M": (2, "new", "restock", ""), "TEE-RED-M/2": (1, "damaged", "quarantine", "")}),
        follow=True,
    )

    assert "Received 3 units on" in done.content.decode()
    assert "Still expected: 2 x MUG-BLUE." in done.content.decode()
    receipts = list(
        ReturnReceipt.objects.filter(rma=rma).order_by("pk").values_list("quantity", "grade", "disposition")
    )
    assert receipts == [(2, "new", "restock"), (1, "damaged", "quarantine")]
    assert _lines(rma)["TEE-RED-M"].received_quantity == 3
    rma.refresh_from_db()
    assert rma.status == ReturnStatus.RECEIVED
    assert StockBalance.objects.get(product=shop.tee, location__code="QUARANTINE").on_hand == 1
    assert ledger_differences() == []


@pytest.mark.django_db
def test_receiving_more_than_expected_across_two_grades_is_refused_beside_the_row(shop, ann):
    rma = _rma(shop)
    before = _state()

    answer = ann.post(
        f"/handheld/returns/{rma.pk}/",
        _form(rma, **{"TEE-RED-M": (2, "new", "restock", ""), "TEE-RED-M/2": (2, "damaged", "quarantine", "")}),
    )

    assert answer.status_code == 422
    html = answer.content.decode()
    assert 'data-row-error="TEE-RED-M"' in html and "2 in the rows above" in html
    assert "Nothing was saved." in html
    assert _state() == before


@pytest.mark.django_db
def test_over_receiving_one_row_is_refused_and_nothing_changes(shop, ann):
    rma = _rma(shop)
    before = _state()

    answer = ann.post(
        f"/handheld/returns/{rma.pk}/",
        _form(rma, **{"TEE-RED-M": (4, "new", "restock", ""), "MUG-BLUE": (1, "new", "quarantine", "")}),
    )

    assert answer.status_code == 422
    assert "Only 3 x TEE-RED-M are still expected" in answer.content.decode()
    assert _state() == before


@pytest.mark.django_db
def test_an_unknown_restock_location_is_refused_and_nothing_changes(shop, ann):
    rma = _rma(shop)
    before = _state()

    answer = ann.post(
        f"/handheld/returns/{rma.pk}/",
        _form(rma, **{"MUG-BLUE": (1, "new", "quarantine", ""), "TEE-RED-M": (1, "new", "restock", "ZZ-99")}),
    )

    assert answer.status_code == 422
    html = answer.content.decode()
    assert "unknown location ZZ-99 in this warehouse" in html and 'data-row-error="TEE-RED-M"' in html
    assert 'value="ZZ-99"' in html  # what was typed stays
    assert _state() == before


@pytest.mark.django_db
def test_a_refused_second_grade_names_its_own_row_and_the_first_round_is_undone(shop):
    rma = _rma(shop)
    before = _state()
    rows = [
        {"sku": "TEE-RED-M", "quantity": 1, "condition": "new", "disposition": "quarantine"},
        {"sku": "MUG-BLUE", "quantity": 1, "condition": "new", "disposition": "quarantine"},
        {"sku": "TEE-RED-M", "quantity": 1, "condition": "opened", "disposition": "restock", "location": "NOPE"},
    ]

    with pytest.raises(services.ReturnError) as refused:
        services.return_receive_parcel(return_id=rma.pk, rows=rows, actor="ann")

    assert [(e["field"], e["code"]) for e in refused.value.errors] == [("lines[2].location", "unknown_location")]
    assert _state() == before


@pytest.mark.django_db
def test_restock_into_a_scanned_sellable_location(shop, ann):
    rma = _rma(shop, [("TEE-RED-M", 1)])

    ann.post(f"/handheld/returns/{rma.pk}/", _form(rma, **{"TEE-RED-M": (1, "opened", "restock", "01-03-1")}))

    assert ReturnReceipt.objects.get(rma=rma).location.code == "01-03-1"
    assert StockBalance.objects.get(product=shop.tee, location__code="01-03-1").on_hand == 1


@pytest.mark.django_db
def test_the_same_form_sent_twice_receives_the_parcel_once(shop, ann):
    rma = _rma(shop)
    form = _form(rma, **{"TEE-RED-M": (1, "new", "quarantine", "")})
    ann.post(f"/handheld/returns/{rma.pk}/", form)
    before = _state()

    again = ann.post(f"/handheld/returns/{rma.pk}/", form)

    assert again.status_code == 409
    assert "changed since the page was shown" in again.content.decode()
    assert _state() == before
    assert _lines(rma)["TEE-RED-M"].received_quantity == 1


# -- unexpected units ----------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unknown_parcel_is_recorded_under_the_chosen_merchant(shop, ann):
    url = "/handheld/returns/unexpected/"
    shown = ann.get(url, {"scanned": "PARCEL-9"}).content.decode()

    done = ann.post(
        url,
        {"scanned": "PARCEL-9", "tenant": str(shop.tenant.pk), "sku": "TEE-RED-M", "quantity": "1", "grade": "opened"},
        follow=True,
    )

    assert f'value="{shop.tenant.pk}"' in shown
    assert "Recorded 1 x TEE-RED-M as unexpected, into QUARANTINE." in done.content.decode()
    record = UnexpectedReturn.objects.get()
    assert (record.scanned, record.tenant_id, record.warehouse_id, record.actor) == (
        "PARCEL-9",
        shop.tenant.pk,
        shop.wh.pk,
        "ann",
    )


@pytest.mark.django_db
def test_an_unknown_parcel_without_merchant_is_refused_and_nothing_changes(shop, ann):
    before = _state()

    answer = ann.post("/handheld/returns/unexpected/", {"sku": "TEE-RED-M", "quantity": "1", "grade": "new"})

    assert answer.status_code == 422
    assert 'data-field-error="tenant"' in answer.content.decode()
    assert _state() == before


@pytest.mark.django_db
def test_an_unknown_sku_in_a_returns_parcel_says_no_stock_was_booked(shop, ann):
    rma = _rma(shop)

    done = ann.post(
        f"/handheld/returns/{rma.pk}/unexpected/",
        {"sku": "SOMEONE-ELSES", "quantity": "2", "grade": "damaged"},
        follow=True,
    )

    assert "no stock was booked" in done.content.decode()
    assert UnexpectedReturn.objects.get().product_id is None


# -- menus ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_handheld_menu_offers_returns_and_the_managers_menu_only_to_managers(shop, ann):
    mia = staff_client("mia", "manager", shop.wh)

    handheld = ann.get("/handheld/returns/").content.decode()
    associate_desk = ann.get("/packing/").content.decode()
    manager_desk = mia.get("/packing/").content.decode()

    assert '<a href="/handheld/returns/">Returns</a>' in handheld
    assert 'href="/returns/"' not in associate_desk
    assert 'href="/returns/"' in manager_desk


# -- in Chromium ---------------------------------------------------------------------------


FITS = "() => document.scrollingElement.scrollWidth"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium at /usr/bin/chromium")
def test_an_associate_scans_a_return_label_grades_and_receives_the_parcel_on_a_handheld(live_server, page):
    tenant, _key = tenant_with_key(slug="acme")
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE-RED-M")
    mug = inv.product(tenant, "MUG-BLUE")
    inv.stock(tenant, tee, wh, "01-01-1", 10, lot="LOT-A")
    inv.stock(tenant, mug, wh, "01-02-1", 10, lot="LOT-M")
    order = shipped_order(tenant, external_id="SHOP-1", lines=[("TEE-RED-M", 3), ("MUG-BLUE", 2)])
    shop = SimpleNamespace(tenant=tenant, order=order, wh=wh)
    rma = _rma(shop, label=TRACKING)
    staff_with_token(username="ann", role="associate", warehouse=wh)
    login(page, live_server.url, "ann")

    page.goto(f"{live_server.url}/handheld/returns/")
    assert page.evaluate("document.activeElement.id") == "scan"
    scan(page, "NOPE-123")
    assert page.locator("[data-error]").count() == 1
    assert page.locator("#record-unexpected").is_visible()
    page.fill("#scan", "")
    scan(page, TRACKING)
    assert page.text_content("#return-number") == rma.number
    assert page.evaluate(FITS) == 360
    tee_line = ReturnLine.objects.get(rma=rma, sku="TEE-RED-M")
    mug_line = ReturnLine.objects.get(rma=rma, sku="MUG-BLUE")
    # Two tees new into the suggested location, one damaged to quarantine; the mugs are not in this parcel.
    page.fill(f"#qty-{tee_line.pk}", "2")
    page.select_option(f"#grade-{tee_line.pk}", "new")
    page.select_option(f"#disp-{tee_line.pk}", "restock")
    page.click(f"#second-{tee_line.pk}")
    page.fill(f"#qty2-{tee_line.pk}", "1")
    page.select_option(f"#grade2-{tee_line.pk}", "damaged")
    page.select_option(f"#disp2-{tee_line.pk}", "quarantine")
    page.fill(f"#qty-{mug_line.pk}", "0")
    # A scanned location ends with Enter: the form is not sent half graded.
    page.click(f"#loc-{tee_line.pk}")
    page.keyboard.type("ZZ-99")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == f"note-{tee_line.pk}"
    with page.expect_navigation():
        page.click("#receive-button")
    assert page.locator("#receive-error").is_visible()
    assert "unknown location ZZ-99" in page.text_content("[data-row-error='TEE-RED-M']")
    assert page.evaluate(FITS) == 360
    assert ReturnReceipt.objects.count() == 0
    page.fill(f"#loc-{tee_line.pk}", "")
    box = page.locator("#receive-button").bounding_box()
    assert box["height"] >= 48 and box["x"] + box["width"] <= 360
    with page.expect_navigation():
        page.click("#receive-button")

    message = page.text_content(".hh-success")
    assert f"Received 3 units on {rma.number}. Still expected: 2 x MUG-BLUE." in message
    assert page.evaluate(FITS) == 360
    assert sorted(ReturnReceipt.objects.values_list("grade", "quantity")) == [("damaged", 1), ("new", 2)]
    assert StockBalance.objects.get(product=tee, location__code="QUARANTINE").on_hand == 1
    assert ledger_differences() == []
