"""Invoices: a merchant's unbilled fees to a period's end, frozen; lines per kind, minimum, total."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from billing import services
from billing.models import Invoice, InvoiceFee, InvoiceLine
from billing.tests.factories import rate_card
from fulfillment.errors import Refusal
from fulfillment.fees import services as fees
from fulfillment.fees.models import Fee, FeeKind
from fulfillment.tenancy.tests.factories import TenantFactory
from fulfillment.webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db

NOV_20 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
DEC_3 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def _receipt(tenant, key: str, units: int) -> None:
    fees.fees_for_receipt(
        tenant_id=tenant.pk, shipment_id=key, reference=f"ASN {key}", units=units, warehouse_code="MAIN"
    )


def _pick(tenant, key: str, units: int) -> None:
    fees.fees_for_pick(tenant_id=tenant.pk, order_id=key, order_number=f"N-{key}", units=units, warehouse_code="MAIN")


def _usd_label(tenant) -> None:
    """A label the carrier charged in USD: 10.00 plus the default card's 15 % markup."""
    fees.fee_for_label(
        tenant_id=tenant.pk,
        source_type="shipment",
        source_id="s1",
        reference="order 1",
        label_key="p1",
        charge=Decimal("10.00"),
        currency="USD",
    )


def _issue(tenant, start=date(2026, 11, 1), end=date(2026, 11, 30)) -> Invoice:
    return services.invoice_issue(tenant_id=tenant.pk, period_start=start, period_end=end, actor="mgr")


def test_an_invoice_has_a_line_per_kind_whose_amounts_are_its_fees_to_the_cent():
    tenant = TenantFactory()
    rate_card(tenant, monthly_minimum=Decimal("0"))
    with time_machine.travel(NOV_20, tick=False):
        _receipt(tenant, "a", 7)  # 7 x 0.30 = 2.10
        _pick(tenant, "o1", 3)  # 2.00 + 2 x 0.40
        _pick(tenant, "o2", 1)  # 2.00
    with time_machine.travel(DEC_3, tick=False):
        _receipt(tenant, "b", 5)  # December: not on November's invoice
        invoice = _issue(tenant)
    lines = {line.kind: line for line in InvoiceLine.objects.filter(invoice=invoice)}
    assert {k: (line.quantity, line.amount, line.fee_count) for k, line in lines.items()} == {
        FeeKind.RECEIVING: (Decimal(7), Decimal("2.10"), 1),
        FeeKind.PICK: (Decimal(2), Decimal("4.00"), 2),
        FeeKind.PICK_EXTRA_UNIT: (Decimal(2), Decimal("0.80"), 1),
    }
    assert (invoice.subtotal, invoice.minimum_top_up, invoice.total, invoice.fee_count) == (
        Decimal("6.90"),
        Decimal("0"),
        Decimal("6.90"),
        4,
    )
    frozen = Fee.objects.filter(pk__in=InvoiceFee.objects.filter(invoice=invoice).values("fee_id"))
    assert sum(f.amount for f in frozen) == invoice.subtotal
    assert invoice.number.startswith("INV-202611-") and invoice.currency == "CAD"


def test_the_monthly_minimum_tops_up_a_short_month_and_is_prorated_for_part_of_one():
    tenant = TenantFactory()
    rate_card(tenant, monthly_minimum=Decimal("300.00"))
    with time_machine.travel(NOV_20, tick=False):
        _receipt(tenant, "a", 10)  # 3.00
    with time_machine.travel(DEC_3, tick=False):
        november = _issue(tenant)
        part = _issue(tenant, start=date(2026, 12, 1), end=date(2026, 12, 2))
    assert (november.subtotal, november.monthly_minimum, november.minimum_top_up, november.total) == (
        Decimal("3.00"),
        Decimal("300.00"),
        Decimal("297.00"),
        Decimal("300.00"),
    )
    assert (part.monthly_minimum, part.total) == (Decimal("19.35"), Decimal("19.35"))  # 300 x 2 / 31
    assert services.minimum_for_period(Decimal("300"), date(2026, 11, 16), date(2026, 12, 15)) == Decimal("295.16")


def test_invoicing_a_period_twice_or_an_overlapping_one_is_409_and_changes_nothing():
    tenant = TenantFactory()
    with time_machine.travel(NOV_20, tick=False):
        _receipt(tenant, "a", 4)
    with time_machine.travel(DEC_3, tick=False):
        first = _issue(tenant)
        for start, end in ((date(2026, 11, 1), date(2026, 11, 30)), (date(2026, 11, 30), date(2026, 12, 2))):
            with pytest.raises(Refusal) as refused:
                _issue(tenant, start=start, end=end)
            assert (refused.value.status, refused.value.code) == (409, "already_invoiced")
            assert refused.value.extra == {"existing_invoice_id": str(first.pk)}
    assert Invoice.objects.filter(tenant=tenant).count() == 1
    assert InvoiceFee.objects.filter(tenant=tenant).count() == 1


def test_a_fee_recorded_late_for_an_invoiced_period_goes_on_the_next_invoice():
    tenant = TenantFactory()
    with time_machine.travel(NOV_20, tick=False):
        _receipt(tenant, "a", 4)
    with time_machine.travel(DEC_3, tick=False):
        _issue(tenant)
        fees.fees_record(
            tenant_id=tenant.pk,
            items=[fees.FeeInput(FeeKind.RECEIVING, 2, "receipt", "late", "ASN late")],
            occurred_at=datetime(2026, 11, 29, 12, 0, tzinfo=UTC),
        )
        december = _issue(tenant, start=date(2026, 12, 1), end=date(2026, 12, 3))
    assert (december.subtotal, december.fee_count) == (Decimal("0.50"), 1)


def test_an_invoice_cannot_end_in_the_future_nor_end_before_it_starts():
    tenant = TenantFactory()
    with time_machine.travel(DEC_3, tick=False):
        for start, end, field in (
            (date(2026, 12, 1), date(2026, 12, 31), "period_end"),
            (date(2026, 11, 10), date(2026, 11, 1), "period_end"),
            (date(2026, 12, 4), date(2026, 12, 4), "period_start"),
        ):
            with pytest.raises(services.InvoiceError) as refused:
                _issue(tenant, start=start, end=end)
            assert refused.value.field == field
    assert not Invoice.objects.filter(tenant=tenant).exists()


def test_fees_in_another_currency_are_refused_until_corrected():
    tenant = TenantFactory()
    with time_machine.travel(NOV_20, tick=False):
        _usd_label(tenant)
    with time_machine.travel(DEC_3, tick=False), pytest.raises(services.InvoiceError) as refused:
        _issue(tenant)
    assert refused.value.code == "mixed_currency"
    assert not Invoice.objects.exists() and not InvoiceFee.objects.exists()


def test_issuing_sends_invoice_issued_with_the_totals():
    tenant = TenantFactory()
    with time_machine.travel(NOV_20, tick=False):
        _receipt(tenant, "a", 4)
    with time_machine.travel(DEC_3, tick=False):
        invoice = _issue(tenant)
    event = OutboxEvent.objects.get(tenant=tenant, type="invoice.issued")
    assert event.data["number"] == invoice.number
    assert (event.data["total"], event.data["lines"][0]["kind"], event.data["lines"][0]["amount"]) == (
        "1.00",
        "receiving",
        "1.00",
    )


@pytest.mark.parametrize("table", ["billing_invoice", "billing_invoiceline", "billing_invoicefee"])
def test_the_database_refuses_to_change_an_issued_invoice(table):
    tenant = TenantFactory()
    with time_machine.travel(NOV_20, tick=False):
        _receipt(tenant, "a", 4)
    with time_machine.travel(DEC_3, tick=False):
        _issue(tenant)
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - a fixed table name
    assert Invoice.objects.get(tenant=tenant).total == Decimal("1.00")


def test_a_fee_in_another_currency_credited_in_full_and_rebooked_lets_the_invoice_through():
    tenant = TenantFactory()
    with time_machine.travel(NOV_20, tick=False):
        _usd_label(tenant)
        [usd] = Fee.objects.filter(tenant=tenant)
        fees.fee_correct(
            tenant_id=tenant.pk, corrects_id=usd.pk, amount=-usd.amount, reason="re-booked in CAD", actor="m"
        )
        fees.fee_correct(tenant_id=tenant.pk, amount=Decimal("15.75"), reason="label 1 in CAD", actor="m")
    with time_machine.travel(DEC_3, tick=False):
        invoice = _issue(tenant)
    lines = {line.kind: (line.amount, line.fee_count) for line in InvoiceLine.objects.filter(invoice=invoice)}
    assert lines == {FeeKind.SHIPPING: (Decimal("0"), 2), FeeKind.ADJUSTMENT: (Decimal("15.75"), 1)}
    assert (invoice.total, invoice.currency, invoice.fee_count) == (Decimal("15.75"), "CAD", 3)


def test_the_minimum_does_not_swallow_a_credit():
    tenant = TenantFactory()
    rate_card(tenant, monthly_minimum=Decimal("100.00"))
    with time_machine.travel(NOV_20, tick=False):
        _receipt(tenant, "a", 10)  # 3.00 of activity
        fees.fee_correct(tenant_id=tenant.pk, amount=Decimal("-30.00"), reason="goodwill", actor="m")
    with time_machine.travel(DEC_3, tick=False):
        invoice = _issue(tenant)
    assert (invoice.subtotal, invoice.minimum_top_up, invoice.total) == (
        Decimal("-27.00"),
        Decimal("97.00"),
        Decimal("70.00"),
    )


def test_a_later_period_invoiced_first_refuses_the_earlier_one():
    tenant = TenantFactory()
    rate_card(tenant, monthly_minimum=Decimal("100.00"))
    with time_machine.travel(NOV_20, tick=False):
        _receipt(tenant, "a", 10)
    with time_machine.travel(datetime(2027, 1, 3, 10, 0, tzinfo=UTC), tick=False):
        december = _issue(tenant, start=date(2026, 12, 1), end=date(2026, 12, 31))
        with pytest.raises(Refusal) as refused:
            _issue(tenant)
    assert (refused.value.status, refused.value.code) == (409, "out_of_order")
    assert refused.value.extra == {"existing_invoice_id": str(december.pk)}
    assert Invoice.objects.filter(tenant=tenant).count() == 1


def test_a_period_before_the_account_or_longer_than_a_year_is_refused():
    tenant = TenantFactory()
    with time_machine.travel(NOV_20, tick=False):
        _receipt(tenant, "a", 10)
    with time_machine.travel(DEC_3, tick=False):
        for start, end, code in (
            (date(1, 1, 1), date(2026, 11, 30), "too_long"),
            (date(2026, 10, 1), date(2026, 11, 30), "before_account"),
            (date(2025, 11, 1), date(2026, 11, 30), "too_long"),
        ):
            with pytest.raises(services.InvoiceError) as refused:
                _issue(tenant, start=start, end=end)
            assert refused.value.code == code, (start, end)
    assert not Invoice.objects.exists()


def test_month_to_date_keeps_fees_of_another_currency_out_of_the_total():
    from billing.selectors import month_to_date
    from fulfillment.tenancy.models import Tenant

    tenant = TenantFactory()
    with time_machine.travel(DEC_3, tick=False):
        _receipt(tenant, "a", 4)  # 1.00 CAD
        _usd_label(tenant)
        [row] = month_to_date(tenants=Tenant.objects.filter(pk=tenant.pk))
    assert (row.total, row.currency, row.fees, row.other_currencies) == (
        Decimal("1.00"),
        "CAD",
        2,
        {"USD": Decimal("11.50")},
    )
