"""The managers' billing pages: month to date per merchant (with a chart and the "Issue invoice"
form), each merchant's rate card and the operator's default card, invoices (with their PDF and
CSV), and the fee ledger with its corrections form.

Managers only (staff role manager or admin; associates and merchants get 403, anonymous users go
to the login page), for the merchants of their warehouses (``selectors.tenants_visible_to``:
another merchant is 404). Every write goes through the service the API uses.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from billing import documents, selectors, services
from billing.models import Invoice
from fulfillment.errors import refusal_shown, sentence
from fulfillment.fees import services as fees
from fulfillment.fees.models import DefaultRateCard, FeeKind
from fulfillment.tenancy.portal import staff_actor

PRICE_LABELS = {
    "storage_per_m3_day": "Storage, per m³ per day",
    "receiving_per_unit": "Receiving, per unit",
    "pick_per_order": "Pick, per order",
    "pick_per_extra_unit": "Pick, per extra unit",
    "pack_per_package": "Pack, per package",
    "materials_markup_percent": "Materials markup, %",
    "shipping_markup_percent": "Shipping markup, %",
    "return_per_rma": "Return, per RMA",
    "return_per_unit": "Return, per unit",
    "monthly_minimum": "Monthly minimum",
    "currency": "Currency",
}
PRICE_FIELDS = [name for name in DefaultRateCard.PRICE_FIELDS if name != "currency"]
CHART_ROW = 40  # px per merchant in the chart
FEES_PER_PAGE = 50


def _actor(request):
    return staff_actor(request, manager=True)


def _tenant(actor, slug: str):
    tenant = selectors.tenants_visible_to(actor).filter(slug=slug).first()
    if tenant is None:
        raise Http404("No such merchant.")
    return tenant


def previous_month(today: date) -> tuple[date, date]:
    """The last whole calendar month before ``today``: the issue form's default period."""
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


# -- forms ---------------------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"


class IssueForm(forms.Form):
    tenant = forms.ChoiceField(label="Merchant")
    period_start = forms.DateField(label="Period start", widget=DateInput)
    period_end = forms.DateField(label="Period end (inclusive)", widget=DateInput)

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].choices = [(t.slug, t.name) for t in tenants]


class RateCardForm(forms.Form):
    """Every price of a card and the day it applies from; the rules (no negative price, no past day,
    an ISO currency) are the service's, shown per field."""

    effective_from = forms.DateField(label="Effective from", widget=DateInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in PRICE_FIELDS:
            places = 2 if name.endswith(("percent", "minimum")) else 4
            self.fields[name] = forms.DecimalField(
                label=PRICE_LABELS[name],
                max_digits=14,
                decimal_places=places,
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )
        self.fields["currency"] = forms.CharField(label="Currency", max_length=3, min_length=3)


class CorrectionForm(forms.Form):
    tenant = forms.ChoiceField(label="Merchant")
    amount = forms.DecimalField(
        label="Amount",
        max_digits=14,
        help_text="Signed: a negative amount credits the merchant.",
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    reason = forms.CharField(label="Reason", max_length=200)
    corrects = forms.IntegerField(
        label="Fee to correct (id, optional)",
        required=False,
        min_value=1,
        help_text="Empty: an adjustment. A fee id: booked under that fee's kind.",
    )

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].choices = [(t.slug, t.name) for t in tenants]


# -- month to date ---------------------------------------------------------------------------------------


def _chart(rows: list[selectors.MonthToDate]) -> dict:
    """Horizontal bars of each merchant's month-to-date total, as the SVG draws them: a row per
    merchant (name and total above its bar), bar widths in percent of the largest total, so the
    chart takes the page's width with its text at its real size at any width."""
    largest = max((r.total for r in rows), default=Decimal(0))
    largest = largest if largest > 0 else Decimal(1)
    return {
        "height": CHART_ROW * len(rows) + 4,
        "bars": [
            {
                "row": r,
                "text_y": CHART_ROW * i + 14,
                "bar_y": CHART_ROW * i + 20,
                "percent": f"{(100 * max(r.total, Decimal(0)) / largest):.1f}",
            }
            for i, r in enumerate(rows)
        ],
    }


def _overview_context(actor, today: date, form: IssueForm | None = None) -> dict:
    tenants = selectors.tenants_visible_to(actor)
    rows = selectors.month_to_date(tenants=tenants, today=today)
    kinds = [(k, label) for k, label in FeeKind.choices if any(k in r.by_kind for r in rows)]
    start, end = previous_month(today)
    if form is None:
        form = IssueForm(tenants=[r.tenant for r in rows], initial={"period_start": start, "period_end": end})
    return {
        "rows": rows,
        "kinds": kinds,
        "breakdown": [(r, [r.by_kind.get(k) for k, _label in kinds]) for r in rows],
        "chart": _chart(rows),
        "today": today,
        "month_start": selectors.month_start(today),
        "default_start": start,
        "default_end": end,
        "form": form,
    }


@login_required
@require_http_methods(["GET", "POST"])
def billing_overview(request):
    actor = _actor(request)
    today = timezone.localdate()
    if request.method == "GET":
        return render(request, "billing/manager/overview.html", _overview_context(actor, today))
    tenants = list(selectors.tenants_visible_to(actor).order_by("name"))
    form = IssueForm(request.POST, tenants=tenants)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        tenant = _tenant(actor, data["tenant"])
        with refusal_shown(request, prefix="Not issued: ") as refused:
            invoice = services.invoice_issue(
                tenant_id=tenant.pk,
                period_start=data["period_start"],
                period_end=data["period_end"],
                actor=actor.label,
            )
            messages.success(
                request,
                f"Invoice {invoice.number} issued to {tenant.name}: {documents.money(invoice.total, invoice.currency)}.",
            )
            return redirect("billing:manager_invoice", pk=invoice.pk)
        status = refused.refusal.status
    return render(request, "billing/manager/overview.html", _overview_context(actor, today, form), status=status)


# -- rate cards ----------------------------------------------------------------------------------------------


def _card_form(request, prices: dict, today: date) -> RateCardForm:
    if request.method == "POST":
        return RateCardForm(request.POST)
    return RateCardForm(initial={**prices, "effective_from": today})


def _card_rows(prices: dict) -> list[tuple[str, object]]:
    return [(PRICE_LABELS[name], prices.get(name)) for name in DefaultRateCard.PRICE_FIELDS]


def _versions(cards, today: date) -> dict:
    """A card's versions as table rows: those scheduled (soonest first) and the history (latest first)."""

    def row(card):
        return {"effective_from": card.effective_from, "prices": list(card.prices().values()), "by": card.created_by}

    return {
        "scheduled": [row(c) for c in selectors.scheduled(cards, today=today)],
        "history": [row(c) for c in cards if c.effective_from <= today],
        "price_labels": [PRICE_LABELS[name] for name in DefaultRateCard.PRICE_FIELDS],
    }


def _card_post(request, form: RateCardForm, write) -> bool:
    """Validate and write the card; True when written (errors are on the form otherwise)."""
    if not form.is_valid():
        return False
    data = dict(form.cleaned_data)
    effective_from = data.pop("effective_from")
    with refusal_shown(form=form):
        write(prices=data, effective_from=effective_from)
        messages.success(request, sentence(f"Rate card set from {effective_from:%Y-%m-%d}"))
        return True
    return False


def _card_page(request, actor, *, tenant, write, can_edit: bool = True):
    """A card's page (a merchant's, or the default card when ``tenant`` is None): the card in
    effect, its versions, and the form that sets a new one through ``write``."""
    today = timezone.localdate()
    tenant_id = tenant.pk if tenant else None
    card = fees.card_for(tenant_id=tenant_id, on=today)
    form = _card_form(request, card.prices, today)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only an operator admin changes the default card: it prices every merchant.")
        if _card_post(request, form, write):
            return redirect(request.path)
    context = {
        "tenant": tenant,
        "card_label": card.label,
        "card_from": card.effective_from,
        "card_is_default": card.is_default,
        "can_edit": can_edit,
        "card_rows": _card_rows(card.prices),
        **_versions(selectors.card_versions(tenant_id=tenant_id), today),
        "form": form,
        "today": today,
    }
    return render(request, "billing/manager/rate_card.html", context, status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def tenant_rate_card(request, slug):
    actor = _actor(request)
    tenant = _tenant(actor, slug)

    def write(*, prices, effective_from):
        fees.rate_card_set(tenant_id=tenant.pk, prices=prices, effective_from=effective_from, actor=actor.label)

    return _card_page(request, actor, tenant=tenant, write=write)


@login_required
@require_http_methods(["GET", "POST"])
def default_rate_card(request):
    actor = _actor(request)

    def write(*, prices, effective_from):
        fees.default_rate_card_set(prices=prices, effective_from=effective_from, actor=actor.label)

    # It prices every merchant of every warehouse: only an operator admin changes it.
    return _card_page(request, actor, tenant=None, write=write, can_edit=actor.sees_all_warehouses)


# -- invoices ------------------------------------------------------------------------------------------------


def _invoice(actor, pk) -> Invoice:
    invoice = selectors.invoices_visible_to(actor).filter(pk=pk).first()
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


@require_GET
@login_required
def invoice_list(request):
    actor = _actor(request)
    invoices = selectors.invoices_visible_to(actor)
    slug = request.GET.get("tenant", "").strip()
    tenant = _tenant(actor, slug) if slug else None
    if tenant is not None:
        invoices = invoices.filter(tenant=tenant)
    page = Paginator(invoices, FEES_PER_PAGE).get_page(request.GET.get("page"))
    query = urlencode({"tenant": slug}) if slug else ""
    return render(request, "billing/manager/invoices.html", {"page": page, "tenant": tenant, "query": query})


@require_GET
@login_required
def invoice_detail(request, pk):
    actor = _actor(request)
    invoice = _invoice(actor, pk)
    return render(request, "billing/manager/invoice.html", {"invoice": invoice, "lines": documents.line_rows(invoice)})


@require_GET
@login_required
def invoice_pdf(request, pk):
    return documents.invoice_pdf_response(_invoice(_actor(request), pk), as_attachment=True)


@require_GET
@login_required
def invoice_csv(request, pk):
    return documents.fees_csv_response(_invoice(_actor(request), pk))


# -- fees and corrections ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def fee_list(request):
    actor = _actor(request)
    tenants = list(selectors.tenants_visible_to(actor).order_by("name"))
    source = request.POST if request.method == "POST" else request.GET
    slug = source.get("tenant", "").strip()
    kind = request.GET.get("kind", "").strip()
    if kind not in FeeKind.values:
        kind = ""
    if slug:
        _tenant(actor, slug)
    status = 200
    if request.method == "POST":
        form = CorrectionForm(request.POST, tenants=tenants)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            tenant = _tenant(actor, data["tenant"])
            with refusal_shown(form=form):
                fee = fees.fee_correct(
                    tenant_id=tenant.pk,
                    amount=data["amount"],
                    reason=data["reason"],
                    corrects_id=data["corrects"],
                    actor=actor.label,
                )
                messages.success(
                    request,
                    f"Correction #{fee.pk} booked for {tenant.name}: {documents.money(fee.amount, fee.currency)} "
                    f"({fee.get_kind_display()}). It is billed on the next invoice.",
                )
                return redirect(f"{reverse('billing:manager_fees')}?{urlencode({'tenant': tenant.slug})}")
    else:
        corrects = request.GET.get("corrects", "")
        initial = {"tenant": slug, "corrects": corrects if corrects.isdigit() else None}
        form = CorrectionForm(tenants=tenants, initial=initial)
    page = Paginator(selectors.fees_visible_to(actor, tenant_slug=slug, kind=kind), FEES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "tenants": tenants,
        "slug": slug,
        "kind": kind,
        "kinds": FeeKind.choices,
        "form": form,
        "query": urlencode({k: v for k, v in (("tenant", slug), ("kind", kind)) if v}),
    }
    return render(request, "billing/manager/fees.html", context, status=status)


urlpatterns = [
    path("billing/", billing_overview, name="manager"),
    path("billing/rate-cards/<slug:slug>/", tenant_rate_card, name="manager_rate_card"),
    path("billing/default-rate-card/", default_rate_card, name="manager_default_rate_card"),
    path("billing/invoices/", invoice_list, name="manager_invoices"),
    path("billing/invoices/<uuid:pk>/", invoice_detail, name="manager_invoice"),
    path("billing/invoices/<uuid:pk>/invoice.pdf", invoice_pdf, name="manager_invoice_pdf"),
    path("billing/invoices/<uuid:pk>/invoice.csv", invoice_csv, name="manager_invoice_csv"),
    path("billing/fees/", fee_list, name="manager_fees"),
]
