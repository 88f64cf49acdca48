"""The billing API: managers price, correct and invoice; merchants read their own; associates nothing."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from billing.models import Invoice
from fulfillment.fees import services as fees
from fulfillment.fees.models import Fee, RateCard
from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory.tests import factories as inv
from packing.tests.pdf import pdf_text

pytestmark = pytest.mark.django_db

NOV_20 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
DEC_3 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def _invoice_post(client, tenant: str, start: str = "2026-11-01", end: str = "2026-11-30"):
    return client.post("/api/v1/invoices/", {"tenant": tenant, "period_start": start, "period_end": end}, format="json")


@pytest.fixture
def world(api_as):
    wh = inv.warehouse()
    acme, acme_key = tenant_with_key(slug="acme", name="Acme Goods", default_warehouse_code="MAIN")
    globex, globex_key = tenant_with_key(slug="globex", name="Globex", default_warehouse_code="MAIN")
    _, manager_token = staff_with_token(username="mgr", role="manager", warehouse=wh)
    _, associate_token = staff_with_token(username="assoc", role="associate", warehouse=wh)
    with time_machine.travel(NOV_20, tick=False):
        inv.stock(acme, inv.product(acme, "TEE"), wh, "01-01-1", 40)  # receiving 40 x 0.25 = 10.00
        inv.stock(globex, inv.product(globex, "MUG"), wh, "01-02-1", 8)
    return {
        "acme": acme,
        "globex": globex,
        "merchant": api_as(acme_key),
        "globex_merchant": api_as(globex_key),
        "manager": api_as(manager_token),
        "associate": api_as(associate_token),
    }


def test_manager_sets_a_card_from_a_day_and_the_merchant_reads_it(world):
    with time_machine.travel(DEC_3, tick=False):
        answer = world["manager"].put(
            "/api/v1/tenants/acme/rate-card/",
            {"pick_per_order": "3.10", "monthly_minimum": "250.00", "effective_from": "2026-12-10"},
            format="json",
        )
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert (body["source"], body["pick_per_order"], body["effective_from"]) == ("default", "2.5000", "2000-01-01")
        assert [(c["effective_from"], c["pick_per_order"], c["monthly_minimum"]) for c in body["scheduled"]] == [
            ("2026-12-10", "3.1000", "250.00")
        ]
    with time_machine.travel(datetime(2026, 12, 10, 9, 0, tzinfo=UTC), tick=False):
        mine = world["merchant"].get("/api/v1/tenants/acme/rate-card/").json()
    assert (mine["source"], mine["pick_per_order"], mine["receiving_per_unit"]) == ("tenant", "3.1000", "0.2500")


def test_a_bad_card_is_422_and_writes_nothing(world):
    with time_machine.travel(DEC_3, tick=False):
        answer = world["manager"].put(
            "/api/v1/tenants/acme/rate-card/",
            {"pick_per_order": "-1", "effective_from": "2026-12-01"},
            format="json",
        )
    assert answer.status_code == 422
    assert {e["field"] for e in answer.json()["errors"]} == {"pick_per_order"}
    assert not RateCard.objects.exists()


def test_merchants_cannot_change_billing_and_associates_cannot_read_it(world):
    assert (
        world["merchant"].put("/api/v1/tenants/acme/rate-card/", {"pick_per_order": "0"}, format="json").status_code
        == 403
    )
    body = {"tenant": "acme", "period_start": "2026-11-01", "period_end": "2026-11-30"}
    assert world["merchant"].post("/api/v1/invoices/", body, format="json").status_code == 403
    assert (
        world["merchant"]
        .post("/api/v1/fees/", {"tenant": "acme", "amount": "-5", "reason": "x"}, format="json")
        .status_code
        == 403
    )
    for path in ("/api/v1/fees/", "/api/v1/invoices/", "/api/v1/tenants/acme/rate-card/"):
        assert world["associate"].get(path).status_code == 403, path
    assert not Invoice.objects.exists()


def test_another_merchants_card_fees_and_invoices_are_404_or_absent(world):
    with time_machine.travel(DEC_3, tick=False):
        invoice = _invoice_post(world["manager"], "globex", "2026-11-01", "2026-11-30").json()
    merchant = world["merchant"]
    assert merchant.get("/api/v1/tenants/globex/rate-card/").status_code == 404
    assert merchant.get(f"/api/v1/invoices/{invoice['id']}/").status_code == 404
    assert merchant.get(f"/api/v1/invoices/{invoice['id']}/invoice.pdf").status_code == 404
    assert merchant.get(f"/api/v1/invoices/{invoice['id']}/invoice.csv").status_code == 404
    assert merchant.get("/api/v1/invoices/").json()["results"] == []
    assert {f["tenant"] for f in merchant.get("/api/v1/fees/").json()["results"]} == {"acme"}
    globex_fee = Fee.objects.filter(tenant=world["globex"]).first()
    assert merchant.get(f"/api/v1/fees/{globex_fee.pk}/").status_code == 404


def test_fee_list_filters_by_kind_and_time_and_shows_the_source(world):
    with time_machine.travel(DEC_3, tick=False):
        fees.fees_for_pick(
            tenant_id=world["acme"].pk, order_id="o1", order_number="N-1", units=1, warehouse_code="MAIN"
        )
    rows = world["manager"].get("/api/v1/fees/", {"tenant": "acme", "kind": "receiving"}).json()["results"]
    assert [(r["kind"], r["quantity"], r["amount"], r["source"]["type"], r["invoiced"]) for r in rows] == [
        ("receiving", "40.000000", "10.00", "receipt", False)
    ]
    later = world["manager"].get("/api/v1/fees/", {"tenant": "acme", "occurred_after": "2026-12-01T00:00:00Z"}).json()
    assert [r["kind"] for r in later["results"]] == ["pick"]


def test_a_correction_is_posted_as_a_new_fee(world):
    receiving = Fee.objects.get(tenant=world["acme"], kind="receiving")
    with time_machine.travel(DEC_3, tick=False):
        answer = world["manager"].post(
            "/api/v1/fees/",
            {"tenant": "acme", "amount": "-2.50", "reason": "10 units were counted twice", "corrects": receiving.pk},
            format="json",
        )
        assert answer.status_code == 201, answer.content
        refused = world["manager"].post(
            "/api/v1/fees/",
            {"tenant": "acme", "amount": "-8.00", "reason": "again", "corrects": receiving.pk},
            format="json",
        )
    body = answer.json()
    assert (body["kind"], body["amount"], body["corrects"], body["reason"]) == (
        "receiving",
        "-2.50",
        receiving.pk,
        "10 units were counted twice",
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "over_correction"
    assert Fee.objects.filter(tenant=world["acme"]).count() == 2


def test_manager_invoices_a_month_and_both_download_pdf_and_csv_that_match(world):
    with time_machine.travel(DEC_3, tick=False):
        answer = _invoice_post(world["manager"], "acme", "2026-11-01", "2026-11-30")
        again = _invoice_post(world["manager"], "acme", "2026-11-01", "2026-11-30")
    assert answer.status_code == 201, answer.content
    invoice = answer.json()
    assert again.status_code == 409 and again.json()["existing_invoice_id"] == invoice["id"]
    assert [(line["kind"], line["amount"], line["fees"]) for line in invoice["lines"]] == [("receiving", "10.00", 1)]
    assert (invoice["subtotal"], invoice["total"], invoice["tenant"]) == ("10.00", "10.00", "acme")
    for client in (world["manager"], world["merchant"]):
        pdf = client.get(f"/api/v1/invoices/{invoice['id']}/invoice.pdf")
        assert pdf["Content-Type"] == "application/pdf"
        text = " ".join(pdf_text(pdf.content))
        assert invoice["number"] in text and "Acme Goods" in text and "10.00 CAD" in text
        assert "2026-11-01 to 2026-11-30" in text
        download = client.get(f"/api/v1/invoices/{invoice['id']}/invoice.csv")
        assert download["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
        assert sum(Decimal(r["amount"]) for r in rows) == Decimal(invoice["subtotal"])
        assert [r["kind"] for r in rows] == ["receiving"]
    listed = world["merchant"].get("/api/v1/invoices/").json()["results"]
    assert [i["number"] for i in listed] == [invoice["number"]]
    fee_rows = world["merchant"].get("/api/v1/fees/", {"invoice": invoice["id"]}).json()["results"]
    assert [r["invoiced"] for r in fee_rows] == [True]


def test_invoice_period_errors_name_their_field(world):
    with time_machine.travel(DEC_3, tick=False):
        answer = _invoice_post(world["manager"], "acme", "2026-12-01", "2026-12-31")
        unknown = _invoice_post(world["manager"], "nobody", "2026-11-01", "2026-11-30")
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "period_end"
    assert unknown.status_code == 404
    assert not Invoice.objects.exists()


def test_only_an_operator_admin_changes_the_default_card(world, api_as, django_user_model):
    from fulfillment.tenancy.services import staff_token_create

    root = django_user_model.objects.create_superuser("root", "root@example.com", "pass-word-123")
    _, root_token = staff_token_create(user=root)
    with time_machine.travel(DEC_3, tick=False):
        refused = world["manager"].put("/api/v1/default-rate-card/", {"receiving_per_unit": "9.99"}, format="json")
        assert refused.status_code == 403
        assert world["manager"].get("/api/v1/default-rate-card/").json()["receiving_per_unit"] == "0.2500"
        answer = api_as(root_token).put("/api/v1/default-rate-card/", {"receiving_per_unit": "0.35"}, format="json")
        assert answer.status_code == 200, answer.content
        assert answer.json()["receiving_per_unit"] == "0.3500" and answer.json()["effective_from"] == "2026-12-03"
        assert world["merchant"].get("/api/v1/default-rate-card/").status_code == 403
        assert fees.card_for(tenant_id=world["acme"].pk, on=date(2026, 12, 3)).price("receiving") == Decimal("0.35")


def test_the_csv_keeps_negative_amounts_as_numbers_and_defuses_formulas(world):
    receiving = Fee.objects.get(tenant=world["acme"], kind="receiving")
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=UTC), tick=False):
        fees.fee_correct(
            tenant_id=world["acme"].pk,
            corrects_id=receiving.pk,
            amount=Decimal("-2.50"),
            reason='=HYPERLINK("http://evil")',
            actor="mgr",
        )
    with time_machine.travel(DEC_3, tick=False):
        invoice = _invoice_post(world["manager"], "acme", "2026-11-01", "2026-11-30").json()
    download = world["merchant"].get(f"/api/v1/invoices/{invoice['id']}/invoice.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [(r["kind"], r["amount"], r["reason"]) for r in rows] == [
        ("receiving", "10.00", ""),
        ("receiving", "-2.50", '\'=HYPERLINK("http://evil")'),
    ]
    assert rows[1]["corrects"] == str(receiving.pk) and rows[0]["occurred_at"] == "2026-11-20T15:00:00.000000Z"
    assert invoice["subtotal"] == "7.50"
