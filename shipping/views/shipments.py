"""``/shipping/``: the shipments of the user's warehouses (filters, pages, re-print and void per row),
and ``/shipping/shipments/<id>/``: one shipment with its quotes, the choice and why, every purchase
attempt, its packages and tracking numbers, and the buttons to void, shop again and buy a quote."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from fulfillment.errors import refusal_shown, sentence
from fulfillment.tenancy.portal import staff_actor
from inventory.selectors import warehouses_for
from packing.models import ShipmentStatus
from shipping import selectors, services
from shipping.models import CarrierAccount, TrackingStatus
from shipping.views.common import IN_WORDS, next_url, shipment_url

PAGE_SIZE = 50
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


class ShipmentFilterForm(forms.Form):
    warehouse = forms.ChoiceField(required=False)
    carrier = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *ShipmentStatus.choices])
    date_from = forms.DateField(
        required=False, label="From", input_formats=["%Y-%m-%d"], widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", input_formats=["%Y-%m-%d"], widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data=None, *, warehouse_codes: list[str], carriers: list[tuple[str, str]]):
        super().__init__(data)
        self.fields["warehouse"].choices = [("", "All my warehouses"), *((c, c) for c in warehouse_codes)]
        self.fields["carrier"].choices = [("", "Any carrier"), *carriers]

    def clean(self):
        data = super().clean()
        for name in ("date_from", "date_to"):
            day = data.get(name)
            if day and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(name, f"Choose a day from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}.")
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "The last day comes before the first.")
        return data

    def filters(self) -> selectors.ShipmentFilters:
        data = self.cleaned_data
        return selectors.ShipmentFilters(
            warehouse_code=data["warehouse"],
            carrier=data["carrier"],
            status=data["status"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )


def voidable(shipment) -> bool:
    """Whether the page offers Void: a label the carrier has not scanned and no manifest holds."""
    return shipment.has_label and shipment.status == ShipmentStatus.LABEL_PURCHASED and not shipment.manifest_id


def needs_label(shipment) -> bool:
    return shipment.status == ShipmentStatus.PACKED and not shipment.has_label


@require_GET
@login_required
def shipment_list(request):
    actor = staff_actor(request)
    params = request.GET.copy()
    if "warehouse" in params:  # codes are stored upper-case; accept what a person types in the URL
        params["warehouse"] = params["warehouse"].strip().upper()
    carriers = list(CarrierAccount.objects.order_by("carrier_id").values_list("carrier_id", "display_name"))
    form = ShipmentFilterForm(
        params,
        warehouse_codes=list(warehouses_for(actor).values_list("code", flat=True)),
        carriers=[(code, f"{code} · {name}") for code, name in carriers],
    )
    status = 200
    if form.is_valid():
        shipments = selectors.shipment_list(actor=actor, filters=form.filters())
    else:
        shipments, status = selectors.shipment_list(actor=actor, filters=selectors.ShipmentFilters()).none(), 400
    page = Paginator(shipments, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    rows = [
        {
            "shipment": s,
            "tracking_numbers": [p.tracking_number for p in s.packages.all() if p.tracking_number]
            or ([s.tracking_number] if s.tracking_number else []),
            "voidable": voidable(s),
            "needs_label": needs_label(s),
        }
        for s in page.object_list
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "next": request.get_full_path(),
        "is_manager": actor.is_manager,
    }
    return render(request, "shipping/shipments.html", context, status=status)


def _shipment_or_404(actor, shipment_id):
    shipment = selectors.shipment_for_page(actor=actor, shipment_id=shipment_id)
    if shipment is None:
        raise Http404("No such shipment.")
    return shipment


@require_GET
@login_required
def shipment_detail(request, shipment_id):
    actor = staff_actor(request)
    shipment = _shipment_or_404(actor, shipment_id)
    history = selectors.shipment_history(shipment=shipment)
    shipment.manifest_id = history.manifest.pk if history.manifest else None
    context = {
        "shipment": shipment,
        "history": history,
        "quotes": history.quotes,
        "exception_words": IN_WORDS.get(history.open_exception.code, "") if history.open_exception else "",
        "packages": list(shipment.packages.all()),
        "voidable": voidable(shipment),
        "needs_label": needs_label(shipment),
        "next": request.get_full_path(),
        "is_manager": actor.is_manager,
        "scan_form": ScanForm(),
    }
    return render(request, "shipping/shipment.html", context)


@require_POST
@login_required
def shipment_quotes(request, shipment_id):
    """Shop again: fresh quotes from every active account, stored as the shipment's latest rate shop."""
    actor = staff_actor(request)
    shipment = _shipment_or_404(actor, shipment_id)
    with refusal_shown(request, prefix=f"Order {shipment.order.number}: "):
        result = services.shipment_rates(shipment_id=shipment.pk)
        messages.success(
            request,
            f"{len(result.quotes)} quote{'' if len(result.quotes) == 1 else 's'} for order {shipment.order.number}. "
            + sentence(result.reason),
        )
    return redirect(f"{shipment_url(shipment.pk)}#quotes")


class BuyForm(forms.Form):
    carrier_account = forms.UUIDField(required=False)
    service = forms.CharField(required=False, max_length=60, strip=True)


@require_POST
@login_required
def shipment_buy(request, shipment_id):
    """Buy the label of the quote named (carrier account and service), or the rate shop's choice."""
    actor = staff_actor(request)
    shipment = _shipment_or_404(actor, shipment_id)
    form = BuyForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Order {shipment.order.number}: choose a quote to buy.")
        return redirect(f"{shipment_url(shipment.pk)}#quotes")
    with refusal_shown(request, prefix=f"Order {shipment.order.number}: "):
        services.shipment_purchase_label(
            shipment_id=shipment.pk,
            carrier_account=form.cleaned_data["carrier_account"],
            service=form.cleaned_data["service"],
            actor=actor.label,
            refuse=True,
        )
        shipment.refresh_from_db()
        charge = f"{shipment.rate_amount} {shipment.rate_currency}" if shipment.rate_amount is not None else ""
        messages.success(
            request,
            f"Label bought for order {shipment.order.number}: {shipment.carrier_code} {shipment.service_code}"
            f"{', ' + charge if charge else ''}, tracking {shipment.tracking_number}.",
        )
    return redirect(shipment_url(shipment.pk))


class ScanForm(forms.Form):
    """A scan entered by a person (the parcel seen at the dock, the driver's call): karrio's status,
    what happened, where, and when (the warehouse's local time; now when left empty)."""

    status = forms.ChoiceField(
        choices=[(v, label) for v, label in TrackingStatus.choices if v not in {"pending", "unknown"}]
    )
    description = forms.CharField(required=False, max_length=200, strip=True)
    location = forms.CharField(required=False, max_length=100, strip=True)
    occurred_at = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


@require_POST
@login_required
def shipment_scan(request, shipment_id):
    """Record a manual scan; it is normalised, stored and told as a carrier's would be."""
    actor = staff_actor(request)
    shipment = _shipment_or_404(actor, shipment_id)
    form = ScanForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
        messages.error(request, f"Order {shipment.order.number}: the scan was not recorded ({problems}).")
        return redirect(f"{shipment_url(shipment.pk)}#tracking-events")
    data = form.cleaned_data
    when = data["occurred_at"]
    if when is not None:
        when = when.replace(tzinfo=None).replace(tzinfo=ZoneInfo(shipment.warehouse.timezone))
    with refusal_shown(request, prefix=f"Order {shipment.order.number}: "):
        added = services.shipment_tracking_event_add(
            shipment_id=shipment.pk,
            code=data["status"],
            description=data["description"],
            location=data["location"],
            occurred_at=when or timezone.now(),
            source="manual",
        )
        words = dict(TrackingStatus.choices)[data["status"]].lower()
        if added:
            messages.success(request, f"Scan recorded for order {shipment.order.number}: {words}.")
        else:
            messages.info(request, f"Order {shipment.order.number} already has this scan; nothing changed.")
    return redirect(f"{shipment_url(shipment.pk)}#tracking-events")


@require_POST
@login_required
def shipment_void(request, shipment_id):
    """Void the label with the carrier; the order is packed again and may be bought anew."""
    actor = staff_actor(request)
    shipment = _shipment_or_404(actor, shipment_id)
    back = next_url(request, shipment_url(shipment.pk))
    with refusal_shown(request, prefix=f"Order {shipment.order.number}: "):
        tracking = shipment.tracking_number
        services.shipment_void_label(shipment_id=shipment.pk, actor=actor.label)
        messages.success(
            request, f"Label {tracking} of order {shipment.order.number} voided; the order is packed again."
        )
    return redirect(back)


urlpatterns = [
    path("shipping/", shipment_list, name="shipments"),
    path("shipping/shipments/<uuid:shipment_id>/", shipment_detail, name="shipment"),
    path("shipping/shipments/<uuid:shipment_id>/quotes/", shipment_quotes, name="shipment-quotes"),
    path("shipping/shipments/<uuid:shipment_id>/buy/", shipment_buy, name="shipment-buy"),
    path("shipping/shipments/<uuid:shipment_id>/void/", shipment_void, name="shipment-void"),
    path("shipping/shipments/<uuid:shipment_id>/scans/", shipment_scan, name="shipment-scan"),
]
