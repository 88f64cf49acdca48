"""Waves: plan allocated orders into routed pick lists (a preview writes nothing), release them
(one transaction, set-based writes), and release them on a schedule.

Lock order of a release: the orders (skipping those another release holds), then the new rows;
orders.services.order_mark_picking_many moves the orders by compare-and-set under those locks.
A scheduled release takes the schedule row first (compare-and-set on ``last_released_at``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from fulfillment.bulk import copy_rows, gc_paused
from fulfillment.errors import INVALID_FIELDS, Problem
from inventory.models import Warehouse, parse_cutoff
from orders import services as orders
from orders.models import Order, Status
from picking import locks, planning
from picking import selectors_waves as selectors
from picking.geometry import Layout, Stop
from picking.models import PickList, PickTask, Strategy, Wave, WaveSchedule
from picking.planning import Plan, WaveParams
from picking.services.common import PickingError

logger = logging.getLogger(__name__)

MAX_RELEASE_TIMES = 48


@dataclass
class Release:
    """A release: the wave (None when no order could be taken), its plan, and the orders asked for
    (a release from a preview) that were no longer allocated and were left out."""

    wave: Wave | None
    plan: Plan
    left_out: int = 0

    @property
    def capped(self) -> int:
        """Of the orders left out, those still allocated: planned, and left out by the caps (they
        wait for a later wave)."""
        return min(self.plan.left_waiting, self.left_out)

    @property
    def changed(self) -> int:
        """Of the orders left out, those no longer allocated (they changed meanwhile)."""
        return self.left_out - self.capped


class ScheduleError(PickingError):
    """Schedule input that cannot work; ``errors`` has a message per field (the API names the first)."""

    def __init__(self, errors: dict[str, str]):
        field, message = next(iter(errors.items()))
        super().__init__(message, field=field, code="invalid")
        self.errors = errors

    def problem(self) -> Problem:
        return Problem(422, INVALID_FIELDS, [{"field": self.field, "code": self.code, "message": self.message}])

    def field_messages(self) -> list[tuple[str | None, str]]:
        return list(self.errors.items())


# -- planning ------------------------------------------------------------------------------------

# What a wave takes, and a schedule keeps for the waves it releases (picking.planning.params_errors).
PARAM_FIELDS = ("strategy", "max_orders", "max_lines", "totes_per_cart", "tote_volume_l", "cart_volume_l")


def wave_params(
    *,
    strategy: str,
    max_orders: int,
    max_lines: int | None = None,
    totes_per_cart: int = 8,
    tote_volume_l=40,
    cart_volume_l=None,
) -> WaveParams:
    """Checked wave parameters; PickingError naming the first bad field."""
    errors = planning.params_errors(
        strategy=strategy,
        max_orders=max_orders,
        max_lines=max_lines,
        totes_per_cart=totes_per_cart,
        tote_volume_l=tote_volume_l,
        cart_volume_l=cart_volume_l,
    )
    if errors:
        field, message = next(iter(errors.items()))
        raise PickingError(message, field=field)
    return WaveParams(
        strategy=strategy,
        max_orders=max_orders,
        max_lines=max_lines,
        totes_per_cart=totes_per_cart,
        tote_volume_l=float(tote_volume_l),
        cart_volume_l=None if cart_volume_l is None else float(cart_volume_l),
    )


def _plan(
    warehouse: Warehouse,
    params: WaveParams,
    *,
    order_ids=None,
    ship_by_until=None,
    time_budget_s=None,
    compare: bool,
) -> Plan:
    candidates = selectors.wave_candidates(warehouse_id=warehouse.pk, order_ids=order_ids, ship_by_until=ship_by_until)
    stops = [Stop(p.aisle, p.bay) for c in candidates for p in c.picks if p.on_grid]
    zoned = params.strategy == Strategy.WAVE and selectors.storage_zone_count(warehouse_id=warehouse.pk) > 1
    return planning.plan(
        candidates,
        params,
        layout=Layout.of(warehouse, stops=stops),
        zoned=zoned,
        time_budget_s=time_budget_s,
        compare=compare,
    )


def wave_plan(
    *,
    warehouse: Warehouse,
    strategy: str,
    max_orders: int,
    ship_by_until: datetime | None = None,
    order_ids=None,
    time_budget_s: float | None = None,
    **caps,
) -> Plan:
    """What releasing a wave now would do, with the first-come-first-served distance to compare;
    writes nothing and locks nothing (see picking.planning for the rules). ``caps``: the other
    wave parameters of `wave_params`."""
    params = wave_params(strategy=strategy, max_orders=max_orders, **caps)
    return _plan(
        warehouse, params, order_ids=order_ids, ship_by_until=ship_by_until, time_budget_s=time_budget_s, compare=True
    )


# -- release -------------------------------------------------------------------------------------


def _lock_orders(warehouse: Warehouse, params: WaveParams, *, order_ids, ship_by_until) -> list:
    """Lock up to ``max_orders`` allocated orders, in queue order, and answer their ids.

    Two releases at once take different orders instead of waiting for each other (SKIP LOCKED),
    and PostgreSQL re-checks ``status`` on a row that another release changed meanwhile, so an
    order can never get into two waves.
    """
    query = Order.objects.filter(warehouse_id=warehouse.pk, status=Status.ALLOCATED)
    if order_ids is not None:
        query = query.filter(pk__in=list(order_ids))
    if ship_by_until is not None:
        query = query.filter(ship_by__lte=ship_by_until)
    query = locks.unclaimed_orders(query.order_by("-priority", "ship_by", "created_at", "pk"))
    return list(query.values_list("pk", flat=True)[: params.max_orders])


def _plain(value):
    """A choices member as its plain value (COPY adapts plain types)."""
    return value.value if isinstance(value, models.Choices) else value


def _rows(model, rows: list[dict]) -> None:
    """Insert rows (attname -> value) in one COPY (PostgreSQL) or plain INSERTs. Every concrete
    field is written, a field not given with its model default, so that fields added to the model
    later are filled as the ORM would (without building thousands of model instances)."""
    fields = model._meta.concrete_fields
    columns = [f.attname for f in fields]
    json_columns = [f.attname for f in fields if isinstance(f, models.JSONField)]
    made = [f for f in fields if f.has_default() and callable(f.default)]
    fixed = {f.attname: _plain(f.get_default()) for f in fields if f not in made}
    out = []
    for row in rows:
        values = {**fixed, **{f.attname: f.get_default() for f in made if f.attname not in row}, **row}
        out.append(tuple(values[c] for c in columns))
    copy_rows(model, columns, out, json_columns=json_columns)


def _write(warehouse: Warehouse, plan: Plan, *, actor: str, schedule_id) -> Wave:
    now = timezone.now()
    wave = Wave.objects.create(
        warehouse=warehouse,
        strategy=plan.params.strategy,
        cutoff=plan.cutoff,
        schedule_id=schedule_id,
        order_count=plan.order_count,
        line_count=plan.line_count,
        unit_count=plan.unit_count,
        distance_m=Decimal(str(plan.distance_m)),
        created_by=actor[:100],
    )
    pick_lists, tasks = [], []
    with gc_paused():
        for index, planned in enumerate(plan.lists):
            pick_list_id = uuid.uuid4()
            pick_lists.append(
                {
                    "id": pick_list_id,
                    "wave_id": wave.pk,
                    "warehouse_id": warehouse.pk,
                    "zone": planned.zone,
                    "single_units": planned.single_units,
                    "totes": planned.totes,
                    "distance_m": Decimal(str(planned.distance_m)),
                    # Lists are handed out oldest first: a microsecond apart, they go in plan order
                    # (earliest cut-off first) instead of in the random order of their ids.
                    "created_at": now + timedelta(microseconds=index),
                }
            )
            for task in planned.tasks:
                pick = task.pick
                tasks.append(
                    {
                        "id": uuid.uuid4(),
                        "tenant_id": pick.tenant_id,
                        "pick_list_id": pick_list_id,
                        "order_id": pick.order_id,
                        "allocation_id": pick.allocation_id,
                        "location_id": pick.location_id,
                        "product_id": pick.product_id,
                        "lot_id": pick.lot_id,
                        "quantity": pick.quantity,
                        "tote": task.tote,
                        "sequence": task.sequence,
                        "updated_at": now,
                    }
                )
        _rows(PickList, pick_lists)
        _rows(PickTask, tasks)
    return wave


def _release(
    warehouse: Warehouse,
    params: WaveParams,
    *,
    order_ids=None,
    ship_by_until=None,
    actor: str,
    schedule_id=None,
    time_budget_s=None,
) -> Release:
    asked = None if order_ids is None else list(dict.fromkeys(order_ids))
    locked = _lock_orders(warehouse, params, order_ids=asked, ship_by_until=ship_by_until)
    # Planned from what is locked, so that nobody changes these orders until the wave is written.
    plan = _plan(warehouse, params, order_ids=locked, time_budget_s=time_budget_s, compare=False)
    left_out = 0 if asked is None else len(asked) - plan.order_count
    if not plan.lists:
        return Release(wave=None, plan=plan, left_out=left_out)
    wave = _write(warehouse, plan, actor=actor, schedule_id=schedule_id)
    moved = orders.order_mark_picking_many(order_ids=plan.order_ids, actor=actor, wave=str(wave.pk))
    if len(moved) != plan.order_count:
        # Cannot happen while the orders are locked; if it does, nothing of the wave is kept.
        raise PickingError("orders changed while the wave was written; try again", code="conflict", status=409)
    return Release(wave=wave, plan=plan, left_out=left_out)


@transaction.atomic
def wave_release(
    *,
    warehouse: Warehouse,
    strategy: str,
    max_orders: int,
    ship_by_until: datetime | None = None,
    order_ids=None,
    actor: str = "",
    time_budget_s: float | None = None,
    **caps,
) -> Release:
    """Plan and release a wave in one transaction: the wave, its lists and tasks, and the orders
    moved to picking. ``order_ids`` (a release from a preview) limits it to those orders; the ones
    that are no longer allocated are left out and counted in ``left_out``. ``caps``: the other
    wave parameters of `wave_params`."""
    params = wave_params(strategy=strategy, max_orders=max_orders, **caps)
    return _release(
        warehouse,
        params,
        order_ids=order_ids,
        ship_by_until=ship_by_until,
        actor=actor,
        time_budget_s=time_budget_s,
    )


def wave_build(*, warehouse: Warehouse, strategy: str, max_orders: int, actor: str = "", **caps) -> Wave | None:
    """Plan and release now (the earlier interface); None when no allocated order is waiting."""
    return wave_release(warehouse=warehouse, strategy=strategy, max_orders=max_orders, actor=actor, **caps).wave


# -- schedules -----------------------------------------------------------------------------------


def _release_times(value) -> tuple[list[str], str | None]:
    """(the times as sorted unique "HH:MM", or an error message); "9:00" is taken as "09:00"."""
    if isinstance(value, str):
        value = [part for part in value.replace(";", ",").replace(" ", ",").split(",") if part]
    if not isinstance(value, list | tuple):
        return [], 'release times must be a list of local times "HH:MM"'

    def padded(v):
        # One-digit hours as people write them; parse_cutoff then checks the rest ("HH:MM", 24 h).
        return f"0{v}" if isinstance(v, str) and len(v) == 4 and v[1] == ":" else v

    bad = [str(v) for v in value if parse_cutoff(padded(v)) is None]
    if bad:
        return [], f'release times must be 24-hour local times "HH:MM" (e.g. 09:30): not {", ".join(bad[:5])}'
    times = sorted({padded(v) for v in value})
    if not times:
        return [], "give at least one release time"
    if len(times) > MAX_RELEASE_TIMES:
        return [], f"at most {MAX_RELEASE_TIMES} release times a day"
    return times, None


def schedule_errors(*, name: str, release_times, **params) -> tuple[list[str], dict[str, str]]:
    """(the release times normalised, {field: message} for what cannot work); ``params``: the
    wave parameters (PARAM_FIELDS) as picking.planning.params_errors takes them."""
    errors: dict[str, str] = {}
    if not (name or "").strip():
        errors["name"] = "give the schedule a name"
    elif len(name.strip()) > WaveSchedule._meta.get_field("name").max_length:
        errors["name"] = "the name is too long (100 characters at most)"
    times, problem = _release_times(release_times)
    if problem:
        errors["release_times"] = problem
    errors.update(planning.params_errors(**params))
    return times, errors


@transaction.atomic
def wave_schedule_save(
    *,
    warehouse: Warehouse,
    name: str,
    strategy: str,
    release_times,
    max_orders: int,
    max_lines: int | None = None,
    totes_per_cart: int = 8,
    tote_volume_l=40,
    cart_volume_l=None,
    enabled: bool = True,
    schedule_id=None,
) -> WaveSchedule:
    """Create a schedule, or change ``schedule_id`` (of ``warehouse``); ScheduleError when refused.

    Only times still to come release waves: a new schedule, changed times or a schedule switched
    on does not release the times that passed earlier today.
    """
    params = {
        "strategy": strategy,
        "max_orders": max_orders,
        "max_lines": max_lines,
        "totes_per_cart": totes_per_cart,
        "tote_volume_l": tote_volume_l,
        "cart_volume_l": cart_volume_l,
    }
    times, errors = schedule_errors(name=name, release_times=release_times, **params)
    if errors:
        raise ScheduleError(errors)
    name = name.strip()
    if WaveSchedule.objects.filter(warehouse=warehouse, name=name).exclude(pk=schedule_id).exists():
        raise ScheduleError({"name": f"warehouse {warehouse.code} already has a schedule named {name}"})
    now = timezone.now()
    values = {
        **params,
        "name": name,
        "release_times": times,
        "tote_volume_l": Decimal(str(tote_volume_l)),
        "cart_volume_l": None if cart_volume_l is None else Decimal(str(cart_volume_l)),
        "enabled": enabled,
    }
    try:
        with transaction.atomic():
            if schedule_id is None:
                return WaveSchedule.objects.create(warehouse=warehouse, last_released_at=now, **values)
            schedule = locks.schedule_lock(schedule_id=schedule_id, warehouse=warehouse)
            if schedule is None:
                raise PickingError("no such schedule", field=None, code="not_found", status=404)
            restart = sorted(schedule.release_times or []) != times or (enabled and not schedule.enabled)
            for key, value in values.items():
                setattr(schedule, key, value)
            fields = list(values)
            if restart:
                schedule.last_released_at = now
                fields.append("last_released_at")
            schedule.save(update_fields=fields)
            return schedule
    except IntegrityError:
        # Another request took the name between the check and the write.
        raise ScheduleError({"name": f"warehouse {warehouse.code} already has a schedule named {name}"}) from None


@transaction.atomic
def wave_schedule_set_enabled(*, schedule_id, enabled: bool) -> WaveSchedule | None:
    """Switch a schedule on or off (compare-and-set; a repeat changes nothing). Switched on, it
    releases from the next time to come. None when there is no such schedule."""
    query = WaveSchedule.objects.filter(pk=schedule_id)
    changes = {"enabled": enabled}
    if enabled:
        changes["last_released_at"] = timezone.now()
    query.filter(enabled=not enabled).update(**changes)
    return query.select_related("warehouse").first()


@transaction.atomic
def schedule_release(*, schedule_id, now: datetime | None = None) -> list[Wave]:
    """Release one wave for each of the schedule's release times due (see
    selectors_waves.due_release_times); the waves released.

    Each time is claimed by a compare-and-set of ``last_released_at``: a second beat at the same
    moment waits for this transaction's row lock, then finds the value changed and does nothing.
    A time with no allocated order waiting is used up all the same.
    """
    now = now or timezone.now()
    schedule = WaveSchedule.objects.select_related("warehouse").filter(pk=schedule_id, enabled=True).first()
    if schedule is None:
        return []
    try:
        params = wave_params(**{name: getattr(schedule, name) for name in PARAM_FIELDS})
    except PickingError:
        logger.error("wave schedule %s has caps that cannot work; it releases nothing until fixed", schedule.pk)
        return []
    waves: list[Wave] = []
    last = schedule.last_released_at
    for moment in selectors.due_release_times(schedule, now=now):
        claimed = WaveSchedule.objects.filter(pk=schedule.pk, enabled=True, last_released_at=last)
        if not claimed.update(last_released_at=moment):
            break  # another beat released it
        last = moment
        release = _release(schedule.warehouse, params, actor=f"schedule {schedule.name}", schedule_id=schedule.pk)
        if release.wave is not None:
            waves.append(release.wave)
    return waves


def schedules_release_due(*, now: datetime | None = None) -> int:
    """Every enabled schedule releases what is due (each in its own transaction, so that one
    failing does not hold back the others); the number of waves released."""
    now = now or timezone.now()
    released = 0
    for schedule_id in WaveSchedule.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True):
        try:
            released += len(schedule_release(schedule_id=schedule_id, now=now))
        except Exception:  # logged; the time stays due and the next beat tries again
            logger.exception("scheduled wave release of schedule %s failed", schedule_id)
    return released
