"""The merchant portal's billing pages: the month so far, the card, invoices and the fee rows behind them."""

from __future__ import annotations

import csv
import io
import os
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from billing.services import invoice_issue
from billing.tests.factories import ensure_default_rate_card, rate_card
from fulfillment.fees import services as fees
from fulfillment.fees.models import Fee, FeeKind
from fulfillment.tenancy.services import merchant_user_create
from fulfillment.tenancy.tests.factories import TenantFactory, staff_client
from inventory.tests import factories as inv
from tests.browser import BROWSER_MARKS, login

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"
NOVEMBER = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
TODAY = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
BILLING = "/portal/billing/"
FITS = "() => ({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth})"


def _receipt(tenant, ref: str, units: int) -> None:
    fees.fees_for_receipt(tenant_id=tenant.pk, shipment_id=ref, reference=ref, units=units, warehouse_code="MAIN")


def _fees(tenant, **filters) -> list[Fee]:
    return list(Fee.objects.filter(tenant=tenant, **filters).order_by("id"))


def _world():
    """acme (its own card: 0.30 per unit received, a 50.00 monthly minimum) and globex (the default
    card), each with November's fees invoiced and December's so far."""
    acme = TenantFactory(slug="acme", name="Acme Outfitters")
    globex = TenantFactory(slug="globex", name="Globex")
    rate_card(acme, monthly_minimum=Decimal("50.00"))
    merchant_user_create(tenant=acme, username="acme-web", password=PASSWORD)
    merchant_user_create(tenant=globex, username="globex-web", password=PASSWORD)
    with time_machine.travel(NOVEMBER, tick=False):
        _receipt(acme, "ASN-N1", 10)  # 3.00
        _receipt(acme, "ASN-N2", 5)  # 1.50
        first = _fees(acme)[0]
        fees.fee_correct(tenant_id=acme.pk, corrects_id=first.pk, amount=Decimal("-0.50"), reason="miscount", actor="m")
        fees.fee_correct(tenant_id=acme.pk, amount=Decimal("5.00"), reason="rush handling", actor="m")
        _receipt(globex, "ASN-G1", 20)  # 5.00
    with time_machine.travel(DECEMBER, tick=False):
        _receipt(acme, "ASN-D1", 7)  # 2.10
        fees.fee_correct(tenant_id=acme.pk, amount=Decimal("1.25"), reason="labels by hand", actor="m")
        _receipt(globex, "ASN-G2", 40)  # 10.00
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), tick=False):
        mine = invoice_issue(tenant_id=acme.pk, period_start=date(2026, 11, 1), period_end=date(2026, 11, 30))
        theirs = invoice_issue(tenant_id=globex.pk, period_start=date(2026, 11, 1), period_end=date(2026, 11, 30))
    return acme, globex, mine, theirs


@pytest.fixture
def world(db):
    return _world()


@pytest.fixture
def clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def portal(client, world):
    assert client.login(username="acme-web", password=PASSWORD)
    return client


def _text(html: str, element_id: str) -> str:
    """The text of the element with that id (tags dropped, whitespace collapsed)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, element_id
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(2)).split())


def _rows(html: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [
        [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


# -- month to date ---------------------------------------------------------------------------------


def test_month_to_date_totals_are_the_merchants_fees_of_this_month_only(portal, world, clock):
    acme, _globex, _mine, _theirs = world
    december = [f for f in _fees(acme) if f.occurred_at >= datetime(2026, 12, 1, tzinfo=UTC)]

    html = portal.get(BILLING).content.decode()

    assert sum(f.amount for f in december) == Decimal("3.35")
    assert _text(html, "month-total") == "3.35 CAD"
    assert _rows(html, "month-by-kind") == [["Receiving", "2.10 CAD"], ["Adjustments", "1.25 CAD"]]
    # globex's 10.00 of December and acme's November are not in it
    assert "10.00 CAD" not in html and "ASN-G2" not in html


def test_the_monthly_minimum_shows_how_far_the_month_is_from_it(portal, clock):
    html = portal.get(BILLING).content.decode()

    assert _text(html, "monthly-minimum") == "50.00 CAD"
    assert _text(html, "minimum-remaining").startswith("46.65 CAD to reach the minimum")


def test_the_card_in_effect_is_shown_with_every_price(portal, clock):
    html = portal.get(BILLING).content.decode()

    prices = dict(_rows(html, "card-prices"))
    assert prices == {
        "Storage per m³ per day": "1.20 CAD",
        "Receiving per unit received": "0.30 CAD",
        "Picking per order": "2.00 CAD",
        "Picking per unit past the first of an order": "0.40 CAD",
        "Packing per package": "1.10 CAD",
        "Packing materials markup on their cost": "20.00 %",
        "Shipping labels markup on their cost": "10.00 %",
        "Returns per return (RMA)": "3.50 CAD",
        "Returns per unit returned": "0.60 CAD",
        "Monthly minimum per month": "50.00 CAD",
    }
    assert "in effect since 2000-01-01" in _text(html, "card-title")


def test_a_price_below_a_cent_keeps_its_decimals(world, client):
    _acme, globex, _mine, _theirs = world
    rate_card(globex, receiving_per_unit=Decimal("0.0050"))
    assert client.login(username="globex-web", password=PASSWORD)

    with time_machine.travel(TODAY, tick=False):
        html = client.get(BILLING).content.decode()

    assert ["Receiving per unit received", "0.005 CAD"] in _rows(html, "card-prices")


def test_the_chart_draws_a_bar_per_kind_on_one_scale(portal, clock):
    html = portal.get(BILLING).content.decode()

    bars = dict(
        re.findall(r'<g data-kind="(\w+)" data-amount="[^"]+">.*?<rect x="0" y="[\d.]+" width="([\d.]+)"', html, re.S)
    )
    assert bars == {"receiving": "250.0", "adjustment": str(round(1.25 / 2.10 * 250, 1))}


def test_the_invoices_are_listed_with_their_period_total_and_a_link(portal, world, clock):
    _acme, _globex, mine, theirs = world

    html = portal.get(BILLING).content.decode()

    assert _rows(html, "invoice-list") == [[mine.number, "2026-11-01 to 2026-11-30", "50.00 CAD", "2026-12-01"]]
    assert f'href="/portal/billing/invoices/{mine.pk}/"' in html
    assert theirs.number not in html


def test_the_portal_nav_has_billing(portal, clock):
    html = portal.get(BILLING).content.decode()

    assert '<a href="/portal/billing/" aria-current="page">Billing</a>' in html


# -- an invoice ------------------------------------------------------------------------------------


def test_the_invoice_shows_its_lines_subtotal_top_up_and_total(portal, world, clock):
    _acme, _globex, mine, _theirs = world

    html = portal.get(f"/portal/billing/invoices/{mine.pk}/").content.decode()

    assert _rows(html, "invoice-lines") == [
        ["Receiving", "15 units", "3", "4.00 CAD"],
        ["Adjustments", "", "1", "5.00 CAD"],
    ]
    assert _text(html, "invoice-subtotal") == "Subtotal 9.00 CAD"
    assert _text(html, "invoice-top-up") == "Top-up to the monthly minimum (50.00 CAD for this period) 41.00 CAD"
    assert _text(html, "invoice-total") == "Total due 50.00 CAD"
    assert f'href="/portal/billing/invoices/{mine.pk}/fees/?kind=receiving"' in html
    assert f'href="/portal/billing/invoices/{mine.pk}/invoice.pdf"' in html
    assert f'href="/portal/billing/invoices/{mine.pk}/invoice.csv"' in html


@pytest.mark.parametrize("suffix", ["", "fees/?kind=receiving", "fees/", "invoice.pdf", "invoice.csv"])
def test_another_merchants_invoice_is_not_found_like_a_missing_one(portal, world, clock, suffix):
    _acme, _globex, _mine, theirs = world

    assert portal.get(f"/portal/billing/invoices/{theirs.pk}/{suffix}").status_code == 404
    assert portal.get(f"/portal/billing/invoices/{uuid.uuid4()}/{suffix}").status_code == 404


def test_the_fee_rows_are_exactly_the_invoices_rows_of_that_kind_and_sum_to_the_line(portal, world, clock):
    acme, _globex, mine, _theirs = world
    line = mine.lines.get(kind=FeeKind.RECEIVING)
    november = [f for f in _fees(acme, kind=FeeKind.RECEIVING) if f.occurred_at < datetime(2026, 12, 1, tzinfo=UTC)]

    html = portal.get(f"/portal/billing/invoices/{mine.pk}/fees/?kind=receiving").content.decode()

    shown = [int(pk) for pk in re.findall(r'<tr data-fee="(\d+)"', html)]
    assert shown == [f.pk for f in november] and len(shown) == line.fee_count == 3
    amounts = [Decimal(a) for a in re.findall(r'<tr data-fee="\d+" data-amount="([-\d.]+)"', html)]
    assert sum(amounts) == line.amount == Decimal("4.00")
    rows = _rows(html, "fee-rows")
    assert rows[0] == ["2026-11-10 15:00", "Receipt ASN-N1", "10 units", "0.30 CAD", "3.00 CAD"]
    assert rows[2][1] == "Fee ASN-N1 Correction miscount" and rows[2][4] == "-0.50 CAD"


def test_the_fee_rows_come_by_pages_of_fifty(client, world):
    acme, _globex, _mine, _theirs = world
    with time_machine.travel(datetime(2027, 1, 5, 10, 0, tzinfo=UTC), tick=False):
        for n in range(60):
            _receipt(acme, f"ASN-J{n}", 1)
    with time_machine.travel(datetime(2027, 2, 1, 9, 0, tzinfo=UTC), tick=False):
        january = invoice_issue(tenant_id=acme.pk, period_start=date(2027, 1, 1), period_end=date(2027, 1, 31))
        assert client.login(username="acme-web", password=PASSWORD)  # a session of that day
        url = f"/portal/billing/invoices/{january.pk}/fees/?kind=receiving"
        first = client.get(url).content.decode()
        second = client.get(url + "&page=2").content.decode()

    assert len(re.findall(r"<tr data-fee=", first)) == 50
    assert len(re.findall(r"<tr data-fee=", second)) == 10 + 1  # December's 7 units are late: on it too
    assert "Page 1 of 2" in first and "?kind=receiving&amp;page=2" in first


def test_an_unknown_kind_is_not_found(portal, world, clock):
    _acme, _globex, mine, _theirs = world

    assert portal.get(f"/portal/billing/invoices/{mine.pk}/fees/?kind=bogus").status_code == 404


def test_the_csv_lists_every_fee_of_the_invoice_and_sums_to_the_subtotal(portal, world, clock):
    _acme, _globex, mine, _theirs = world

    response = portal.get(f"/portal/billing/invoices/{mine.pk}/invoice.csv")

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == mine.fee_count == 4
    assert sum(Decimal(r["amount"]) for r in rows) == mine.subtotal == Decimal("9.00")


def test_the_pdf_is_a_pdf(portal, world, clock):
    _acme, _globex, mine, _theirs = world

    response = portal.get(f"/portal/billing/invoices/{mine.pk}/invoice.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


# -- this month's fees not invoiced ----------------------------------------------------------------


def test_this_months_uninvoiced_fees_are_the_merchants_rows_on_no_invoice(portal, world, clock):
    acme, _globex, _mine, _theirs = world
    december = [f.pk for f in _fees(acme) if f.occurred_at >= datetime(2026, 12, 1, tzinfo=UTC)]

    html = portal.get("/portal/billing/fees/").content.decode()

    assert [int(pk) for pk in re.findall(r'<tr data-fee="(\d+)"', html)] == december
    assert ["2026-12-02 15:00", "Adjustments", "Manual Correction labels by hand", "", "1.25 CAD", "1.25 CAD"] in _rows(
        html, "fee-rows"
    )


# -- who may see them ------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    response = client.get(BILLING)

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_staff_may_not_open_the_merchants_billing(world):
    staff = staff_client("mia", "manager", inv.warehouse())

    assert staff.get(BILLING).status_code == 403


# -- in a browser ----------------------------------------------------------------------------------


def _browser(test):
    for mark in reversed(BROWSER_MARKS):
        test = mark(test)
    return test


@pytest.fixture
def browser_world(transactional_db):
    """The world at today's real date (the live server's clock is not frozen): last month invoiced,
    this month's fees so far."""
    ensure_default_rate_card()
    acme = TenantFactory(slug="acme", name="Acme Outfitters")
    rate_card(acme, monthly_minimum=Decimal("50.00"))
    merchant_user_create(tenant=acme, username="acme-web", password=PASSWORD)
    today = timezone.localdate()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    with time_machine.travel(datetime.combine(last_month_end, datetime.min.time(), tzinfo=UTC), tick=False):
        _receipt(acme, "ASN-OLD", 30)
    _receipt(acme, "ASN-NEW", 12)
    fees.fee_correct(tenant_id=acme.pk, amount=Decimal("4.00"), reason="rush handling", actor="m")
    invoice = invoice_issue(tenant_id=acme.pk, period_start=last_month_end.replace(day=1), period_end=last_month_end)
    return invoice


@_browser
@pytest.mark.parametrize("size", [(1366, 800), (360, 740)])
def test_billing_and_an_invoice_fit_the_screen_with_the_chart_drawn(browser_world, page, live_server, size):
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    login(page, live_server.url, "acme-web", PASSWORD)

    page.goto(f"{live_server.url}{BILLING}")
    assert page.locator("#fees-chart rect").count() == 2
    assert page.locator("#fees-chart").bounding_box()["width"] > 200
    assert page.locator("#invoice-list tbody tr").count() == 1
    found = page.evaluate(FITS)
    assert found["innerWidth"] == width and found["scrollWidth"] <= width
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], f"portal-billing-{width}.png"), full_page=True)

    page.click(f"#invoice-list a:text('{browser_world.number}')")
    page.wait_for_url(f"**/portal/billing/invoices/{browser_world.pk}/")
    assert page.locator("#invoice-lines tbody tr").count() == 1
    assert page.locator("#invoice-total").inner_text().endswith("50.00 CAD")
    found = page.evaluate(FITS)
    assert found["innerWidth"] == width and found["scrollWidth"] <= width
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], f"portal-invoice-{width}.png"), full_page=True)

    page.click("#invoice-lines a")
    page.wait_for_url("**/fees/?kind=receiving")
    assert page.locator("#fee-rows tbody tr").count() == 1
    found = page.evaluate(FITS)
    assert found["scrollWidth"] <= width
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], f"portal-fees-{width}.png"), full_page=True)


def test_the_pages_read_a_fixed_number_of_queries_whatever_the_fees(
    portal, world, clock, django_assert_max_num_queries
):
    acme, _globex, mine, _theirs = world
    for n in range(30):
        _receipt(acme, f"ASN-X{n}", 1)

    with django_assert_max_num_queries(12):
        assert portal.get(BILLING).status_code == 200
    with django_assert_max_num_queries(12):
        assert portal.get(f"/portal/billing/invoices/{mine.pk}/").status_code == 200
    with django_assert_max_num_queries(12):
        assert portal.get("/portal/billing/fees/").status_code == 200
