"""Issuing an invoice: the merchant's unbilled fees up to the end of a period, frozen to it.

Set-based, whatever the number of fees: the unbilled fees are chosen into a temporary table, one
GROUP BY over it makes the lines, one INSERT ... SELECT freezes them (``InvoiceFee``, keyed by the
fee, so no fee is ever billed twice); nothing loops over fee rows in Python. An invoice takes every fee of the tenant that occurred before the
period ends and is not on an earlier invoice: fees recorded late for a period already invoiced
(a correction, a storage night run late) are billed on the next one, never lost.

Lock order: the tenant's invoicing lock (a transaction advisory lock), then the fee rows' keys.
"""

from __future__ import annotations

import calendar
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from billing.models import Invoice, InvoiceLine
from fulfillment.errors import FieldRefusal, Refusal
from fulfillment.fees import services as fees
from fulfillment.fees.models import Fee, FeeKind
from fulfillment.tenancy.models import Tenant
from fulfillment.webhooks.services import event_publish
from inventory.models import Warehouse


class InvoiceError(FieldRefusal):
    code = "invalid"


def _end_of(period_end: date) -> datetime:
    """The start of the day after the period's last, in operator time: fees before it are billed."""
    return timezone.make_aware(datetime.combine(period_end + timedelta(days=1), time.min))


def minimum_for_period(monthly_minimum: Decimal, period_start: date, period_end: date) -> Decimal:
    """The monthly minimum over the period: whole for a whole calendar month, else per day of each
    month the period covers (15 days of a 30-day month: half), rounded half-up to the cent."""
    total = Decimal(0)
    day = period_start
    while day <= period_end:
        days_in_month = calendar.monthrange(day.year, day.month)[1]
        month_end = date(day.year, day.month, days_in_month)
        last = min(month_end, period_end)
        covered = (last - day).days + 1
        total += Decimal(monthly_minimum) * covered / days_in_month
        day = last + timedelta(days=1)
    return fees.money(total)


def _issuer(tenant: Tenant) -> dict:
    """The operator as printed on the invoice: BILLING_ISSUER_* settings, else the merchant's
    default warehouse's company and address."""
    warehouse = (
        Warehouse.objects.filter(code=tenant.default_warehouse_code).first()
        or Warehouse.objects.order_by("created_at").first()
    )
    address = []
    if warehouse is not None:
        address = [
            warehouse.address_line1,
            warehouse.address_line2,
            " ".join(part for part in (warehouse.city, warehouse.region, warehouse.postal_code) if part),
            warehouse.country,
        ]
    configured = settings.BILLING_ISSUER
    return {
        "name": configured.get("name") or (warehouse.company_name or warehouse.name if warehouse else ""),
        "address": configured.get("address") or [line for line in address if line],
        "email": configured.get("email", ""),
        "tax_id": configured.get("tax_id", ""),
    }


# The fees to freeze are chosen first, into a temporary table, then inserted: an INSERT whose own
# SELECT probes the table it writes (the NOT EXISTS below) rescans its new rows for every fee
# while the planner still takes the table for empty, which is quadratic (2 s for 20,000 fees).
_CANDIDATES = """
CREATE TEMPORARY TABLE billing_invoice_candidates ON COMMIT DROP AS
SELECT f.id, f.tenant_id, f.kind, f.currency, f.quantity, f.amount, f.corrects_id
FROM fees_fee f
WHERE f.tenant_id = %(tenant)s AND f.occurred_at < %(end)s
  AND NOT EXISTS (SELECT 1 FROM billing_invoicefee i WHERE i.fee_id = f.id)
"""

_FREEZE = """
INSERT INTO billing_invoicefee (tenant_id, invoice_id, fee_id)
SELECT c.tenant_id, %(invoice)s, c.id FROM billing_invoice_candidates c
"""

_LINES = """
SELECT c.kind, c.currency, sum(c.quantity), sum(c.amount), count(*)
FROM billing_invoice_candidates c
GROUP BY c.kind, c.currency
"""

# Credits the minimum does not swallow: manual credits, and credits (corrections, voids) of fees
# billed on an earlier invoice. A correction of a fee on this invoice just makes its activity less.
_CREDITS = f"""
SELECT coalesce(sum(c.amount), 0) FROM billing_invoice_candidates c
WHERE c.amount < 0 AND (c.kind = '{FeeKind.ADJUSTMENT.value}'
    OR (c.corrects_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM billing_invoice_candidates o WHERE o.id = c.corrects_id)))
"""  # noqa: S608 - a constant

KIND_ORDER = {kind: index for index, kind in enumerate(FeeKind.values)}
MAX_PERIOD_DAYS = 366


def _lines_by_kind(groups: list[tuple]) -> list[tuple]:
    """(kind, quantity, amount, fee count) per kind in FeeKind's order, from the (kind, currency, ...)
    groups: a group in another currency (it nets to zero, or the invoice was refused) adds its fees
    and quantity to its kind's line, nothing to its amount."""
    lines: dict[str, list] = {}
    for kind, _currency, quantity, amount, count in groups:
        line = lines.setdefault(kind, [Decimal(0), Decimal(0), 0])
        line[0] += quantity
        line[1] += amount
        line[2] += count
    return [(kind, *lines[kind]) for kind in sorted(lines, key=lambda k: KIND_ORDER.get(k, len(KIND_ORDER)))]


@transaction.atomic
def invoice_issue(*, tenant_id, period_start: date, period_end: date, actor: str = "") -> Invoice:
    """Invoice a merchant for a period (days, inclusive, operator time): lines per fee kind, the
    subtotal, the top-up to the card's monthly minimum (prorated), the total; ``invoice.issued``.

    The minimum is measured against the period's activity (its fees net of their corrections and
    voids); credits, manual ones and those of fees billed on an earlier invoice, are applied after
    the top-up, so that a credit is never swallowed by the minimum.

    Refused: a period that ends before it starts, has not begun, is longer than a year or starts
    before the merchant's first month (422); one that overlaps an invoice of the tenant (409,
    ``already_invoiced`` with that invoice's id) or starts before a later invoice's end (409,
    ``out_of_order``: invoices go in order, or the minimum would be billed twice); fees in a
    currency other than the card's that do not net to zero (422 ``mixed_currency``: credit them in
    full with a correction and book their value as an adjustment in the card's currency).
    """
    today = timezone.localdate()
    if period_end < period_start:
        raise InvoiceError("the period ends before it starts", field="period_end", code="invalid")
    if period_start > today:
        raise InvoiceError("the period has not begun", field="period_start", code="in_the_future")
    if period_end > today:
        raise InvoiceError(
            "the period ends in the future: invoice up to today at most", field="period_end", code="in_the_future"
        )
    if (period_end - period_start).days >= MAX_PERIOD_DAYS:
        raise InvoiceError(f"a period is at most {MAX_PERIOD_DAYS} days", field="period_start", code="too_long")
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        raise Refusal("no such merchant", code="not_found", status=404)
    first_fee = Fee.objects.filter(tenant_id=tenant.pk).order_by("occurred_at").values_list("occurred_at", flat=True)
    began = min([timezone.localdate(tenant.created_at), *[timezone.localdate(at) for at in first_fee[:1]]])
    if period_start < began.replace(day=1):
        raise InvoiceError(
            f"{tenant.name} has nothing to bill before {began.replace(day=1)}, the month its account began",
            field="period_start",
            code="before_account",
        )
    with connection.cursor() as cursor:
        # One invoicing of a tenant at a time: the overlap check below and the freeze are then exact.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"invoice:{tenant.pk}"])
    overlapping = (
        Invoice.objects.filter(tenant_id=tenant.pk, period_start__lte=period_end, period_end__gte=period_start)
        .order_by("period_start")
        .first()
    )
    if overlapping is not None:
        raise Refusal(
            f"{overlapping.period_start} to {overlapping.period_end} is already invoiced ({overlapping.number})",
            code="already_invoiced",
            status=409,
            extra={"existing_invoice_id": str(overlapping.pk)},
        )
    later = Invoice.objects.filter(tenant_id=tenant.pk, period_end__gte=period_start).order_by("-period_end").first()
    if later is not None:
        raise Refusal(
            f"{later.number} already bills up to {later.period_end}: invoices go in order, so the next one "
            f"starts after {later.period_end}",
            code="out_of_order",
            status=409,
            extra={"existing_invoice_id": str(later.pk)},
        )
    card = fees.card_for(tenant_id=tenant.pk, on=period_end)
    end = _end_of(period_end)
    invoice_id = uuid.uuid4()
    params = {"invoice": invoice_id, "tenant": tenant.pk, "end": end}
    with connection.cursor() as cursor:
        # Invoice rows are inserted below, in this transaction: the foreign key is checked at commit.
        cursor.execute(_CANDIDATES, params)
        cursor.execute(_LINES, params)
        groups = cursor.fetchall()
        # Per kind and currency: a fee corrected in full keeps its kind, so its group nets to zero.
        foreign = sorted({c for _k, c, _q, amount, _n in groups if c != card.currency and amount})
        if foreign:
            raise InvoiceError(
                f"fees in {', '.join(foreign)} cannot be invoiced in {card.currency}, the rate card's currency: "
                f"credit them in full (a correction of each) and book their value as an adjustment in {card.currency}",
                field="tenant",
                code="mixed_currency",
            )
        cursor.execute(_CREDITS)
        (credits,) = cursor.fetchone()
        cursor.execute(_FREEZE, params)
        cursor.execute("DROP TABLE billing_invoice_candidates")
    rows = _lines_by_kind(groups)
    subtotal = sum((amount for _k, _q, amount, _n in rows), Decimal(0))
    usage = subtotal - credits
    minimum = minimum_for_period(card.prices["monthly_minimum"], period_start, period_end)
    top_up = max(minimum - usage, Decimal(0))
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('billing_invoice_number_seq')")
        (sequence,) = cursor.fetchone()
    invoice = Invoice.objects.create(
        id=invoice_id,
        tenant=tenant,
        number=f"INV-{period_end:%Y%m}-{sequence:05d}",
        period_start=period_start,
        period_end=period_end,
        currency=card.currency,
        subtotal=subtotal,
        monthly_minimum=minimum,
        minimum_top_up=top_up,
        total=subtotal + top_up,
        fee_count=sum(count for *_rest, count in rows),
        issuer=_issuer(tenant),
        bill_to={"name": tenant.name, "account": tenant.slug, "email": tenant.email_from},
        issued_at=timezone.now(),
        issued_by=actor[:100],
    )
    lines = InvoiceLine.objects.bulk_create(
        InvoiceLine(tenant_id=tenant.pk, invoice=invoice, kind=kind, quantity=quantity, amount=amount, fee_count=count)
        for kind, quantity, amount, count in rows
    )
    event_publish(tenant_id=tenant.pk, type="invoice.issued", data=_payload(invoice, lines))
    return invoice


def _payload(invoice: Invoice, lines: list[InvoiceLine]) -> dict:
    """The ``invoice.issued`` webhook's data."""
    return {
        "id": str(invoice.pk),
        "number": invoice.number,
        "period_start": invoice.period_start.isoformat(),
        "period_end": invoice.period_end.isoformat(),
        "currency": invoice.currency,
        "subtotal": str(invoice.subtotal),
        "minimum_top_up": str(invoice.minimum_top_up),
        "total": str(invoice.total),
        "lines": [
            {"kind": line.kind, "quantity": str(line.quantity), "amount": str(line.amount), "fees": line.fee_count}
            for line in lines
        ],
    }
