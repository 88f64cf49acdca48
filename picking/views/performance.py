"""Manager page: pick rates and pick accuracy per associate, for a local day (or a range of days)
of one warehouse, with lines picked per hour.

Staff only (merchant users get 403), limited to the warehouses the user works in (another
warehouse is 404, like a missing one). Managers see every associate; an associate sees only their
own row next to the warehouse totals: at a 3PL, individual rates are a matter between an associate
and their manager, while everyone may know how the shift is doing.
"""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from fulfillment.tenancy.portal import staff_actor
from inventory.selectors import warehouses_for
from picking import selectors_performance as performance

MAX_DAYS = 7  # a week of 100,000 scans a day is still a few seconds; longer wants a daily roll-up
# Days the page answers for: far enough either way for any real shift, and far from the ends of
# the calendar, where the period's bounds and the previous/next links would not exist.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
_DAY_RANGE = f"Choose a day from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}."


def _day_field() -> forms.DateField:
    return forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        validators=[MinValueValidator(FIRST_DAY, _DAY_RANGE), MaxValueValidator(LAST_DAY, _DAY_RANGE)],
    )


class PeriodForm(forms.Form):
    date = _day_field()
    until = _day_field()
    warehouse = forms.CharField(required=False, max_length=20, strip=True)

    def clean(self):
        data = super().clean()
        start, end = data.get("date"), data.get("until")
        if start and end:
            if end < start:
                raise forms.ValidationError("The period ends before it starts: 'until' must not be before 'date'.")
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(f"Choose at most {MAX_DAYS} days.")
        elif end and not start:
            raise forms.ValidationError("Give 'date' (the first day) with 'until'.")
        return data


def _query(start, end, code) -> str:
    params = {"date": start.isoformat()}
    if end != start:
        params["until"] = end.isoformat()
    params["warehouse"] = code
    return urlencode(params)


def _hour_rows(hours: list[performance.HourFigures]) -> list[dict]:
    """Every hour from the first to the last with picks (quiet hours in between as zeros), with the
    bar length of the little chart as a share of the busiest hour."""
    if not hours:
        return []
    by_hour = {h.hour: h for h in hours}
    busiest = max(h.lines for h in hours) or 1
    rows = []
    for hour in range(hours[0].hour, hours[-1].hour + 1):
        h = by_hour.get(hour, performance.HourFigures(hour=hour, lines=0, units=0, associates=0))
        rows.append({"figures": h, "percent": round(100 * h.lines / busiest)})
    return rows


@require_GET
@login_required
def picking_performance(request):
    actor = staff_actor(request)
    warehouses = list(warehouses_for(actor))
    context = {"warehouses": warehouses, "is_manager": actor.is_manager, "max_days": MAX_DAYS}
    if not warehouses:
        return render(request, "picking/performance.html", context)
    form = PeriodForm(request.GET)
    context["form"] = form
    if not form.is_valid():
        return render(request, "picking/performance.html", context, status=400)
    code = form.cleaned_data["warehouse"].upper() or warehouses[0].code
    warehouse = next((w for w in warehouses if w.code == code), None)
    if warehouse is None:
        raise Http404("No such warehouse.")
    today = performance.local_today(warehouse)
    start = form.cleaned_data["date"] or today
    end = form.cleaned_data["until"] or start
    result = performance.picking_performance(actor=actor, warehouse=warehouse, start=start, end=end)
    span = timedelta(days=(end - start).days + 1)
    context.update(
        performance=result,
        warehouse=warehouse,
        today=today,
        single_day=start == end,
        hour_rows=_hour_rows(result.hours),
        previous_query=_query(start - span, end - span, warehouse.code) if start - span >= FIRST_DAY else "",
        next_query=_query(start + span, end + span, warehouse.code) if start + span <= today else "",
        today_query=_query(today, today, warehouse.code),
        idle_minutes=performance.IDLE_GAP_CAP_MINUTES,
    )
    return render(request, "picking/performance.html", context)


urlpatterns = [
    path("picking/performance/", picking_performance, name="performance"),
]
