"""The managers' billing pages: month to date per merchant with a chart, issuing invoices, rate cards,
invoices with their PDF and CSV, fees and corrections; managers of the merchants' warehouses only;
in Chromium at 1366 and 360 px."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine
from django.db.models import Sum

from billing.models import Invoice
from billing.tests.factories import CARD, rate_card
from fulfillment.fees.models import DefaultRateCard, Fee, FeeKind, RateCard
from fulfillment.tenancy import services as tenancy_services
from fulfillment.tenancy.tests.factories import TenantFactory, staff_client, staff_with_token
from inventory.tests import factories as inv
from tests.browser import CHROMIUM, login

URL = "/billing/"
NOW = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)
LAST_MONTH = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
THIS_MONTH = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
NOVEMBER = {"period_start": "2026-11-01", "period_end": "2026-11-30"}


def _shop():
    """Acme (own card) and Bolt (the default card) stocked in MAIN, in November and in December;
    Far stocked in WEST, a warehouse the manager does not work in."""
    main, west = inv.warehouse("MAIN"), inv.warehouse("WEST")
    acme = TenantFactory(slug="acme", name="Acme")
    bolt = TenantFactory(slug="bolt", name="Bolt")
    far = TenantFactory(slug="far", name="Far Away")
    rate_card(acme, receiving_per_unit=Decimal("0.3000"), monthly_minimum=Decimal("50.00"))
    tee = inv.product(acme, "TEE")
    mug = inv.product(bolt, "MUG")
    box = inv.product(far, "BOX")
    with time_machine.travel(LAST_MONTH, tick=False):
        inv.stock(acme, tee, main, "01-01-1", 10)  # 10 x 0.30 = 3.00
    with time_machine.travel(THIS_MONTH, tick=False):
        inv.stock(acme, tee, main, "01-01-1", 7)  # 2.10
        inv.stock(acme, tee, main, "01-02-1", 5)  # 1.50
        inv.stock(bolt, mug, main, "01-03-1", 4)  # 4 x 0.25 (the default card) = 1.00
        inv.stock(far, box, west, "01-01-1", 8)
    return SimpleNamespace(main=main, west=west, acme=acme, bolt=bolt, far=far)


@pytest.fixture
def shop():
    return _shop()


@pytest.fixture
def mia(shop):
    return staff_client("mia", "manager", shop.main)


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield


def _issue(client, tenant, period=NOVEMBER, **kwargs):
    return client.post(URL, {"tenant": tenant.slug, **period}, **kwargs)


def _card_form(**prices):
    values = {name: str(value) for name, value in CARD.items()}
    return {**values, "effective_from": "2026-12-08", **prices}


@pytest.mark.django_db
def test_month_to_date_totals_per_merchant_are_this_months_fee_rows(shop, mia, now):
    page = mia.get(URL)

    assert page.status_code == 200
    rows = {r.tenant.slug: r for r in page.context["rows"]}
    for tenant in (shop.acme, shop.bolt):
        december = Fee.objects.filter(tenant=tenant, occurred_at__gte=datetime(2026, 12, 1, tzinfo=UTC))
        assert rows[tenant.slug].total == december.aggregate(s=Sum("amount"))["s"]
        assert rows[tenant.slug].fees == december.count()
    assert (rows["acme"].total, rows["acme"].fees, rows["acme"].card_label) == (Decimal("3.60"), 2, "tenant@2000-01-01")
    assert (rows["bolt"].total, rows["bolt"].card_label) == (Decimal("1.00"), "default@2000-01-01")
    html = page.content.decode()
    assert "3.60 CAD" in html and "1.00 CAD" in html and "50.00 CAD" in html
    assert html.count('fill="#1f5fbf" data-tenant=') == 2  # the chart: one bar per merchant
    assert 'width="100.0%" height="14" rx="2" fill="#1f5fbf" data-tenant="acme"' in html  # the largest
    assert 'width="27.8%" height="14" rx="2" fill="#1f5fbf" data-tenant="bolt"' in html  # 1.00 of 3.60
    assert 'value="2026-11-01"' in html and 'value="2026-11-30"' in html  # last month by default


@pytest.mark.django_db
def test_associates_merchants_and_anonymous_users_may_not_open_billing(shop, client):
    ann = staff_client("ann", "associate", shop.main)
    merchant = tenancy_services.merchant_user_create(tenant=shop.acme, username="acme-web", password="pass-word-123")

    for url in (
        URL,
        "/billing/invoices/",
        "/billing/fees/",
        "/billing/rate-cards/acme/",
        "/billing/default-rate-card/",
    ):
        assert ann.get(url).status_code == 403
        answer = client.get(url)
        assert answer.status_code == 302 and answer["Location"].startswith("/login/")
    client.force_login(merchant)
    assert client.get(URL).status_code == 403
    assert _issue(ann, shop.acme).status_code == 403
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_a_merchant_of_another_warehouse_is_not_listed_nor_reachable(shop, mia, now):
    page = mia.get(URL)

    assert [r.tenant.slug for r in page.context["rows"]] == ["acme", "bolt"]
    assert "Far Away" not in page.content.decode()
    assert mia.get("/billing/rate-cards/far/").status_code == 404
    assert _issue(mia, shop.far).status_code == 422  # not a choice of the form
    assert not Invoice.objects.exists()
    west_manager = staff_client("wes", "manager", shop.west)
    assert [r.tenant.slug for r in west_manager.get(URL).context["rows"]] == ["far"]


@pytest.mark.django_db
def test_an_operator_admin_sees_every_merchant(shop, client, django_user_model, now):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pass-word-123"))

    page = client.get(URL)

    assert page.status_code == 200
    assert [r.tenant.slug for r in page.context["rows"]] == ["acme", "bolt", "far"]


@pytest.mark.django_db
def test_issuing_an_invoice_from_the_page_creates_it_and_shows_it(shop, mia, now):
    answer = _issue(mia, shop.acme, follow=True)

    [invoice] = Invoice.objects.all()
    assert (invoice.tenant_id, str(invoice.period_start), str(invoice.period_end)) == (
        shop.acme.pk,
        "2026-11-01",
        "2026-11-30",
    )
    assert (invoice.subtotal, invoice.minimum_top_up, invoice.total) == (
        Decimal("3.00"),
        Decimal("47.00"),
        Decimal("50.00"),
    )
    assert answer.redirect_chain[-1][0] == f"/billing/invoices/{invoice.pk}/"
    html = answer.content.decode()
    assert f"Invoice {invoice.number} issued to Acme: 50.00 CAD." in html
    assert "Receiving" in html and "3.00 CAD" in html and "47.00 CAD" in html
    listing = mia.get("/billing/invoices/").content.decode()
    assert f'data-invoice="{invoice.number}"' in listing and "50.00 CAD" in listing


@pytest.mark.django_db
def test_issuing_the_same_period_twice_shows_the_refusal_and_creates_nothing(shop, mia, now):
    _issue(mia, shop.acme)
    [first] = Invoice.objects.all()

    again = _issue(mia, shop.acme, {"period_start": "2026-11-15", "period_end": "2026-12-01"})

    assert again.status_code == 409
    assert f"Not issued: 2026-11-01 to 2026-11-30 is already invoiced ({first.number})" in again.content.decode()
    assert list(Invoice.objects.all()) == [first]


@pytest.mark.django_db
def test_a_period_ending_in_the_future_is_refused_with_nothing_issued(shop, mia, now):
    answer = _issue(mia, shop.bolt, {"period_start": "2026-12-01", "period_end": "2026-12-31"})

    assert answer.status_code == 422
    assert "Not issued: the period ends in the future" in answer.content.decode()
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_setting_a_card_with_a_negative_price_shows_the_field_error_and_writes_nothing(shop, mia, now):
    before = list(RateCard.objects.values_list("pk", "receiving_per_unit"))

    answer = mia.post("/billing/rate-cards/bolt/", _card_form(receiving_per_unit="-0.10"))

    assert answer.status_code == 422
    assert answer.context["form"].errors["receiving_per_unit"] == ["a price may not be negative"]
    assert 'data-error-for="receiving_per_unit"' in answer.content.decode()
    assert list(RateCard.objects.values_list("pk", "receiving_per_unit")) == before


@pytest.mark.django_db
def test_setting_a_card_from_a_later_day_schedules_it(shop, mia, now):
    answer = mia.post("/billing/rate-cards/bolt/", _card_form(pick_per_order="2.5", effective_from="2027-01-01"))

    assert answer.status_code == 302
    card = RateCard.objects.get(tenant=shop.bolt)
    assert (str(card.effective_from), card.pick_per_order) == ("2027-01-01", Decimal("2.5000"))
    page = mia.get("/billing/rate-cards/bolt/").content.decode()
    assert 'id="scheduled"' in page and 'data-effective="2027-01-01"' in page
    assert "operator's default card</a> prices its fees" in page  # still priced by the default today


@pytest.mark.django_db
def test_the_default_card_page_sets_the_operators_default_for_an_operator_admin(shop, client, django_user_model, now):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pass-word-123"))
    answer = client.post("/billing/default-rate-card/", _card_form(pack_per_package="1.75"), follow=True)

    assert answer.status_code == 200
    assert DefaultRateCard.objects.get(effective_from="2026-12-08").pack_per_package == Decimal("1.7500")
    assert "Rate card set from 2026-12-08." in answer.content.decode()


@pytest.mark.django_db
def test_a_warehouse_manager_reads_the_default_card_but_cannot_change_it(shop, mia, now):
    page = mia.get("/billing/default-rate-card/").content.decode()
    assert 'id="admin-only"' in page and 'id="card-form"' not in page

    answer = mia.post("/billing/default-rate-card/", _card_form(pack_per_package="1.75"))

    assert answer.status_code == 403
    assert not DefaultRateCard.objects.filter(effective_from="2026-12-08").exists()


@pytest.mark.django_db
def test_the_pdf_and_csv_download_and_the_csvs_amounts_sum_to_the_subtotal(shop, mia, now):
    _issue(mia, shop.acme)
    invoice = Invoice.objects.get()

    pdf = mia.get(f"/billing/invoices/{invoice.pk}/invoice.pdf")
    spreadsheet = mia.get(f"/billing/invoices/{invoice.pk}/invoice.csv")

    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert spreadsheet.status_code == 200 and spreadsheet["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(b"".join(spreadsheet.streaming_content).decode())))
    assert len(rows) == invoice.fee_count == 1
    assert sum(Decimal(r["amount"]) for r in rows) == invoice.subtotal
    ann = staff_client("ann", "associate", shop.main)
    assert ann.get(f"/billing/invoices/{invoice.pk}/invoice.pdf").status_code == 403


@pytest.mark.django_db
def test_an_adjustment_from_the_fees_page_is_a_new_row_shown_in_the_list(shop, mia, now):
    answer = mia.post("/billing/fees/", {"tenant": "bolt", "amount": "-0.40", "reason": "goodwill"}, follow=True)

    [adjustment] = Fee.objects.filter(tenant=shop.bolt, kind=FeeKind.ADJUSTMENT)
    assert (adjustment.amount, adjustment.reason, adjustment.actor) == (Decimal("-0.40"), "goodwill", "mia")
    html = answer.content.decode()
    assert f'data-fee="{adjustment.pk}"' in html and "-0.40 CAD" in html
    assert mia.get(URL).context["rows"][1].total == Decimal("0.60")


@pytest.mark.django_db
def test_correcting_a_fee_from_its_row_books_a_credit_under_its_kind(shop, mia, now):
    fee = Fee.objects.get(tenant=shop.bolt)
    form = mia.get("/billing/fees/", {"tenant": "bolt", "corrects": fee.pk}).content.decode()
    assert f'name="corrects" value="{fee.pk}"' in form

    mia.post("/billing/fees/", {"tenant": "bolt", "amount": "-0.25", "reason": "miscount", "corrects": fee.pk})

    credit = Fee.objects.get(corrects=fee)
    assert (credit.kind, credit.amount, credit.reason) == (FeeKind.RECEIVING, Decimal("-0.25"), "miscount")
    assert Fee.objects.get(pk=fee.pk).amount == Decimal("1.00")  # the corrected row is unchanged


@pytest.mark.django_db
def test_a_correction_past_zero_shows_the_field_error_and_books_nothing(shop, mia, now):
    fee = Fee.objects.filter(tenant=shop.bolt).get()
    before = Fee.objects.count()

    answer = mia.post("/billing/fees/", {"tenant": "bolt", "amount": "-5.00", "reason": "x", "corrects": fee.pk})

    assert answer.status_code == 422
    assert "may not take it past zero" in answer.context["form"].errors["amount"][0]
    assert Fee.objects.count() == before


SHOTS = os.environ.get("BILLING_SHOTS", "")  # a folder: screenshots of each page, to look at
FITS = "() => ({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth})"


@pytest.mark.parametrize("size", [(1366, 800), (360, 740)])
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium at /usr/bin/chromium")
def test_a_manager_reads_billing_with_its_chart_and_issues_an_invoice(page, live_server, size):
    shop = _shop()
    staff_with_token(username="mia", role="manager", warehouse=shop.main)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    clock = time_machine.travel(NOW, tick=True)
    clock.start()

    def fits(where):
        found = page.evaluate(FITS)
        assert found["scrollWidth"] <= found["innerWidth"] == size[0], where
        if SHOTS:
            page.screenshot(
                path=f"{SHOTS}/{size[0]}-{where.strip('/').replace('/', '_') or 'billing'}.png", full_page=True
            )

    try:
        login(page, live_server.url, "mia")
        page.goto(f"{live_server.url}{URL}")
        assert page.locator("#mtd-chart").is_visible()
        assert page.locator("#mtd-chart rect[data-tenant]").count() == 2
        assert page.locator("#mtd-chart rect[data-tenant=acme]").bounding_box()["width"] > 0
        fits(URL)
        page.select_option("#issue-form select[name=tenant]", "acme")
        with page.expect_navigation():
            page.click("#issue-submit")
        invoice = Invoice.objects.get()
        assert page.url.endswith(f"/billing/invoices/{invoice.pk}/")
        assert page.locator("#total").inner_text().endswith("50.00 CAD")
        fits("invoice")
        for url in ("/billing/rate-cards/acme/", "/billing/default-rate-card/", "/billing/fees/", "/billing/invoices/"):
            page.goto(f"{live_server.url}{url}")
            fits(url)
    finally:
        clock.stop()
