"""Reads for wave planning and the wave pages: the allocated orders a wave can take (as the
planner's plain records), the waves and their lists with progress, the schedules."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from inventory.models import Location, ZoneKind
from orders.models import Order, OrderAllocation, Status
from picking.models import CONFIRMED_STATUSES, PickList, PickListStatus, PickTask, TaskStatus, Wave, WaveSchedule
from picking.planning import Candidate, Pick, priority_label
from picking.selectors import with_task_progress

_MM3_PER_LITRE = 1_000_000

_PICK_COLUMNS = (
    "pk",
    "line__order_id",
    "tenant_id",
    "line_id",
    "line__product_id",
    "lot_id",
    "location_id",
    "location__code",
    "location__aisle",
    "location__bay",
    "location__zone__code",
    "quantity",
    "picked_quantity",
    "line__product__length_mm",
    "line__product__width_mm",
    "line__product__height_mm",
    "line__order__number",
    "line__order__priority",
    "line__order__ship_by",
    "line__order__created_at",
)


def wave_candidates(*, warehouse_id, order_ids=None, ship_by_until: datetime | None = None) -> list[Candidate]:
    """The warehouse's allocated orders with their open picks, by priority, ship-by and arrival.

    One query over the allocations (with their order, product and location); ``order_ids`` limits
    it to those orders (a release from a preview), ``ship_by_until`` to orders due by then.
    """
    rows = OrderAllocation.objects.filter(
        line__order__warehouse_id=warehouse_id,
        line__order__status=Status.ALLOCATED,
        released=False,
        quantity__gt=F("picked_quantity"),
    )
    if order_ids is not None:
        rows = rows.filter(line__order_id__in=list(order_ids))
    if ship_by_until is not None:
        rows = rows.filter(line__order__ship_by__lte=ship_by_until)
    rows = rows.order_by(
        "-line__order__priority", "line__order__ship_by", "line__order__created_at", "line__order_id", "pk"
    ).values_list(*_PICK_COLUMNS)
    orders: dict = {}
    for (
        pk,
        order_id,
        tenant_id,
        line_id,
        product_id,
        lot_id,
        location_id,
        code,
        aisle,
        bay,
        zone,
        quantity,
        picked,
        length,
        width,
        height,
        number,
        priority,
        ship_by,
        created_at,
    ) in rows.iterator(chunk_size=5000):
        order = orders.get(order_id)
        if order is None:
            order = orders[order_id] = Candidate(
                id=order_id, number=number, priority=priority, ship_by=ship_by, created_at=created_at
            )
        units = quantity - picked
        order.picks.append(
            Pick(
                allocation_id=pk,
                order_id=order_id,
                tenant_id=tenant_id,
                line_id=line_id,
                product_id=product_id,
                lot_id=lot_id,
                location_id=location_id,
                location_code=code,
                aisle=aisle,
                bay=bay,
                zone=zone,
                quantity=units,
                volume_l=units * length * width * height / _MM3_PER_LITRE,
            )
        )
    return list(orders.values())


def storage_zone_count(*, warehouse_id) -> int:
    """Storage zones that hold sellable locations (an empty catch-all STORAGE zone does not count)."""
    return (
        Location.objects.filter(warehouse_id=warehouse_id, is_sellable=True, zone__kind=ZoneKind.STORAGE)
        .values("zone_id")
        .distinct()
        .count()
    )


def waiting_groups(*, warehouse_id, limit: int = 20) -> list[dict]:
    """The cut-off groups of allocated orders waiting for a wave, earliest first, with their orders."""
    rows = (
        Order.objects.filter(warehouse_id=warehouse_id, status=Status.ALLOCATED)
        .values("priority", "ship_by")
        .annotate(orders=Count("id"))
        .order_by("-priority", "ship_by")[:limit]
    )
    return [{**row, "label": priority_label(row["priority"])} for row in rows]


def waiting_count(*, warehouse_id) -> int:
    return Order.objects.filter(warehouse_id=warehouse_id, status=Status.ALLOCATED).count()


# -- waves and their lists -----------------------------------------------------------------------


def _count(model_filter, **conditions) -> Subquery:
    return Coalesce(
        Subquery(
            model_filter.filter(**conditions)
            .order_by()
            .values(next(iter(conditions)))
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def wave_list(*, actor, warehouse_code: str = "", status: str = ""):
    """The actor's waves, newest first, with lists and picks done / total (one subquery each)."""
    lists = PickList.objects.all()
    tasks = PickTask.objects.exclude(status=TaskStatus.CANCELLED)
    waves = Wave.objects.visible_to(actor).select_related("warehouse", "schedule")
    if warehouse_code:
        waves = waves.filter(warehouse__code=warehouse_code)
    if status:
        waves = waves.filter(status=status)
    return waves.annotate(
        lists_total=_count(lists, wave_id=OuterRef("pk")),
        lists_done=_count(lists.filter(status=PickListStatus.DONE), wave_id=OuterRef("pk")),
        picks_total=_count(tasks, pick_list__wave_id=OuterRef("pk")),
        picks_done=_count(tasks.filter(status__in=CONFIRMED_STATUSES), pick_list__wave_id=OuterRef("pk")),
    ).order_by("-created_at", "-pk")


def wave_for_manager(*, actor, wave_id) -> Wave | None:
    return wave_list(actor=actor).filter(pk=wave_id).first()


def wave_pick_lists(*, wave: Wave):
    """The wave's lists in release order with their progress, orders and units."""
    live = ~Q(tasks__status=TaskStatus.CANCELLED)
    return (
        with_task_progress(PickList.objects.filter(wave=wave))
        .select_related("assigned_to")
        .annotate(
            tasks_short=Count("tasks", filter=Q(tasks__status=TaskStatus.SHORT)),
            order_count=Count("tasks__order", distinct=True),
            units=Coalesce(Sum("tasks__quantity", filter=live), 0),
            picked_units=Coalesce(Sum("tasks__picked_quantity"), 0),
        )
        .order_by("created_at", "id")
    )


# -- schedules -----------------------------------------------------------------------------------


def schedules_for(*, actor):
    return WaveSchedule.objects.visible_to(actor).select_related("warehouse").order_by("warehouse__code", "name")


def default_schedule(*, warehouse_id) -> WaveSchedule | None:
    """The warehouse's first enabled schedule, by name: its caps are a new wave's defaults."""
    return WaveSchedule.objects.filter(warehouse_id=warehouse_id, enabled=True).order_by("name").first()


def local_release_times(schedule: WaveSchedule, *, day) -> list[datetime]:
    """The schedule's release times on a local calendar day, as aware datetimes, in order."""
    zone = ZoneInfo(schedule.warehouse.timezone)
    return sorted(
        datetime.combine(day, time.fromisoformat(value), tzinfo=zone) for value in set(schedule.release_times or [])
    )


def due_release_times(schedule: WaveSchedule, *, now: datetime) -> list[datetime]:
    """Today's (warehouse time) release times that have passed and were not released yet.

    A time of an earlier day is never due: after an outage only today's missed times are released.
    """
    today = now.astimezone(ZoneInfo(schedule.warehouse.timezone)).date()
    last = schedule.last_released_at
    return [t for t in local_release_times(schedule, day=today) if t <= now and (last is None or t > last)]


def next_release_time(schedule: WaveSchedule, *, now: datetime) -> datetime | None:
    if not schedule.enabled or not schedule.release_times:
        return None
    today = now.astimezone(ZoneInfo(schedule.warehouse.timezone)).date()
    for day in (today, today + timedelta(days=1)):
        for moment in local_release_times(schedule, day=day):
            if moment > now:
                return moment
    return None
