"""The merchant portal's returns pages.

- ``/portal/returns/policy/``: the merchant's return policy, read and changed as one form; a
  refused change shows each field's problem and saves nothing (the checks are the service's).
- ``/portal/returns/``: the returns (filters, search, pages) under a chart of return reasons by SKU
  (the last 90 days) and the counts by status.
- ``/portal/returns/<id>/``: one return: its timeline, lines with what was received and graded,
  the shopper's photos, the return label, the exchange order and the refund card (with the
  confirm form while the refund is pending); its photos, label PDF and the
  refund's POST under it.
- ``/portal/returns/new/?order=<id>``: the merchant opens a return for a shipped order; the
  service's refusals are shown on the fields they name and nothing is created.

Another tenant's return or order is a 404, exactly like a missing one.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fulfillment.errors import refusal_shown
from fulfillment.tenancy.portal import merchant_required
from returns import selectors_portal as selectors
from returns import services
from returns.models import (
    CLOSABLE,
    RETURNABLE,
    LabelStatus,
    RefundStatus,
    Resolution,
    ReturnPhoto,
    ReturnStatus,
)
from returns.selectors import buys_labels, return_policy
from returns.views.documents import photo_response
from shipping.models import CarrierAccount


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines()]


class PolicyForm(forms.Form):
    window_days = forms.IntegerField(label="Days after delivery", min_value=0, max_value=3650)
    restocking_fee_percent = forms.CharField(label="Restocking fee (% of the price)", max_length=12)
    return_shipping_fee = forms.CharField(label="Return shipping fee (per return)", max_length=16)
    free_exchanges = forms.BooleanField(label="Exchanges are free of these fees", required=False)
    resolutions = forms.MultipleChoiceField(
        choices=Resolution.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    non_returnable_skus = forms.CharField(
        label="SKUs that cannot be returned (one per line)", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    reasons = forms.CharField(label="Reasons offered (one per line)", widget=forms.Textarea(attrs={"rows": 6}))
    label_account = forms.ChoiceField(label="Prepaid return labels", required=False)
    exchange_before_receipt = forms.BooleanField(
        label="Trust the shopper: ship an exchange before the return arrives", required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label_account"].choices = label_choices()


def label_choices() -> list[tuple[str, str]]:
    """ "carrier_id/service_code" of every active service of the active carrier accounts, after "none"."""
    choices = [("", "None: the shopper sends the parcel at their own cost")]
    for account in CarrierAccount.objects.filter(active=True).prefetch_related("services").order_by("carrier_id"):
        for service in sorted(
            (s for s in account.services.all() if s.active), key=lambda s: (s.transit_days, s.service_code)
        ):
            choices.append(
                (f"{account.carrier_id}/{service.service_code}", f"{account.display_name}: {service.service_name}")
            )
    return choices


@require_http_methods(["GET", "POST"])
@merchant_required
def policy(request, *, actor):
    current = return_policy(tenant_id=actor.tenant_id)
    initial = {
        "window_days": current.window_days,
        "restocking_fee_percent": f"{current.restocking_fee_percent:.2f}",
        "return_shipping_fee": f"{current.return_shipping_fee:.2f}",
        "free_exchanges": current.free_exchanges,
        "resolutions": list(current.resolutions),
        "non_returnable_skus": "\n".join(current.non_returnable_skus),
        "reasons": "\n".join(current.reasons),
        "label_account": (
            f"{current.label_account.carrier_id}/{current.label_service_code}" if current.label_account_id else ""
        ),
        "exchange_before_receipt": current.exchange_before_receipt,
    }
    form = PolicyForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            account, _, service = (data["label_account"] or "").partition("/")
            with refusal_shown(form=form) as refused:
                services.return_policy_update(
                    tenant_id=actor.tenant_id,
                    changes=services.PolicyInput(
                        window_days=data["window_days"],
                        restocking_fee_percent=data["restocking_fee_percent"],
                        return_shipping_fee=data["return_shipping_fee"],
                        free_exchanges=data["free_exchanges"],
                        resolutions=data["resolutions"],
                        non_returnable_skus=_lines(data["non_returnable_skus"]),
                        reasons=_lines(data["reasons"]),
                        label_account=account,
                        label_service=service,
                        exchange_before_receipt=data["exchange_before_receipt"],
                    ),
                    actor=actor.label,
                )
            if not refused:
                messages.success(request, "Return policy saved: new returns follow it.")
                return redirect("returns:portal-policy")
        status = 422
    return render(request, "returns/portal/policy.html", {"form": form, "current": current}, status=status)


# -- the list --------------------------------------------------------------------------------

PAGE_SIZE = 50
# The chart of return reasons by SKU (an inline SVG, sized here as shipping's late chart is): the
# SKU on its own line above its bar, so that the chart stays legible at a phone's width.
CHART_WIDTH = 360
CHART_BAR_W = 330
CHART_ROW_H = 38
CHART_BAR_H = 16
# One colour per reason, the reasons with the most units first; the rest share the last one.
REASON_COLOURS = ["#1f5fbf", "#d98a00", "#b3261e", "#2e7d32", "#6a3fb5", "#00838f", "#8d6e63", "#78909c"]
OTHER_REASONS = "Other reasons"


class ReturnFilterForm(forms.Form):
    status = forms.MultipleChoiceField(
        choices=ReturnStatus.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    q = forms.CharField(required=False, max_length=100, label="Search", strip=True)


def reasons_chart(per_sku: list[selectors.SkuReasons]) -> dict:
    """Stacked bars, one per SKU, a segment per reason, on one scale: the sizes an SVG needs."""
    totals: dict[str, int] = {}
    for row in per_sku:
        for reason, units in row.reasons:
            totals[reason] = totals.get(reason, 0) + units
    ranked = sorted(totals, key=lambda r: (-totals[r], r))
    named = ranked[: len(REASON_COLOURS) - 1] if len(ranked) > len(REASON_COLOURS) else ranked
    colour = {reason: REASON_COLOURS[i] for i, reason in enumerate(named)}
    legend = [{"reason": reason, "colour": colour[reason], "units": totals[reason]} for reason in named]
    if len(named) < len(ranked):
        rest = sum(totals[r] for r in ranked[len(named) :])
        legend.append({"reason": OTHER_REASONS, "colour": REASON_COLOURS[-1], "units": rest})
    top = max([1, *(row.units for row in per_sku)])
    bars = []
    for i, row in enumerate(per_sku):
        y = 4 + i * CHART_ROW_H
        x = 0.0
        segments = []
        merged: dict[str, int] = {}
        for reason, units in row.reasons:
            key = reason if reason in colour else OTHER_REASONS
            merged[key] = merged.get(key, 0) + units
        for reason, units in merged.items():
            width = round(units / top * CHART_BAR_W, 1)
            segments.append(
                {
                    "reason": reason,
                    "units": units,
                    "x": round(x, 1),
                    "width": width,
                    "colour": colour.get(reason, REASON_COLOURS[-1]),
                }
            )
            x += width
        bars.append(
            {
                "sku": row.sku,
                "units": row.units,
                "label_y": y + 12,
                "bar_y": y + 16,
                "count_y": y + 16 + CHART_BAR_H - 3,
                "segments": segments,
                "count_x": round(x + 4, 1),
            }
        )
    return {
        "bars": bars,
        "legend": legend,
        "width": CHART_WIDTH,
        "height": max(len(bars), 1) * CHART_ROW_H + 4,
        "bar_h": CHART_BAR_H,
        "scale_top": top,
        "days": selectors.CHART_DAYS,
    }


def _query_without(request, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@require_GET
@merchant_required
def return_list(request, *, actor):
    form = ReturnFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    returns = selectors.returns_for_portal(actor=actor, statuses=data.get("status") or (), q=data.get("q", ""))
    page = Paginator(returns, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.return_status_counts(actor=actor)
    context = {
        "form": form,
        "page": page,
        "query": _query_without(request, "page"),
        "filtered": bool(data and any(data.values())),
        "chart": reasons_chart(selectors.return_reasons_by_sku(actor=actor)),
        "counts": [(status, label, counts[status]) for status, label in ReturnStatus.choices],
        "total": sum(counts.values()),
    }
    return render(request, "returns/portal/list.html", context)


# -- one return ------------------------------------------------------------------------------


class CloseForm(forms.Form):
    note = forms.CharField(label="Why (kept with the return)", required=False, max_length=300)


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount to refund",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="Leave empty to refund the amount due; a lower amount is allowed.",
    )
    note = forms.CharField(label="Note (kept with the refund)", required=False, max_length=300)


def _steps(rma) -> list[dict]:
    """The RMA's statuses along its path, each done, current, skipped or to come, with when it
    happened. The path ends in its outcome (refunded or exchanged) or, for a closed return, in
    closed: the two are alternatives. A step passed by without happening (no label, no pickup
    scan, closed before the parcel came) is skipped, not done."""
    # A missing reverse one-to-one raises RelatedObjectDoesNotExist, an AttributeError.
    label = getattr(rma, "label", None)
    refund = getattr(rma, "refund", None)
    outcome = ReturnStatus.EXCHANGED if rma.resolution == Resolution.EXCHANGE else ReturnStatus.REFUNDED
    path_ = [
        (ReturnStatus.REQUESTED, rma.created_at),
        (ReturnStatus.LABEL_ISSUED, label.created_at if label else None),
        (ReturnStatus.IN_TRANSIT, label.tracking_at if label and label.status != LabelStatus.ISSUED else None),
        (ReturnStatus.RECEIVED, rma.received_at),
        (ReturnStatus.INSPECTED, rma.inspected_at),
        (ReturnStatus.CLOSED, rma.closed_at)
        if rma.status == ReturnStatus.CLOSED
        else (
            outcome,
            (refund.refunded_at if refund else None)
            if outcome == ReturnStatus.REFUNDED
            else (rma.exchange_order.created_at if rma.exchange_order_id else None),
        ),
    ]
    statuses = [status for status, _ in path_]
    current = statuses.index(rma.status) if rma.status in statuses else None
    labels = dict(ReturnStatus.choices)
    steps = []
    for index, (status, at) in enumerate(path_):
        if current is not None and index == current:
            state = "current"
        elif current is not None and index < current:
            state = "done" if at is not None else "skipped"
        else:
            state = "todo"
        why = "no label" if label is None and status in {ReturnStatus.LABEL_ISSUED, ReturnStatus.IN_TRANSIT} else ""
        steps.append({"status": status, "label": labels[status], "at": at, "state": state, "why": why})
    return steps


def _breakdown(breakdown) -> dict:
    """The refund's breakdown as the card shows it: scalars as rows, lists of dicts as tables."""
    rows, tables = [], []
    for key, value in (breakdown or {}).items() if isinstance(breakdown, dict) else ():
        if value in ("", None, []) or key == "amount_due":  # the card shows the amount due itself
            continue
        title = str(key).replace("_", " ").capitalize()
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            columns = list(dict.fromkeys(column for item in value for column in item))
            tables.append(
                {
                    "title": title,
                    "columns": [str(c).replace("_", " ") for c in columns],
                    "rows": [[item.get(c, "") for c in columns] for item in value],
                }
            )
        else:
            rows.append((title, value))
    return {"rows": rows, "tables": tables}


def _detail(request, *, rma, refund_form=None, close_form=None, status: int = 200):
    refund = getattr(rma, "refund", None)
    label = getattr(rma, "label", None)
    # The form only where the service would take it: a pending refund of an inspected return.
    can_refund = refund is not None and refund.status == RefundStatus.PENDING and rma.status == ReturnStatus.INSPECTED
    lines = list(rma.lines.all())
    context = {
        "rma": rma,
        "lines": lines,
        "receipts": [(line, receipt) for line in lines for receipt in line.receipts.all()],
        "photos": [(line, photo) for line in lines for photo in line.photos.all()],
        "steps": _steps(rma),
        "history": selectors.return_history(rma=rma),
        "label": label,
        # Buying: a new RMA without a label, on a policy that buys them.
        "can_buy_label": label is None
        and rma.status == ReturnStatus.REQUESTED
        and buys_labels(return_policy(tenant_id=rma.tenant_id)),
        "refund": refund,
        "breakdown": _breakdown(refund.breakdown) if refund else None,
        "refund_form": (refund_form or RefundForm()) if can_refund else None,
        # A refused confirmation's reason, shown on the card also when the form no longer is.
        "refund_errors": list(refund_form.non_field_errors()) if refund_form is not None and not can_refund else [],
        # Closing: where return_close takes it (nothing refunded, exchanged or closed yet).
        "close_form": (close_form or CloseForm()) if rma.status in CLOSABLE else None,
        "close_errors": list(close_form.non_field_errors())
        if close_form is not None and rma.status not in CLOSABLE
        else [],
    }
    return render(request, "returns/portal/detail.html", context, status=status)


def _return_or_404(actor, return_id):
    rma = selectors.return_for_portal(actor=actor, return_id=return_id)
    if rma is None:
        raise Http404("No such return.")
    return rma


@require_GET
@merchant_required
def return_detail(request, return_id, *, actor):
    return _detail(request, rma=_return_or_404(actor, return_id))


@require_POST
@merchant_required
def return_refund(request, return_id, *, actor):
    """Confirm the refund the policy computed, or a lower amount: the refunds service decides."""
    rma = _return_or_404(actor, return_id)
    form = RefundForm(request.POST)
    status = 422
    if form.is_valid():
        with refusal_shown(form=form) as refused:
            services.return_refund(
                return_id=rma.pk,
                tenant_id=actor.tenant_id,
                amount=form.cleaned_data["amount"],
                method=None,
                note=form.cleaned_data["note"],
                actor=actor.label,
            )
        if not refused:
            messages.success(request, f"Refund of {rma.number} confirmed.")
            return redirect("returns:portal-return", return_id=rma.pk)
        status = refused.refusal.status  # 409 when the return is not (or no longer) refundable
    return _detail(request, rma=_return_or_404(actor, return_id), refund_form=form, status=status)


@require_GET
@merchant_required
def return_photo(request, return_id, photo_id, *, actor):
    photo = (
        ReturnPhoto.objects.visible_to(actor)
        .filter(rma_id=return_id, pk=photo_id)
        .values_list("content", "content_type")
        .first()
    )
    if photo is None:
        raise Http404("No such photo.")
    content, content_type = photo
    return photo_response(content, content_type, photo_id=photo_id)


@require_GET
@merchant_required
def return_label_pdf(request, return_id, *, actor):
    rma = _return_or_404(actor, return_id)
    content = services.return_label_document(rma=rma)  # none, voided or not a PDF: no label
    if content is None:
        raise Http404("No PDF label for this return.")
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{rma.number}-label.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# -- a new return ----------------------------------------------------------------------------

EXCHANGE_ROWS = 3
_LINE_ERROR = re.compile(r"lines\[(\d+)\]\.(\w+)")
_EXCHANGE_ERROR = re.compile(r"exchange_lines\[(\d+)\]\.(\w+)")


class OrderSearchForm(forms.Form):
    q = forms.CharField(label="Order number", max_length=100, strip=True)


class NewReturnForm(forms.Form):
    """Per returnable line ``qty_<line id>`` and ``reason_<line id>``, the resolution, and
    ``EXCHANGE_ROWS`` rows of ``exchange_sku_<n>`` / ``exchange_qty_<n>``. The form only reads
    numbers and choices; every rule (returnable units, the policy) is return_create's."""

    def __init__(self, *args, lines, policy, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = [row for row in lines if row.returnable > 0]
        reasons = [("", "Choose a reason")] + [(r, r) for r in policy.reasons or []]
        for row in self.lines:
            pk = row.line.pk
            self.fields[f"qty_{pk}"] = forms.IntegerField(
                label=f"Units of {row.line.sku}",
                required=False,
                min_value=0,
                widget=forms.NumberInput(
                    attrs={"min": 0, "max": row.returnable, "inputmode": "numeric", "placeholder": "Units"}
                ),
            )
            if policy.reasons:
                self.fields[f"reason_{pk}"] = forms.ChoiceField(
                    label=f"Reason for {row.line.sku}", required=False, choices=reasons
                )
            else:
                self.fields[f"reason_{pk}"] = forms.CharField(
                    label=f"Reason for {row.line.sku}", required=False, max_length=200
                )
        offered = dict(Resolution.choices)
        self.fields["resolution"] = forms.ChoiceField(
            label="Resolution",
            choices=[(r, offered.get(r, r)) for r in policy.resolutions or []],
            widget=forms.RadioSelect,
            initial=(policy.resolutions or [None])[0],
        )
        if buys_labels(policy):
            self.fields["label"] = forms.BooleanField(
                label=f"Buy the prepaid return label ({policy.label_account.display_name})",
                required=False,
                initial=True,
            )
        self.fields["notify_shopper"] = forms.BooleanField(
            label="E-mail the shopper the RMA and what to do", required=False, initial=True
        )
        for n in range(EXCHANGE_ROWS):
            self.fields[f"exchange_sku_{n}"] = forms.CharField(label="SKU wanted", required=False, max_length=64)
            self.fields[f"exchange_qty_{n}"] = forms.IntegerField(
                label="Units", required=False, min_value=1, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
            )

    def line_rows(self):
        return [(row, self[f"qty_{row.line.pk}"], self[f"reason_{row.line.pk}"]) for row in self.lines]

    def exchange_rows(self):
        return [(self[f"exchange_sku_{n}"], self[f"exchange_qty_{n}"]) for n in range(EXCHANGE_ROWS)]

    def request(self) -> tuple[list[dict], list[int], list[dict], list[int]]:
        """(lines, their line ids, exchange lines, their row numbers) for return_create."""
        data = self.cleaned_data
        lines, line_ids = [], []
        for row in self.lines:
            quantity = data.get(f"qty_{row.line.pk}")
            if quantity:
                lines.append(
                    {"sku": row.line.sku, "quantity": quantity, "reason": data.get(f"reason_{row.line.pk}", "")}
                )
                line_ids.append(row.line.pk)
        exchange, rows = [], []
        for n in range(EXCHANGE_ROWS):
            sku, quantity = data.get(f"exchange_sku_{n}", ""), data.get(f"exchange_qty_{n}")
            if sku or quantity:
                exchange.append({"sku": sku, "quantity": quantity})
                rows.append(n)
        return lines, line_ids, exchange, rows

    def show(self, refusal, *, line_ids: list[int], exchange_rows: list[int]) -> None:
        """The service's errors on the fields they name (lines[1].quantity is that line's units)."""
        for field, message in refusal.field_messages():
            name = None
            if match := _LINE_ERROR.fullmatch(field or ""):
                index, part = int(match[1]), match[2]
                if index < len(line_ids):
                    name = f"{'reason' if part == 'reason' else 'qty'}_{line_ids[index]}"
            elif match := _EXCHANGE_ERROR.fullmatch(field or ""):
                index, part = int(match[1]), match[2]
                if index < len(exchange_rows):
                    name = f"exchange_{'sku' if part == 'sku' else 'qty'}_{exchange_rows[index]}"
            elif field == "exchange_lines":
                name = f"exchange_sku_{exchange_rows[0] if exchange_rows else 0}"
            elif field == "resolution":
                name = "resolution"
            self.add_error(name, message)


@require_http_methods(["GET", "POST"])
@merchant_required
def return_new(request, *, actor):
    order_id = request.GET.get("order")
    if not order_id:
        search = OrderSearchForm(request.GET or None)
        orders = selectors.returnable_orders(actor=actor, q=search.cleaned_data["q"]) if search.is_valid() else []
        return render(
            request, "returns/portal/new.html", {"search": search, "orders": orders, "searched": search.is_bound}
        )
    try:
        order = selectors.returnable_order(actor=actor, order_id=order_id)
    except (ValueError, DjangoValidationError):  # not a UUID: no such order either
        order = None
    if order is None:
        raise Http404("No such order.")
    context = {"order": order, "returnable": order.status in RETURNABLE}
    if not context["returnable"]:
        return render(request, "returns/portal/new.html", context, status=409)
    policy_ = return_policy(tenant_id=actor.tenant_id)
    lines = selectors.returnable_lines(order=order)
    form = NewReturnForm(request.POST or None, lines=lines, policy=policy_)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            wanted, line_ids, exchange, exchange_rows = form.request()
            with refusal_shown() as refused:
                opened = services.return_open(
                    tenant_id=actor.tenant_id,
                    order_id=order.pk,
                    lines=wanted,
                    actor=actor.label,
                    resolution=form.cleaned_data["resolution"],
                    exchange_lines=exchange,
                    source="portal",
                    label=bool(form.cleaned_data.get("label")),
                    notify_shopper=form.cleaned_data["notify_shopper"],
                )
            if not refused:
                rma = opened.rma
                messages.success(request, f"Return {rma.number} opened.")
                if opened.label is not None:
                    messages.success(request, f"Return label bought: {opened.label.tracking_number}.")
                elif opened.label_error:
                    messages.error(request, f"{opened.label_error} You can ask again from the return's page.")
                return redirect("returns:portal-return", return_id=rma.pk)
            form.show(refused.refusal, line_ids=line_ids, exchange_rows=exchange_rows)
        status = 422
    context.update(
        {
            "form": form,
            "lines": lines,
            "policy": policy_,
            "action": f"{reverse('returns:portal-return-new')}?order={order.pk}",
        }
    )
    return render(request, "returns/portal/new.html", context, status=status)


@require_POST
@merchant_required
def return_label_buy(request, return_id, *, actor):
    """Buy the return's prepaid label (again, after the carrier refused it)."""
    rma = _return_or_404(actor, return_id)
    with refusal_shown(request) as refused:
        label = services.return_label_buy(return_id=rma.pk, actor=actor.label)
    if not refused:
        messages.success(request, f"Return label bought: {label.tracking_number}.")
    return redirect("returns:portal-return", return_id=rma.pk)


@require_POST
@merchant_required
def return_close(request, return_id, *, actor):
    """Close a return that will not be resolved: the service decides what that undoes."""
    rma = _return_or_404(actor, return_id)
    form = CloseForm(request.POST)
    status = 422
    if form.is_valid():
        with refusal_shown(form=form) as refused:
            services.return_close(
                return_id=rma.pk, tenant_id=actor.tenant_id, note=form.cleaned_data["note"], actor=actor.label
            )
        if not refused:
            messages.success(request, f"Return {rma.number} closed.")
            return redirect("returns:portal-return", return_id=rma.pk)
        status = refused.refusal.status
    return _detail(request, rma=_return_or_404(actor, return_id), close_form=form, status=status)


urlpatterns = [
    path("portal/returns/policy/", policy, name="portal-policy"),
    path("portal/returns/", return_list, name="portal-returns"),
    path("portal/returns/new/", return_new, name="portal-return-new"),
    path("portal/returns/<uuid:return_id>/", return_detail, name="portal-return"),
    path("portal/returns/<uuid:return_id>/refund/", return_refund, name="portal-return-refund"),
    path("portal/returns/<uuid:return_id>/close/", return_close, name="portal-return-close"),
    path("portal/returns/<uuid:return_id>/label/", return_label_buy, name="portal-return-label-buy"),
    path("portal/returns/<uuid:return_id>/label.pdf", return_label_pdf, name="portal-return-label"),
    path("portal/returns/<uuid:return_id>/photos/<int:photo_id>/", return_photo, name="portal-return-photo"),
]
