"""Pick rates and pick accuracy per associate, from the scans and the confirmed pick tasks.

Every figure is computed by the database with aggregate queries (no loop over scans in Python), so a
day of 100,000 scans costs a handful of grouped queries; the scans are found through their
``created_at`` index and the tasks through the scans of the period.

Definitions (the page's legend says the same in words):

- **Period**: whole local days of the warehouse (``Warehouse.timezone``): ``start`` 00:00 up to the
  midnight that ends ``end``, converted to UTC, so that a pick at 23:30 in Toronto belongs to that
  Toronto day even though it is the next day in UTC.
- **Associate**: the actor label written on the scans (``PickScan.actor``) and on the tasks they
  confirmed (``PickTask.picked_by``); for staff it is their username.
- **Lines**: pick tasks confirmed by the associate in the period: status ``picked`` or ``short``,
  ``picked_by`` the associate, ``picked_at`` in the period. A short pick is a confirmed line too.
- **Units**: the sum of ``picked_quantity`` over those lines (a short line counts what was found).
- **Short lines**: those of the lines whose status is ``short``.
- **Active time**: from the associate's scans in the period (accepted or refused, all kinds), in
  time order: the sum of the gaps between consecutive scans, each gap capped at
  ``IDLE_GAP_CAP_SECONDS`` (5 minutes). A break or a lunch therefore adds at most 5 minutes; the time
  before the first scan of the period is not counted, and one scan alone is no active time.
- **Lines per hour, units per hour**: lines (units) divided by active time in hours; none when
  there is no active time.
- **Accuracy**: the share of the lines on which the associate made no mis-scan in the period: no
  refused scan of theirs on that task for a wrong location, product, lot or tote, or too many units
  (``PICKER_ERRORS``). Another associate's refusals on the same task do not count against the one
  who confirmed it; prompts (a step out of order, an unreadable label) and refusals because the
  list moved on are not mis-scans. None when there are no lines.
- **Refused scans**: the associate's refused scans in the period, in all and by ``error_code``.
- **Per hour**: lines confirmed in each local hour of the day (``picked_at`` in the warehouse's time
  zone), with their units and the number of associates who confirmed them.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import reduce
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.models import Count, F, FloatField, Func, Q, Sum, Value, Window
from django.db.models.functions import Coalesce, ExtractHour, Lag, Least
from django.utils import timezone

from inventory.models import Warehouse
from inventory.selectors import warehouses_for
from picking.models import CONFIRMED_STATUSES, PickScan, PickTask, TaskStatus

IDLE_GAP_CAP_SECONDS = 300
IDLE_GAP_CAP_MINUTES = IDLE_GAP_CAP_SECONDS // 60
# Refusals that are a picker's mistake (the error codes of picking.services.scans and pick_confirm).
# The others are prompts or the list moving on: a step out of order ("location_first",
# "product_first", "tote_required"), a label without its lot ("lot_required"), an unreadable
# barcode ("invalid_scan"), another device or a cancelled order ("stale_task", "order_not_picking",
# "assigned_elsewhere", "list_done"); they are listed with the refused scans but keep accuracy.
PICKER_ERRORS = frozenset({"wrong_location", "wrong_product", "wrong_lot", "wrong_tote", "over_count"})


@dataclass
class AssociateFigures:
    """One associate's picking in one warehouse over the period (see the module docstring)."""

    warehouse_code: str
    associate: str
    lines: int = 0
    units: int = 0
    short_lines: int = 0
    lines_with_refusal: int = 0
    scans: int = 0
    refused_scans: int = 0
    active_seconds: int = 0
    first_scan_at: datetime | None = None
    last_scan_at: datetime | None = None
    refused_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def refusals(self) -> list[tuple[str, int]]:
        """(error code, refused scans), by code."""
        return sorted(self.refused_by_reason.items())

    @property
    def accurate_lines(self) -> int:
        return self.lines - self.lines_with_refusal

    @property
    def active_hours(self) -> float:
        return self.active_seconds / 3600

    @property
    def lines_per_hour(self) -> float | None:
        return round(self.lines / self.active_hours, 1) if self.active_seconds else None

    @property
    def units_per_hour(self) -> float | None:
        return round(self.units / self.active_hours, 1) if self.active_seconds else None

    @property
    def accuracy_percent(self) -> float | None:
        return round(100 * self.accurate_lines / self.lines, 1) if self.lines else None

    @property
    def active_display(self) -> str:
        minutes = round(self.active_seconds / 60)
        return f"{minutes // 60} h {minutes % 60:02d} min"


@dataclass(frozen=True)
class HourFigures:
    hour: int  # 0-23, the warehouse's local time
    lines: int
    units: int
    associates: int


@dataclass
class Performance:
    warehouse: Warehouse
    start: date
    end: date
    period_start: datetime  # UTC
    period_end: datetime  # UTC, excluded
    rows: list[AssociateFigures]
    totals: AssociateFigures
    hours: list[HourFigures]


def local_today(warehouse: Warehouse, *, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(ZoneInfo(warehouse.timezone)).date()


def period_bounds(warehouse: Warehouse, start: date, end: date) -> tuple[datetime, datetime]:
    """UTC instants of local midnight starting ``start`` and local midnight ending ``end``."""
    zone = ZoneInfo(warehouse.timezone)
    begin = datetime.combine(start, time.min, tzinfo=zone).astimezone(UTC)
    finish = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return begin, finish


class _SecondsBetween(Func):
    """``a - b`` in seconds (a float)."""

    arity = 2
    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))", arg_joiner=" - ", **extra
        )


Windows = list[tuple[list[Warehouse], datetime, datetime]]  # warehouses sharing one UTC period


def _period_q(prefix: str, windows: Windows, *, slack: timedelta = timedelta(0)) -> Q:
    """Rows of the given warehouses whose ``prefix`` timestamp falls in that warehouse's period
    (widened by ``slack`` on both sides)."""
    return reduce(
        operator.or_,
        (
            Q(
                **{
                    "pick_list__warehouse_id__in": [w.pk for w in warehouses],
                    f"{prefix}__gte": begin - slack,
                    f"{prefix}__lt": finish + slack,
                }
            )
            for warehouses, begin, finish in windows
        ),
    )


def _scan_activity(scans) -> list[tuple]:
    """(warehouse_id, actor, scans, refused, active seconds, first, last) per associate, in one query.

    The gaps come from a window function (LAG over each associate's scans in time order); summing
    them needs an outer GROUP BY around it, which the ORM cannot express, hence the raw wrapper
    around the ORM-built inner query (its parameters are the ORM's own).
    """
    gap = _SecondsBetween(F("created_at"), F("previous_at"))
    inner = (
        scans.order_by()
        .annotate(
            previous_at=Window(
                Lag("created_at"),
                partition_by=[F("pick_list__warehouse_id"), F("actor")],
                # Scans at the same instant may come in any order: the sum of the gaps is the same.
                order_by=[F("created_at").asc()],
            )
        )
        .annotate(
            wh=F("pick_list__warehouse_id"),
            who=F("actor"),
            at=F("created_at"),
            ok=F("accepted"),
            gap=Least(Coalesce(gap, Value(0.0)), Value(float(IDLE_GAP_CAP_SECONDS)), output_field=FloatField()),
        )
        .values("wh", "who", "at", "ok", "gap")
    )
    sql, params = inner.query.get_compiler(using=inner.db).as_sql()
    # Only the ORM's compiled SQL is interpolated; every value stays a bound parameter.
    columns = "s.wh, s.who, COUNT(*), SUM(CASE WHEN s.ok THEN 0 ELSE 1 END), SUM(s.gap), MIN(s.at), MAX(s.at)"
    outer = f"SELECT {columns} FROM ({sql}) s GROUP BY s.wh, s.who"  # noqa: S608
    with connections[inner.db].cursor() as cursor:
        cursor.execute(outer, params)
        return cursor.fetchall()


def _figures(*, actor, windows: Windows, reasons: bool) -> list[AssociateFigures]:
    """Every associate's figures in the given (warehouses, UTC start, UTC end) windows."""
    # The same rule as PickList.objects.visible_to(actor), applied to the warehouse ids so that the
    # period's scans are found through their created_at index rather than through every pick list
    # the warehouse ever had.
    visible = warehouses_for(actor).values("pk")
    scans = PickScan.objects.filter(_period_q("created_at", windows), pick_list__warehouse__in=visible).exclude(
        actor=""
    )
    lines = (
        PickTask.objects.filter(
            _period_q("picked_at", windows),
            pick_list__warehouse__in=visible,
            status__in=CONFIRMED_STATUSES,
            # A confirmation is itself a scan: this keeps the tasks read to those scanned in the
            # period (an index range) instead of every task the warehouse ever had. The minute of
            # slack keeps a confirmation whose scan row is written just after midnight.
            pk__in=PickScan.objects.filter(_period_q("created_at", windows, slack=timedelta(minutes=1)))
            .filter(task_id__isnull=False)
            .values("task_id"),
        )
        .exclude(picked_by="")
        .values(wh=F("pick_list__warehouse_id"), who=F("picked_by"))
        .annotate(
            n=Count("pk"),
            units=Coalesce(Sum("picked_quantity"), 0),
            short=Count("pk", filter=Q(status=TaskStatus.SHORT)),
        )
        .order_by()
    )
    # Lines with a picker's error, found from the period's refused scans (a few per cent of them)
    # rather than by probing every line's scans.
    lines_with_refusal = (
        scans.filter(_period_q("task__picked_at", windows), accepted=False, task__status__in=CONFIRMED_STATUSES)
        .filter(task__picked_by=F("actor"))
        .filter(error_code__in=PICKER_ERRORS)
        .values(wh=F("pick_list__warehouse_id"), who=F("actor"))
        .annotate(n=Count("task_id", distinct=True))
        .order_by()
    )
    codes = {w.pk: w.code for warehouses, _begin, _finish in windows for w in warehouses}
    rows: dict[tuple, AssociateFigures] = {}

    def row(wh, who) -> AssociateFigures:
        if (wh, who) not in rows:
            rows[(wh, who)] = AssociateFigures(warehouse_code=codes.get(wh, ""), associate=who)
        return rows[(wh, who)]

    for r in lines:
        figures = row(r["wh"], r["who"])
        figures.lines, figures.units, figures.short_lines = r["n"], r["units"], r["short"]
    for r in lines_with_refusal:
        row(r["wh"], r["who"]).lines_with_refusal = r["n"]
    for wh, who, n, refused, active, first, last in _scan_activity(scans):
        figures = row(wh, who)
        figures.scans, figures.refused_scans, figures.active_seconds = n, refused, round(active or 0)
        figures.first_scan_at, figures.last_scan_at = first, last
    if reasons:
        by_reason = (
            scans.filter(accepted=False)
            .values(wh=F("pick_list__warehouse_id"), who=F("actor"), reason=F("error_code"))
            .annotate(n=Count("pk"))
            .order_by()
        )
        for r in by_reason:
            row(r["wh"], r["who"]).refused_by_reason[r["reason"] or "refused"] = r["n"]
    return sorted(rows.values(), key=lambda f: (f.warehouse_code, -f.lines, f.associate))


def _totals(rows: list[AssociateFigures], *, warehouse_code: str) -> AssociateFigures:
    totals = AssociateFigures(warehouse_code=warehouse_code, associate="")
    for r in rows:
        totals.lines += r.lines
        totals.units += r.units
        totals.short_lines += r.short_lines
        totals.lines_with_refusal += r.lines_with_refusal
        totals.scans += r.scans
        totals.refused_scans += r.refused_scans
        totals.active_seconds += r.active_seconds
        for reason, n in r.refused_by_reason.items():
            totals.refused_by_reason[reason] = totals.refused_by_reason.get(reason, 0) + n
    return totals


def _own_rows_only(actor, rows: list[AssociateFigures]) -> list[AssociateFigures]:
    """Managers see every associate; an associate sees only their own row (the team totals stay)."""
    if actor is not None and actor.is_manager:
        return rows
    label = getattr(actor, "label", None)
    return [r for r in rows if r.associate == label]


def picking_performance(*, actor, warehouse: Warehouse, start: date, end: date | None = None) -> Performance:
    """The per-associate figures, warehouse totals and lines per local hour for local days
    ``start`` to ``end`` (inclusive; default: ``start`` alone) of a warehouse the actor works in.

    A warehouse the actor does not see gives no rows (the page answers 404 before asking).
    Totals cover every associate, also when an associate (not a manager) sees only their own row.
    """
    end = end or start
    if end < start:
        raise ValueError("the period ends before it starts")
    begin, finish = period_bounds(warehouse, start, end)
    windows = [([warehouse], begin, finish)]
    every_row = _figures(actor=actor, windows=windows, reasons=True)
    totals = _totals(every_row, warehouse_code=warehouse.code)
    hours = (
        PickTask.objects.filter(
            _period_q("picked_at", windows),
            pick_list__warehouse__in=warehouses_for(actor).values("pk"),
            status__in=CONFIRMED_STATUSES,
        )
        .exclude(picked_by="")
        .annotate(hour=ExtractHour("picked_at", tzinfo=ZoneInfo(warehouse.timezone)))
        .values("hour")
        .annotate(n=Count("pk"), units=Coalesce(Sum("picked_quantity"), 0), who=Count("picked_by", distinct=True))
        .order_by("hour")
    )
    return Performance(
        warehouse=warehouse,
        start=start,
        end=end,
        period_start=begin,
        period_end=finish,
        rows=_own_rows_only(actor, every_row),
        totals=totals,
        hours=[HourFigures(hour=h["hour"], lines=h["n"], units=h["units"], associates=h["who"]) for h in hours],
    )


def picking_today(*, actor, warehouses: list[Warehouse], now: datetime | None = None) -> list[AssociateFigures]:
    """Today's figures per associate in each of ``warehouses``, today being each warehouse's own local
    date; refused scans are counted but not split by reason. The dashboard card: three queries
    (confirmed lines, lines with a refusal, scan activity) however many warehouses; none without one.
    """
    if not warehouses:
        return []
    now = now or timezone.now()
    by_day: dict[tuple, list] = {}
    for warehouse in warehouses:
        today = local_today(warehouse, now=now)
        by_day.setdefault(period_bounds(warehouse, today, today), []).append(warehouse)
    windows = [(ids, begin, finish) for (begin, finish), ids in by_day.items()]
    return _own_rows_only(actor, _figures(actor=actor, windows=windows, reasons=False))
