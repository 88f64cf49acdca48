"""``/shipping/late/``: the shipments of the user's warehouses that are late (flagged delayed by
tracking, or past their promised day) and those at risk of it, with why, the newest scan, and a
chart of both per carrier; filters by warehouse, carrier and merchant."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from fulfillment.tenancy.models import Tenant
from fulfillment.tenancy.portal import staff_actor
from inventory.selectors import warehouses_for
from packing.models import Shipment
from shipping import selectors_tracking as selectors
from shipping.models import CarrierAccount, TrackingStatus

PAGE_SIZE = 50

# The carrier's status in the words a manager acts on.
TRACKING_WORDS = {
    TrackingStatus.PENDING: "Label made, not scanned yet",
    TrackingStatus.PICKED_UP: "Picked up",
    TrackingStatus.IN_TRANSIT: "In transit",
    TrackingStatus.OUT_FOR_DELIVERY: "Out for delivery",
    TrackingStatus.DELIVERED: "Delivered",
    TrackingStatus.ON_HOLD: "Held by the carrier",
    TrackingStatus.DELIVERY_DELAYED: "Delayed by the carrier",
    TrackingStatus.DELIVERY_FAILED: "Delivery attempt failed",
    TrackingStatus.READY_FOR_PICKUP: "Waiting at a pickup point",
    TrackingStatus.RETURN_TO_SENDER: "Coming back to us",
    TrackingStatus.CANCELLED: "Cancelled by the carrier",
    TrackingStatus.UNKNOWN: "The carrier does not know it",
}
NO_SCAN = "No scan yet"

# Chart geometry (viewBox units): a carrier's name, then its late bar over its at-risk bar.
CHART_WIDTH, CHART_LABEL_W, CHART_BAR_W, CHART_BAR_H, CHART_ROW_H = 340, 92, 210, 11, 32


class LateFilterForm(forms.Form):
    warehouse = forms.ChoiceField(required=False)
    carrier = forms.ChoiceField(required=False)
    merchant = forms.ChoiceField(required=False)

    def __init__(self, data, *, warehouse_codes: list[str], carriers: list[tuple[str, str]], merchants):
        super().__init__(data)
        self.fields["warehouse"].choices = [("", "All my warehouses"), *((c, c) for c in warehouse_codes)]
        self.fields["carrier"].choices = [("", "Any carrier"), *carriers]
        self.fields["merchant"].choices = [("", "Any merchant"), *merchants]

    def filters(self, tenant_ids: dict) -> selectors.LateFilters:
        data = self.cleaned_data
        return selectors.LateFilters(
            warehouse_code=data["warehouse"], carrier=data["carrier"], tenant_id=tenant_ids.get(data["merchant"])
        )


@dataclass(frozen=True)
class Row:
    shipment: object
    status: str
    status_words: str
    why: str
    days_late: int
    expected_late: int  # days the estimate is after the promise (0 when it keeps it or there is none)
    newest: str


def _row(shipment, *, today, late: bool) -> Row:
    state = getattr(shipment, "tracking_state", None)
    status = state.status if state is not None else ""
    promised = shipment.order.promised_delivery_date
    estimate = shipment.estimated_delivery_date
    days_late = max(0, (today - promised).days) if today else 0
    expected_late = max(0, (estimate - promised).days) if estimate else 0
    if late:
        if state is not None and state.delayed_at is not None:
            flagged = timezone.localtime(state.delayed_at, ZoneInfo(shipment.warehouse.timezone))
            why = f"Flagged late {flagged:%b} {flagged.day}"
        else:
            why = "Promised day has passed"
    elif status in selectors.NEEDS_ATTENTION:
        why = ""  # the status says it
    elif estimate is not None and estimate == promised:
        why = "Expected on the promised day itself"
    else:
        why = "Promised tomorrow, not out for delivery"
    reason = state.reason if state is not None else ""
    description = shipment.newest_description or ""
    if description and description in reason:  # the incident is told in the scan's own words
        description = ""
    scan = " · ".join(p for p in (description, shipment.newest_location) if p)
    return Row(
        shipment=shipment,
        status=status,
        status_words=TRACKING_WORDS.get(status, NO_SCAN) if status else NO_SCAN,
        why=why,
        days_late=days_late,
        expected_late=expected_late,
        newest=" · ".join(p for p in (reason, scan) if p),
    )


def chart(per_carrier: list[selectors.CarrierLateness]) -> dict:
    """Two bars per carrier (late, at risk) on one scale: the sizes an SVG needs."""
    top = max([1, *(max(c.late, c.at_risk) for c in per_carrier)])
    bars = []
    for i, c in enumerate(per_carrier):
        y = 6 + i * CHART_ROW_H
        bars.append(
            {
                "carrier": c.carrier or "(none)",
                "late": c.late,
                "at_risk": c.at_risk,
                "y": y,
                "label_y": y + CHART_BAR_H + 4,
                "late_w": round(c.late / top * CHART_BAR_W, 1),
                "late_text_y": y + CHART_BAR_H - 2,
                "late_x": CHART_LABEL_W + round(c.late / top * CHART_BAR_W, 1) + 4,
                "risk_y": y + CHART_BAR_H + 2,
                "risk_w": round(c.at_risk / top * CHART_BAR_W, 1),
                "risk_text_y": y + 2 * CHART_BAR_H,
                "risk_x": CHART_LABEL_W + round(c.at_risk / top * CHART_BAR_W, 1) + 4,
            }
        )
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": max(len(bars), 1) * CHART_ROW_H + 6,
        "label_w": CHART_LABEL_W,
        "bar_w": CHART_BAR_W,
        "bar_h": CHART_BAR_H,
        "scale_top": top,
    }


@require_GET
@login_required
def late_list(request):
    actor = staff_actor(request)
    params = request.GET.copy()
    if "warehouse" in params:  # codes are stored upper-case; accept what a person types in the URL
        params["warehouse"] = params["warehouse"].strip().upper()
    carriers = list(CarrierAccount.objects.order_by("carrier_id").values_list("carrier_id", "display_name"))
    merchants = list(Tenant.objects.order_by("slug").values_list("pk", "slug", "name"))
    form = LateFilterForm(
        params,
        warehouse_codes=list(warehouses_for(actor).values_list("code", flat=True)),
        carriers=[(code, f"{code} · {name}") for code, name in carriers],
        merchants=[(slug, name) for _pk, slug, name in merchants],
    )
    if form.is_valid():
        board = selectors.late_shipments(actor=actor, filters=form.filters({slug: pk for pk, slug, _ in merchants}))
        status = 200
    else:
        board = selectors.LateBoard(
            late=Shipment.objects.none(), at_risk=Shipment.objects.none(), per_carrier=[], today={}
        )
        status = 400
    late, at_risk, per_carrier = board.late, board.at_risk, board.per_carrier
    late_page = Paginator(late, PAGE_SIZE).get_page(request.GET.get("late_page"))
    risk_page = Paginator(at_risk, PAGE_SIZE).get_page(request.GET.get("risk_page"))

    def rows(page, *, is_late: bool) -> list[Row]:
        return [_row(s, today=board.today.get(s.warehouse_id), late=is_late) for s in page.object_list]

    def others(*names: str) -> str:
        query = request.GET.copy()
        for name in names:
            query.pop(name, None)
        return query.urlencode()

    context = {
        "form": form,
        "late_page": late_page,
        "risk_page": risk_page,
        "late_rows": rows(late_page, is_late=True),
        "risk_rows": rows(risk_page, is_late=False),
        "late_query": others("late_page"),
        "risk_query": others("risk_page"),
        "chart": chart(per_carrier),
        "late_total": sum(c.late for c in per_carrier),
        "risk_total": sum(c.at_risk for c in per_carrier),
        "is_manager": actor.is_manager,
    }
    return render(request, "shipping/late.html", context, status=status)


urlpatterns = [
    path("shipping/late/", late_list, name="late"),
]
