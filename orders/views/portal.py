"""Merchant portal: the tenant's orders (filters, CSV export) and an order's detail page.

Every query starts from ``Order.objects.visible_to(actor)`` with the signed-in merchant's actor,
so another tenant's order is a 404 exactly like a missing one.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from fulfillment.api.csv import csv_response
from fulfillment.tenancy.portal import merchant_required
from orders import selectors
from orders.models import HoldReason, Order, Status

PAGE_SIZE = 50
CSV_HEADER = [
    "number",
    "external_id",
    "status",
    "hold_reasons",
    "shipping_method",
    "ship_to_name",
    "ship_to_country",
    "ship_by",
    "promised_delivery_date",
    "created_at",
]
HOLD_LABELS = {
    HoldReason.PAYMENT_PENDING: "payment pending",
    HoldReason.PAYMENT_FAILED: "payment failed",
    HoldReason.ADDRESS_INVALID: "address invalid",
    HoldReason.MANUAL: "manual hold",
}


class OrderFilterForm(forms.Form):
    status = forms.MultipleChoiceField(choices=Status.choices, required=False, widget=forms.CheckboxSelectMultiple)
    created_from = forms.DateField(required=False, label="Created from", widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(required=False, label="Created to", widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(required=False, max_length=100, label="Search", strip=True)

    def clean(self):
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", "Must be on or after the start date.")
        return data


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _filtered(actor, form: OrderFilterForm):
    """The actor's orders narrowed by the valid filters (an invalid filter is reported, not applied)."""
    qs = Order.objects.visible_to(actor)
    data = form.cleaned_data if form.is_bound else {}
    if data.get("status"):
        qs = qs.filter(status__in=data["status"])
    if data.get("created_from"):
        qs = qs.filter(created_at__gte=_day_start(data["created_from"]))
    if data.get("created_to"):
        # The whole "to" day is included: before the start of the next day.
        qs = qs.filter(created_at__lt=_day_start(data["created_to"] + timedelta(days=1)))
    if data.get("q"):
        term = data["q"]
        qs = qs.filter(Q(external_id__icontains=term) | Q(number__icontains=term) | Q(ship_to__name__icontains=term))
    return qs.order_by("-created_at", "-id")


def _query_without(request, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@require_GET
@merchant_required
def order_list(request, *, actor):
    form = OrderFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()  # fills cleaned_data with the valid fields and errors for the rest
    orders = _filtered(actor, form)
    if request.GET.get("export") == "csv":
        if form.is_bound and form.errors:
            return HttpResponse(
                "Fix the filters before exporting: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        return _csv(orders)
    page = Paginator(orders.only(*_LIST_FIELDS), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "hold_labels": HOLD_LABELS,
        "query": _query_without(request, "page", "export"),
        "filtered": bool(form.is_bound and any(form.cleaned_data.values())),
    }
    return render(request, "orders/portal/list.html", context)


_LIST_FIELDS = (
    "id",
    "number",
    "external_id",
    "status",
    "hold_reasons",
    "ship_by",
    "promised_delivery_date",
    "created_at",
)


def _csv(orders) -> HttpResponse:
    rows = orders.values_list(
        "number",
        "external_id",
        "status",
        "hold_reasons",
        "shipping_method",
        "ship_to",
        "ship_by",
        "promised_delivery_date",
        "created_at",
    )

    def cells():
        for number, external_id, status, holds, method, ship_to, ship_by, promised, created in rows.iterator(
            chunk_size=2000
        ):
            ship_to = ship_to if isinstance(ship_to, dict) else {}
            yield [
                number,
                external_id,
                status,
                ";".join(holds or []),
                method,
                ship_to.get("name", ""),
                ship_to.get("country", ""),
                ship_by.isoformat() if ship_by else "",
                promised.isoformat() if promised else "",
                created.isoformat(),
            ]

    # Names and ids come from merchants and shoppers: csv_response neutralises = + - @ cells.
    return csv_response(filename=f"orders-{timezone.localdate().isoformat()}.csv", header=CSV_HEADER, rows=cells())


def _shipment_tracking(request, shipment) -> dict:
    """A shipment with its tracking as the merchant sees it: the status in words ("pending" once
    labelled and not scanned yet, None before the label), delayed, the shopper's tracking page and
    the scans newest first. Read from what order_for_portal prefetched: no query here."""
    try:
        state = shipment.tracking_state
    except ObjectDoesNotExist:
        state = None
    if state is not None:
        status, status_label = state.status, state.get_status_display()
    elif shipment.label_purchased_at is not None:
        status, status_label = "pending", "Pending"
    else:
        status, status_label = None, None
    return {
        "shipment": shipment,
        "tracking_status": status,
        "tracking_status_label": status_label,
        "reason": state.reason if state is not None else "",
        "delayed": state is not None and state.delayed_at is not None,
        "tracking_url": request.build_absolute_uri(reverse("public-tracking", kwargs={"token": shipment.public_token})),
        "events": list(reversed(shipment.tracking_events.all())),
    }


@require_GET
@merchant_required
def order_detail(request, order_id, *, actor):
    order = selectors.order_for_portal(actor=actor, order_id=order_id)
    if order is None:
        raise Http404("No such order.")
    shipments = [_shipment_tracking(request, s) for s in order.shipments.all()]
    context = {
        "order": order,
        "lines": order.lines.all(),
        "events": order.events.all(),
        "shipments": shipments,
        "hold_labels": [HOLD_LABELS.get(h, h) for h in order.hold_reasons],
        "address_invalid": HoldReason.ADDRESS_INVALID in order.hold_reasons,
        "splits": order.splits.all(),
        "ship_to_rows": [
            (label, order.ship_to.get(key, ""))
            for key, label in (
                ("name", "Name"),
                ("company", "Company"),
                ("line1", "Address"),
                ("line2", ""),
                ("city", "City"),
                ("region", "Region"),
                ("postal_code", "Postal code"),
                ("country", "Country"),
                ("phone", "Phone"),
                ("email", "E-mail"),
            )
            if order.ship_to.get(key)
        ],
    }
    return render(request, "orders/portal/detail.html", context)


urlpatterns = [
    path("portal/", order_list, name="portal-orders"),
    path("portal/orders/<uuid:order_id>/", order_detail, name="portal-order"),
]
