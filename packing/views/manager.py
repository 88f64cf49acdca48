"""Manager page for packing (``/packing/``): the pack queue of a warehouse (picked orders waiting,
oldest ship-by first, who is packing each) and a day's packing per packer (orders, packages, units,
refused scans and the mis-scan rate), with a chart.

Staff only, limited to the warehouses the user works in (another warehouse is 404). As on the
picking performance page, managers see every packer; an associate sees their own row and the
warehouse's totals.
"""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from fulfillment.tenancy.portal import staff_actor
from inventory.selectors import warehouses_for
from packing import selectors
from picking.selectors_performance import local_today, period_bounds

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
QUEUE_SIZE = 100


class DayForm(forms.Form):
    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    warehouse = forms.CharField(required=False, max_length=20, strip=True)

    def clean_date(self):
        day = self.cleaned_data.get("date")
        if day and not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(f"Choose a day from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}.")
        return day


def _totals(rows: list[selectors.PackerDay]) -> selectors.PackerDay:
    return selectors.PackerDay(
        packer="All packers",
        orders=sum(r.orders for r in rows),
        packages=sum(r.packages for r in rows),
        units=sum(r.units for r in rows),
        scans=sum(r.scans for r in rows),
        refused=sum(r.refused for r in rows),
        overrides=sum(r.overrides for r in rows),
    )


def _chart(rows: list[selectors.PackerDay]) -> dict:
    """Bars of orders packed per packer, with the mis-scan rate beside each: the sizes an SVG needs."""
    busiest = max((r.orders for r in rows), default=0) or 1
    bar_area = 300
    return {
        "height": 28 * len(rows) + 8,
        "bars": [
            {
                "row": r,
                "y": 8 + 28 * i,
                "width": round(bar_area * r.orders / busiest),
                "rate": r.mis_scan_percent,
                "high": r.mis_scan_rate >= 0.02,
            }
            for i, r in enumerate(rows)
        ],
    }


@require_GET
@login_required
def packing_overview(request):
    actor = staff_actor(request)
    warehouses = list(warehouses_for(actor))
    context = {"warehouses": warehouses, "is_manager": actor.is_manager}
    if not warehouses:
        return render(request, "packing/manager/overview.html", context)
    form = DayForm(request.GET)
    context["form"] = form
    if not form.is_valid():
        return render(request, "packing/manager/overview.html", context, status=400)
    code = form.cleaned_data["warehouse"].upper() or warehouses[0].code
    warehouse = next((w for w in warehouses if w.code == code), None)
    if warehouse is None:
        raise Http404("No such warehouse.")
    today = local_today(warehouse)
    day = form.cleaned_data["date"] or today
    start, end = period_bounds(warehouse, day, day)
    rows = selectors.packer_stats(actor=actor, start=start, end=end, warehouse=warehouse)
    totals = _totals(rows)
    if not actor.is_manager:
        rows = [r for r in rows if r.packer == request.user.get_username()]
    queue = selectors.pack_queue(actor=actor, warehouse=warehouse, limit=QUEUE_SIZE)
    context.update(
        warehouse=warehouse,
        day=day,
        today=today,
        rows=rows,
        totals=totals,
        chart=_chart(rows),
        queue=queue,
        queue_late=sum(1 for q in queue if q.late),
        queue_size=QUEUE_SIZE,
        previous_query=urlencode({"date": (day - timedelta(days=1)).isoformat(), "warehouse": warehouse.code}),
        next_query=urlencode({"date": (day + timedelta(days=1)).isoformat(), "warehouse": warehouse.code})
        if day < today
        else "",
    )
    return render(request, "packing/manager/overview.html", context)


urlpatterns = [
    path("packing/", packing_overview, name="overview"),
]
