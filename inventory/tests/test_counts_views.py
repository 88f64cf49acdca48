"""Pages: the handheld blind count, count review and adjustment approval for managers."""

import re

import pytest
from django.test import Client

from fulfillment.tenancy.tests.factories import TenantFactory, staff_client, staff_with_token
from inventory.models import Adjustment, AdjustmentStatus, CountStatus, CycleCount, ProductBarcode, StockBalance
from inventory.services import adjustments, counts, ledger_differences
from inventory.services.counts import CountLineInput
from inventory.tests import factories as inv

pytestmark = pytest.mark.django_db
PASSWORD = "pass-word-123"


@pytest.fixture
def shop():
    tenant = TenantFactory(slug="acme")
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE")
    ProductBarcode.objects.create(tenant=tenant, product=tee, code="4006381333931", quantity=1)
    ProductBarcode.objects.create(tenant=tenant, product=tee, code="14006381333938", quantity=6)
    inv.stock(tenant, tee, wh, "01-01-1", 40, lot="L1")
    return tenant, wh, tee


def on_hand(product, code="01-01-1"):
    return StockBalance.objects.get(product=product, location__code=code).on_hand


def test_handheld_blind_count_scan_location_then_units_and_cases_then_submit(shop):
    tenant, wh, tee = shop
    count = counts.count_create(warehouse_id=wh.pk, location_code="01-01-1")
    client = staff_client("al", "associate", wh)
    listing = client.get("/handheld/count/")
    assert listing.status_code == 200
    assert f'data-count="{count.pk}"' in listing.content.decode()
    url = f"/handheld/count/{count.pk}/"
    page = client.get(url).content.decode()
    assert "Scan location" in page
    # blind: the expected quantity (40) is nowhere in the page's text (ids and tokens aside)
    assert re.search(r"\b40\b", re.sub(r'"[^"]*"', '""', page)) is None

    assert client.post(url, {"scan": "01-01-1"}).status_code == 302
    client.post(url, {"scan": "14006381333938"})  # a case of 6
    client.post(url, {"scan": "4006381333931"})  # one each
    page = client.get(url).content.decode()
    assert '<span class="count-qty">7</span>' in page
    client.post(url, {"scan": "39"})  # a typed number sets the count of the last product
    assert '<span class="count-qty">39</span>' in client.get(url).content.decode()

    done = client.post(url, {"action": "submit"}, follow=True)

    assert done.redirect_chain[-1][0] == "/handheld/count/"
    assert "Count of 01-01-1 submitted." in done.content.decode()
    count.refresh_from_db()
    assert (count.status, count.counted_by) == (CountStatus.CLOSED, "al")
    assert on_hand(tee) == 39
    assert ledger_differences() == []


def test_handheld_wrong_location_scan_is_an_error_and_changes_nothing(shop):
    _, wh, tee = shop
    count = counts.count_create(warehouse_id=wh.pk, location_code="01-01-1")
    client = staff_client("al", "associate", wh)
    response = client.post(f"/handheld/count/{count.pk}/", {"scan": "01-02-1"})
    assert response.status_code == 422
    assert 'data-error="1"' in response.content.decode()
    assert "Wrong location 01-02-1: go to 01-01-1." in response.content.decode()
    unknown = client.post(f"/handheld/count/{count.pk}/", {"action": "submit"})
    assert unknown.status_code == 422
    count.refresh_from_db()
    assert (count.status, count.lines.count()) == (CountStatus.OPEN, 0)


def test_handheld_unknown_barcode_is_an_error(shop):
    _, wh, _ = shop
    count = counts.count_create(warehouse_id=wh.pk, location_code="01-01-1")
    client = staff_client("al", "associate", wh)
    client.post(f"/handheld/count/{count.pk}/", {"scan": "01-01-1"})
    response = client.post(f"/handheld/count/{count.pk}/", {"scan": "99999999"})
    assert response.status_code == 422
    assert "Unknown barcode 99999999." in response.content.decode()


def test_handheld_count_of_another_warehouse_is_404(shop):
    _, wh, _ = shop
    count = counts.count_create(warehouse_id=wh.pk, location_code="01-01-1")
    client = staff_client("olga", "associate", inv.warehouse("WEST"))
    assert client.get(f"/handheld/count/{count.pk}/").status_code == 404
    assert f'data-count="{count.pk}"' not in client.get("/handheld/count/").content.decode()


def test_manager_reviews_a_count_and_approves_it(shop):
    _, wh, tee = shop
    count = counts.count_create(warehouse_id=wh.pk, location_code="01-01-1")
    counts.count_submit(count_id=count.pk, lines=[CountLineInput(sku="TEE", counted_quantity=30)], actor="al")
    client = staff_client("mia", "manager", wh)
    page = client.get("/inventory/counts/").content.decode()
    assert f'data-count="{count.pk}"' in page
    assert '<td>40</td><td>30</td>\n              <td class="variance">-10</td>' in page
    assert "no locations counted" not in page

    response = client.post(f"/inventory/counts/{count.pk}/approve/")

    assert response.status_code == 302
    count.refresh_from_db()
    assert count.status == CountStatus.CLOSED
    assert on_hand(tee) == 30


def test_manager_rejects_a_count_and_a_recount_is_opened(shop):
    _, wh, tee = shop
    count = counts.count_create(warehouse_id=wh.pk, location_code="01-01-1")
    counts.count_submit(count_id=count.pk, lines=[CountLineInput(sku="TEE", counted_quantity=30)], actor="al")
    client = staff_client("mia", "manager", wh)
    client.post(f"/inventory/counts/{count.pk}/reject/")
    assert sorted(CycleCount.objects.values_list("status", flat=True)) == ["cancelled", "open"]
    assert on_hand(tee) == 40


def test_manager_approves_and_rejects_pending_adjustments(shop):
    tenant, wh, tee = shop
    first, second = (
        adjustments.adjustment_create(
            tenant_id=tenant.pk, warehouse_id=wh.pk, sku="TEE", location_code="01-01-1", quantity_delta=d, reason="lost"
        )
        for d in (-12, -15)
    )
    client = staff_client("mia", "manager", wh)
    page = client.get("/inventory/adjustments/").content.decode()
    assert f'data-adjustment="{first.pk}"' in page and f'data-adjustment="{second.pk}"' in page
    client.post(f"/inventory/adjustments/{first.pk}/approve/")
    client.post(f"/inventory/adjustments/{second.pk}/reject/")
    statuses = dict(Adjustment.objects.values_list("pk", "status"))
    assert (statuses[first.pk], statuses[second.pk]) == (AdjustmentStatus.POSTED, AdjustmentStatus.REJECTED)
    assert on_hand(tee) == 28


def test_associates_cannot_open_manager_pages_or_decide(shop):
    tenant, wh, tee = shop
    pending = adjustments.adjustment_create(
        tenant_id=tenant.pk, warehouse_id=wh.pk, sku="TEE", location_code="01-01-1", quantity_delta=-12, reason="lost"
    )
    client = staff_client("al", "associate", wh)
    assert client.get("/inventory/counts/").status_code == 403
    assert client.get("/inventory/adjustments/").status_code == 403
    assert client.post(f"/inventory/adjustments/{pending.pk}/approve/").status_code == 403
    pending.refresh_from_db()
    assert pending.status == AdjustmentStatus.PENDING_APPROVAL
    assert on_hand(tee) == 40


def test_decisions_need_the_csrf_token(shop):
    tenant, wh, tee = shop
    pending = adjustments.adjustment_create(
        tenant_id=tenant.pk, warehouse_id=wh.pk, sku="TEE", location_code="01-01-1", quantity_delta=-12, reason="lost"
    )
    staff_with_token(username="mia", role="manager", warehouse=wh)
    client = Client(enforce_csrf_checks=True)
    client.login(username="mia", password=PASSWORD)
    assert client.post(f"/inventory/adjustments/{pending.pk}/approve/").status_code == 403
    pending.refresh_from_db()
    assert pending.status == AdjustmentStatus.PENDING_APPROVAL
