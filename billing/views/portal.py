"""The merchant portal's billing pages.

- ``/portal/billing/``: the month so far (its total, by fee kind, as a chart too), the rate card in
  effect with its prices, how far the month is from the monthly minimum, and the invoices.
- ``/portal/billing/invoices/<id>/``: one invoice: its lines, subtotal, minimum top-up and total,
  with its PDF and CSV (the same documents as the API's) under it.
- ``/portal/billing/invoices/<id>/fees/?kind=<kind>``: the fee rows frozen to the invoice behind
  one of its lines, by pages.
- ``/portal/billing/fees/``: this month's fee rows that are on no invoice yet.

Another merchant's invoice is a 404, exactly like a missing one.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from billing import documents, selectors
from billing.models import Invoice
from fulfillment.fees.models import FeeKind
from fulfillment.tenancy.portal import merchant_required

FEES_PAGE_SIZE = 50

# The card's prices as the merchant reads them: (field, what it prices, how it is shown).
CARD_PRICES = [
    ("storage_per_m3_day", "Storage", "per m³ per day"),
    ("receiving_per_unit", "Receiving", "per unit received"),
    ("pick_per_order", "Picking", "per order"),
    ("pick_per_extra_unit", "Picking", "per unit past the first of an order"),
    ("pack_per_package", "Packing", "per package"),
    ("materials_markup_percent", "Packing materials", "markup on their cost"),
    ("shipping_markup_percent", "Shipping labels", "markup on their cost"),
    ("return_per_rma", "Returns", "per return (RMA)"),
    ("return_per_unit", "Returns", "per unit returned"),
    ("monthly_minimum", "Monthly minimum", "per month"),
]
PERCENT_FIELDS = {"materials_markup_percent", "shipping_markup_percent"}

# The month's fees by kind as horizontal bars (an inline SVG sized as the returns chart is): the
# label on its own line above its bar, so that it stays legible at a phone's width.
CHART_WIDTH = 360
CHART_BAR_W = 250
CHART_ROW_H = 38
CHART_BAR_H = 16


def price_text(value, currency: str) -> str:
    """A unit price with its currency: two decimals, more only where the card has them (0.0050)."""
    value = Decimal(value)
    places = max(2, -value.normalize().as_tuple().exponent)
    return f"{value:,.{min(places, 4)}f} {currency}"


def card_rows(card) -> list[dict]:
    currency = card.currency
    rows = []
    for name, label, unit in CARD_PRICES:
        value = card.prices[name]
        if name in PERCENT_FIELDS:
            shown = f"{Decimal(value):.2f} %"
        elif name == "monthly_minimum":
            shown = documents.money(value, currency)
        else:
            shown = price_text(value, currency)
        rows.append({"field": name, "label": label, "unit": unit, "value": shown})
    return rows


def fees_chart(rows: list[tuple[str, str, Decimal]], currency: str) -> dict:
    """One bar per fee kind on one scale (credits, below zero, draw no bar): the sizes an SVG needs."""
    top = max([Decimal(0), *(amount for _kind, _label, amount in rows)])
    bars = []
    for i, (kind, label, amount) in enumerate(rows):
        y = 4 + i * CHART_ROW_H
        width = round(float(amount / top * CHART_BAR_W), 1) if top and amount > 0 else 0
        bars.append(
            {
                "kind": kind,
                "label": label,
                "amount": amount,
                "text": documents.money(amount, currency),
                "label_y": y + 12,
                "bar_y": y + 16,
                "width": width,
                "amount_x": round(width + 4, 1),
                "amount_y": y + 16 + CHART_BAR_H - 3,
            }
        )
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": max(len(bars), 1) * CHART_ROW_H + 4,
        "bar_h": CHART_BAR_H,
    }


def _invoice_or_404(actor, invoice_id) -> Invoice:
    invoice = Invoice.objects.visible_to(actor).filter(pk=invoice_id).first()
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


def _fee_rows(page) -> list[dict]:
    return [
        {
            "fee": fee,
            "source": fee.get_source_type_display(),
            "reference": fee.source_ref or fee.source_id,
            "kind": selectors.KIND_LABELS.get(fee.kind, fee.kind),
            "quantity": documents.quantity_text(fee.kind, fee.quantity),
            "unit_price": price_text(fee.unit_price, fee.currency),
            "correction": bool(fee.corrects_id or fee.kind == FeeKind.ADJUSTMENT),
        }
        for fee in page.object_list
    ]


@require_GET
@merchant_required
def overview(request, *, actor):
    billing = selectors.portal_billing(actor=actor)
    month = billing.month
    context = {
        "billing": billing,
        "month": month,
        "card": billing.card,
        "card_rows": card_rows(billing.card),
        "chart": fees_chart(month.rows, month.currency),
        "invoices": billing.invoices,
    }
    return render(request, "billing/portal/overview.html", context)


@require_GET
@merchant_required
def invoice_detail(request, invoice_id, *, actor):
    invoice = _invoice_or_404(actor, invoice_id)
    return render(request, "billing/portal/invoice.html", {"invoice": invoice, "lines": documents.line_rows(invoice)})


@require_GET
@merchant_required
def invoice_fees(request, invoice_id, *, actor):
    invoice = _invoice_or_404(actor, invoice_id)
    kind = request.GET.get("kind", "")
    if kind and kind not in FeeKind.values:
        raise Http404("No such fee kind.")
    rows = selectors.invoice_fees(invoice)
    if kind:
        rows = rows.filter(kind=kind)
    page = Paginator(rows, FEES_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "invoice": invoice,
        "kind": kind,
        "kind_label": selectors.KIND_LABELS.get(kind, ""),
        "page": page,
        "rows": _fee_rows(page),
        "query": urlencode({"kind": kind}) if kind else "",
        "currency": invoice.currency,
    }
    return render(request, "billing/portal/fees.html", context)


@require_GET
@merchant_required
def fees_open(request, *, actor):
    page = Paginator(selectors.fees_not_invoiced(actor=actor), FEES_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/portal/fees.html", {"invoice": None, "page": page, "rows": _fee_rows(page)})


@require_GET
@merchant_required
def invoice_pdf(request, invoice_id, *, actor):
    return documents.invoice_pdf_response(_invoice_or_404(actor, invoice_id), as_attachment=True)


@require_GET
@merchant_required
def invoice_csv(request, invoice_id, *, actor):
    return documents.fees_csv_response(_invoice_or_404(actor, invoice_id))


urlpatterns = [
    path("portal/billing/", overview, name="portal-billing"),
    path("portal/billing/fees/", fees_open, name="portal-fees-open"),
    path("portal/billing/invoices/<uuid:invoice_id>/", invoice_detail, name="portal-invoice"),
    path("portal/billing/invoices/<uuid:invoice_id>/fees/", invoice_fees, name="portal-invoice-fees"),
    path("portal/billing/invoices/<uuid:invoice_id>/invoice.pdf", invoice_pdf, name="portal-invoice-pdf"),
    path("portal/billing/invoices/<uuid:invoice_id>/invoice.csv", invoice_csv, name="portal-invoice-csv"),
]
