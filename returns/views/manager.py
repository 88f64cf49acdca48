"""The managers' returns page (``/returns/``): per warehouse, the returns expected (announced, with a
label, on their way: age and tracking), received today (the warehouse's local day), awaiting the
rest of their units, the unexpected units not yet resolved (with a "resolved" button), and a chart
of units received per day over two weeks by grade.

Staff managers only (associates get 403), limited to the warehouses they work in (another is 404).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from fulfillment.errors import refusal_shown
from fulfillment.tenancy.portal import staff_actor
from inventory.selectors import warehouses_for
from returns import selectors_floor as floor
from returns import services
from returns.models import Grade, UnexpectedReturn

GRADE_COLOURS = {"new": "#047857", "opened": "#1f5fbf", "damaged": "#b45309", "defective": "#b3261e"}
CHART_HEIGHT = 140


def _chart(days: list[floor.DayBar]) -> dict:
    """Stacked bars of units received per day by grade: the sizes an SVG needs."""
    most = max((d.total for d in days), default=0) or 1
    width = 40
    bars = []
    for index, day in enumerate(days):
        x = 30 + index * width
        y = CHART_HEIGHT
        parts = []
        for grade in Grade.values:
            units = day.by_grade.get(grade, 0)
            if not units:
                continue
            height = max(1, round((CHART_HEIGHT - 20) * units / most))
            y -= height
            parts.append({"grade": grade, "units": units, "y": y, "height": height, "colour": GRADE_COLOURS[grade]})
        bars.append({"day": day, "x": x, "parts": parts, "label_y": y - 4})
    return {"bars": bars, "width": 30 + width * len(days), "height": CHART_HEIGHT + 22, "axis_y": CHART_HEIGHT}


@login_required
@require_http_methods(["GET", "POST"])
def returns_overview(request):
    actor = staff_actor(request, manager=True)
    warehouses = list(warehouses_for(actor))
    context = {"warehouses": warehouses}
    if not warehouses:
        return render(request, "returns/manager/overview.html", context)
    source = request.POST if request.method == "POST" else request.GET
    code = source.get("warehouse", "").strip().upper() or warehouses[0].code
    warehouse = next((w for w in warehouses if w.code == code), None)
    if warehouse is None:
        raise Http404("No such warehouse.")
    if request.method == "POST":
        record = (
            UnexpectedReturn.objects.visible_to(actor)
            .filter(pk=request.POST.get("unexpected") or 0, warehouse=warehouse)
            .first()
            if (request.POST.get("unexpected") or "").isdigit()
            else None
        )
        if record is None:
            raise Http404("No such unexpected return.")
        with refusal_shown(request):
            services.unexpected_return_resolve(unexpected_id=record.pk, actor=actor.label)
            messages.success(request, f"{record.quantity} x {record.sku} marked resolved.")
        return redirect(f"{reverse('returns:manager')}?{urlencode({'warehouse': warehouse.code})}")
    data = floor.returns_floor(actor=actor, warehouse=warehouse)
    context.update(
        warehouse=warehouse,
        floor=data,
        chart=_chart(data.days),
        legend=[(g, GRADE_COLOURS[g]) for g in Grade.values],
        chart_total=sum(d.total for d in data.days),
    )
    return render(request, "returns/manager/overview.html", context)


urlpatterns = [path("returns/", returns_overview, name="manager")]
