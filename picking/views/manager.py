"""Manager pages for waves: the list of waves, a new wave (form, preview, release), one wave with
its pick lists, and the wave schedules.

Staff only, limited to their warehouses (a wave or schedule of another warehouse is 404). Every
staff member sees the pages and may preview; only managers release waves and change schedules.
The preview writes nothing; its Release button posts the previewed order ids, and orders that
changed meanwhile, or that the caps leave out, are not released (the messages say how many of each).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fulfillment.errors import refusal_shown
from fulfillment.tenancy.portal import staff_actor
from inventory.selectors import warehouses_for
from picking import planning
from picking import selectors_waves as selectors
from picking.models import Strategy, WaveSchedule, WaveStatus
from picking.services import waves as services

PAGE_SIZE = 50
PARAMS = ("warehouse", *services.PARAM_FIELDS, "ship_by_until")
STRATEGY_HELP = {
    Strategy.DISCRETE: "one order per pick list",
    Strategy.BATCH: "several orders per cart, each in its own totes",
    Strategy.ZONE: "one set of lists per storage zone; orders consolidate at packing",
    Strategy.WAVE: "batches, or zones when the warehouse has several, released together by cut-off",
}


def _number(label: str, **kwargs) -> forms.IntegerField:
    return forms.IntegerField(label=label, widget=forms.NumberInput(attrs={"inputmode": "numeric"}), **kwargs)


def _litres(label: str, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=6,
        decimal_places=1,
        min_value=Decimal("0.1"),
        max_value=planning.MAX_VOLUME_L,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
        **kwargs,
    )


class _WaveParamsForm(forms.Form):
    """The warehouse (one of ``warehouses``) and the wave parameters (services.PARAM_FIELDS)."""

    warehouse = forms.ChoiceField()
    strategy = forms.ChoiceField(choices=Strategy.choices, initial=Strategy.WAVE)
    max_orders = _number("Max orders", min_value=1, max_value=planning.MAX_WAVE_ORDERS, initial=200)
    max_lines = _number("Max lines", min_value=1, max_value=planning.MAX_WAVE_LINES, required=False)
    totes_per_cart = _number("Totes per cart", min_value=1, max_value=planning.MAX_TOTES_PER_CART, initial=8)
    tote_volume_l = _litres("Tote volume (L)", initial=40)
    cart_volume_l = _litres("Cart volume (L)", required=False)

    def __init__(self, data=None, *, warehouses, **kwargs):
        super().__init__(data, **kwargs)
        self.warehouses = {wh.code: wh for wh in warehouses}
        self.fields["warehouse"].choices = [(code, code) for code in self.warehouses]


class WaveForm(_WaveParamsForm):
    ship_by_until = forms.CharField(
        label="Only orders shipping by",
        required=False,
        max_length=16,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Warehouse time; empty: every cut-off.",
    )

    def clean(self):
        data = super().clean()
        warehouse = self.warehouses.get(data.get("warehouse"))
        raw = data.get("ship_by_until") or ""
        data["ship_by_until"] = None
        if raw and warehouse is not None:
            try:
                moment = datetime.fromisoformat(raw)
            except ValueError:
                self.add_error("ship_by_until", "give a date and time, e.g. 2026-12-01T14:00")
            else:
                data["ship_by_until"] = moment.replace(tzinfo=ZoneInfo(warehouse.timezone))
        return data

    def wave_args(self) -> dict:
        data = self.cleaned_data
        return {
            "warehouse": self.warehouses[data["warehouse"]],
            **{name: data[name] for name in services.PARAM_FIELDS},
            "ship_by_until": data["ship_by_until"],
        }


def _order_ids(raw: str) -> list[uuid.UUID] | None:
    """The previewed order ids of the Release form (one field, space-separated); None when malformed."""
    parts = raw.split()
    if not parts or len(parts) > planning.MAX_WAVE_ORDERS:
        return None
    try:
        return [uuid.UUID(part) for part in parts]
    except ValueError:
        return None


# -- the waves -----------------------------------------------------------------------------------


@require_GET
@login_required
def wave_list(request):
    actor = staff_actor(request)
    warehouse = request.GET.get("warehouse", "").strip().upper()
    status = request.GET.get("status", "")
    if status not in WaveStatus.values:
        status = ""
    waves = selectors.wave_list(actor=actor, warehouse_code=warehouse, status=status)
    page = Paginator(waves, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "warehouses": warehouses_for(actor),
        "filters": {"warehouse": warehouse, "status": status},
        "statuses": WaveStatus.choices,
        "query": query.urlencode(),
        "can_release": actor.is_manager,
    }
    return render(request, "picking/manager/waves.html", context)


@require_GET
@login_required
def wave_detail(request, wave_id):
    actor = staff_actor(request)
    wave = selectors.wave_for_manager(actor=actor, wave_id=wave_id)
    if wave is None:
        raise Http404("No such wave.")
    context = {"wave": wave, "pick_lists": selectors.wave_pick_lists(wave=wave)}
    return render(request, "picking/manager/wave.html", context)


def _initial(warehouse) -> dict:
    """Defaults for a new wave: the caps of the warehouse's first enabled schedule, if it has one."""
    initial = {"warehouse": warehouse.code} if warehouse else {}
    schedule = selectors.default_schedule(warehouse_id=warehouse.pk) if warehouse else None
    if schedule is not None:
        initial.update({name: getattr(schedule, name) for name in services.PARAM_FIELDS})
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def wave_new(request):
    """GET: the form, and with its fields the preview; POST (managers): release the previewed orders."""
    if request.method == "POST":
        return _release(request)
    actor = staff_actor(request)
    warehouses = list(warehouses_for(actor))
    previewing = "warehouse" in request.GET
    form = WaveForm(request.GET if previewing else None, warehouses=warehouses)
    plan = None
    status = 200
    if previewing:
        if form.is_valid():
            with refusal_shown(form=form) as refused:
                plan = services.wave_plan(**form.wave_args())
            if refused:
                status = 422
        else:
            status = 422
    chosen = form.warehouses.get(form.data.get("warehouse")) if previewing else (warehouses[0] if warehouses else None)
    if not previewing:
        form.initial = _initial(chosen)
    release_fields = [(name, request.GET.get(name, "")) for name in PARAMS] if plan else []
    context = {
        "form": form,
        "plan": plan,
        "warehouse": chosen,
        "groups": selectors.waiting_groups(warehouse_id=chosen.pk) if chosen else [],
        "waiting": selectors.waiting_count(warehouse_id=chosen.pk) if chosen else 0,
        "release_fields": release_fields,
        "order_ids": " ".join(str(pk) for pk in plan.order_ids) if plan else "",
        "can_release": actor.is_manager,
        "strategy_help": STRATEGY_HELP,
    }
    return render(request, "picking/manager/new.html", context, status=status)


def _release(request):
    actor = staff_actor(request, manager=True)
    warehouses = list(warehouses_for(actor))
    form = WaveForm(request.POST, warehouses=warehouses)
    if request.POST.get("warehouse", "").strip().upper() not in form.warehouses:
        raise Http404("No such warehouse.")
    order_ids = _order_ids(request.POST.get("order_ids", ""))
    back = reverse("picking:manager-wave-new") + "?" + _query(request.POST)
    if not form.is_valid() or order_ids is None:
        messages.error(request, "The preview could not be released as sent; here it is again.")
        return redirect(back)
    with refusal_shown(request, prefix="Not released: ") as refused:
        release = services.wave_release(order_ids=order_ids, actor=actor.label, **form.wave_args())
    if refused:
        return redirect(back)
    plan = release.plan
    # Of the previewed orders not taken: those still allocated were planned and left out by the
    # caps (they wait for a later wave); the others were no longer there to take.
    capped, changed = release.capped, release.changed
    if release.wave is None:
        if capped:
            messages.error(request, "None of the previewed orders fits these caps: nothing was released.")
        else:
            messages.error(request, "None of the previewed orders is still allocated: nothing was released.")
        return redirect(back)
    messages.success(
        request,
        f"Wave released: {plan.order_count} order{'s' if plan.order_count != 1 else ''} in "
        f"{len(plan.lists)} pick list{'s' if len(plan.lists) != 1 else ''}, {plan.distance_m:,.1f} m to walk.",
    )
    if changed:
        messages.warning(
            request,
            f"{changed} of the previewed orders changed meanwhile (no longer allocated) and "
            f"{'was' if changed == 1 else 'were'} left out.",
        )
    if capped:
        messages.warning(
            request,
            f"{capped} of the previewed orders did not fit the caps and "
            f"{'stays' if capped == 1 else 'stay'} allocated for a later wave.",
        )
    return redirect("picking:manager-wave", wave_id=release.wave.pk)


def _query(data) -> str:
    query = QueryDict(mutable=True)
    for name in PARAMS:
        if data.get(name):
            query[name] = data.get(name)
    return query.urlencode()


# -- schedules -----------------------------------------------------------------------------------


class ScheduleForm(_WaveParamsForm):
    name = forms.CharField(max_length=100)
    enabled = forms.BooleanField(required=False, initial=True, label="Enabled")
    release_times = forms.CharField(
        label="Release times",
        max_length=400,
        help_text='Warehouse time, 24-hour, separated by commas, e.g. "09:00, 11:30, 14:00".',
    )
    # The rest of the wave parameters follow, in their order.
    field_order = ("warehouse", "name", "enabled", "strategy", "release_times")

    def __init__(self, data=None, *, warehouses, schedule=None, **kwargs):
        super().__init__(data, warehouses=warehouses, **kwargs)
        if schedule is not None:
            # A schedule stays in its warehouse; the field is shown, not sent.
            self.fields["warehouse"].required = False
            self.fields["warehouse"].disabled = True
            self.initial = {
                "warehouse": schedule.warehouse.code,
                "name": schedule.name,
                "enabled": schedule.enabled,
                "release_times": ", ".join(schedule.release_times or []),
                **{name: getattr(schedule, name) for name in services.PARAM_FIELDS},
            }

    def clean(self):
        data = super().clean()
        # The service's checks too (release times, caps), so that every problem shows at once.
        _, errors = services.schedule_errors(
            name=data.get("name", ""),
            release_times=data.get("release_times", ""),
            **{name: data.get(name) for name in services.PARAM_FIELDS},
        )
        for field, message in errors.items():
            if field in data:
                self.add_error(field, message)
        return data


def _save_schedule(form: ScheduleForm, *, warehouse, schedule_id=None):
    data = form.cleaned_data
    with refusal_shown(form=form):
        return services.wave_schedule_save(
            warehouse=warehouse,
            schedule_id=schedule_id,
            name=data["name"],
            enabled=data["enabled"],
            release_times=data["release_times"],
            **{name: data[name] for name in services.PARAM_FIELDS},
        )
    return None


@require_GET
@login_required
def schedule_list(request):
    actor = staff_actor(request)
    now = timezone.now()
    rows = [(s, selectors.next_release_time(s, now=now)) for s in selectors.schedules_for(actor=actor)]
    return render(request, "picking/manager/schedules.html", {"rows": rows, "can_edit": actor.is_manager})


@login_required
@require_http_methods(["GET", "POST"])
def schedule_new(request):
    actor = staff_actor(request, manager=True)
    form = ScheduleForm(request.POST or None, warehouses=list(warehouses_for(actor)))
    if request.method == "POST" and form.is_valid():
        schedule = _save_schedule(form, warehouse=form.warehouses[form.cleaned_data["warehouse"]])
        if schedule is not None:
            messages.success(request, f"Schedule {schedule.name} saved for {schedule.warehouse.code}.")
            return redirect("picking:manager-schedules")
    status = 422 if request.method == "POST" else 200
    return render(request, "picking/manager/schedule_form.html", {"form": form, "schedule": None}, status=status)


def _schedule(actor, schedule_id) -> WaveSchedule:
    schedule = selectors.schedules_for(actor=actor).filter(pk=schedule_id).first()
    if schedule is None:
        raise Http404("No such schedule.")
    return schedule


@login_required
@require_http_methods(["GET", "POST"])
def schedule_edit(request, schedule_id):
    actor = staff_actor(request, manager=True)
    schedule = _schedule(actor, schedule_id)
    form = ScheduleForm(request.POST or None, warehouses=[schedule.warehouse], schedule=schedule)
    if request.method == "POST" and form.is_valid():
        saved = _save_schedule(form, warehouse=schedule.warehouse, schedule_id=schedule.pk)
        if saved is not None:
            messages.success(request, f"Schedule {saved.name} saved.")
            return redirect("picking:manager-schedules")
    status = 422 if request.method == "POST" else 200
    return render(request, "picking/manager/schedule_form.html", {"form": form, "schedule": schedule}, status=status)


@require_POST
@login_required
def schedule_toggle(request, schedule_id):
    actor = staff_actor(request, manager=True)
    schedule = _schedule(actor, schedule_id)
    enabled = request.POST.get("enabled") == "1"
    services.wave_schedule_set_enabled(schedule_id=schedule.pk, enabled=enabled)
    state = "on: it releases from its next time" if enabled else "off"
    messages.success(request, f"Schedule {schedule.name} is {state}.")
    return redirect("picking:manager-schedules")


urlpatterns = [
    path("picking/waves/", wave_list, name="manager-waves"),
    path("picking/waves/new/", wave_new, name="manager-wave-new"),
    path("picking/waves/<uuid:wave_id>/", wave_detail, name="manager-wave"),
    path("picking/schedules/", schedule_list, name="manager-schedules"),
    path("picking/schedules/new/", schedule_new, name="manager-schedule-new"),
    path("picking/schedules/<uuid:schedule_id>/edit/", schedule_edit, name="manager-schedule-edit"),
    path("picking/schedules/<uuid:schedule_id>/toggle/", schedule_toggle, name="manager-schedule-toggle"),
]
