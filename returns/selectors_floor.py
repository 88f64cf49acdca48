"""Reads of the warehouse floor's return work: what a handheld scan finds, what a parcel of a
return may still hold, and the manager's returns page (expected, received today, awaiting the
rest, unexpected units, receipts per day). Every read takes the staff actor: an associate sees the
returns of the warehouses they work in, and another warehouse's return reads as not found."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, F, OuterRef, Q, Sum, Value
from django.db.models.functions import Length, TruncDate, Upper
from django.utils import timezone

from fulfillment.tenancy.models import Tenant
from inventory import services as inventory
from inventory.models import StockBalance, Warehouse
from orders.models import Order
from picking.selectors_performance import local_today, period_bounds
from returns.models import (
    AWAITED,
    Grade,
    Return,
    ReturnLabel,
    ReturnLine,
    ReturnPhoto,
    ReturnReceipt,
    ReturnStatus,
    UnexpectedReturn,
)

# A tracking number is matched at the end of a longer barcode too (USPS prints 420 + ZIP first).
MIN_TRACKING_SUFFIX = 8


def _outstanding():
    return Exists(ReturnLine.objects.filter(rma=OuterRef("pk"), received_quantity__lt=F("quantity")))


def receivable_returns(*, actor):
    """Returns of the actor's warehouses that a parcel may still come in for."""
    return (
        Return.objects.visible_to(actor)
        .alias(pending=_outstanding())
        .filter(Q(status__in=AWAITED) | Q(status=ReturnStatus.RECEIVED, pending=True))
    )


def _receivable_ids(actor, ids) -> set:
    return set(receivable_returns(actor=actor).filter(pk__in=ids).values_list("pk", flat=True))


@dataclass(frozen=True)
class ScanMatch:
    code: str
    receivable: list[Return]  # what the scan names and may be received now
    closed: list[Return]  # what it names but expects nothing more (received in full, refunded...)

    @property
    def found(self) -> bool:
        return bool(self.receivable or self.closed)


def returns_for_scan(*, actor, code: str) -> ScanMatch:
    """The returns a scan names, among the actor's warehouses: a return label's tracking number (also
    at the end of a longer carrier barcode), an RMA number, or an order's number or the merchant's
    order id (an order may have several returns)."""
    code = (code or "").strip()
    if " " in code and len(code.replace(" ", "")) > MIN_TRACKING_SUFFIX:  # a tracking number typed in groups
        code = code.replace(" ", "")
    if not code:
        return ScanMatch(code, [], [])
    visible = Return.objects.visible_to(actor)
    labels = ReturnLabel.objects.visible_to(actor)
    by_label = labels.filter(tracking_number__iexact=code).values("rma_id")
    if len(code) > MIN_TRACKING_SUFFIX:
        by_label = (
            labels.annotate(scan=Value(code.upper()), size=Length("tracking_number"))
            .filter(
                Q(tracking_number__iexact=code)
                | Q(scan__endswith=Upper("tracking_number"), size__gte=MIN_TRACKING_SUFFIX)
            )
            .values("rma_id")
        )
    orders = Order.objects.filter(Q(number__iexact=code) | Q(external_id=code)).values("pk")
    found = list(
        visible.filter(Q(pk__in=by_label) | Q(number__iexact=code) | Q(order_id__in=orders))
        .select_related("order", "tenant", "warehouse")
        .order_by("created_at", "number")
    )
    open_ids = _receivable_ids(actor, [r.pk for r in found])
    return ScanMatch(
        code,
        [r for r in found if r.pk in open_ids],
        [r for r in found if r.pk not in open_ids],
    )


@dataclass(frozen=True)
class LineToReceive:
    line: ReturnLine
    outstanding: int
    suggested: str  # the location restocked units would go to ("" when none is free)
    photos: list[int] = field(default_factory=list)  # ids of the shopper's pictures of this line


@dataclass(frozen=True)
class ReturnToReceive:
    rma: Return
    lines: list[LineToReceive]
    tracking_number: str
    receivable: bool

    @property
    def outstanding(self) -> int:
        return sum(line.outstanding for line in self.lines)


def return_to_receive(*, actor, return_id) -> ReturnToReceive | None:
    """A return of the actor's warehouses with, per line, the units still expected and where restocked
    units would go; None when the actor may not see it (or it does not exist)."""
    rma = Return.objects.visible_to(actor).filter(pk=return_id).select_related("order", "tenant", "warehouse").first()
    if rma is None:
        return None
    photos: dict[int, list[int]] = {}
    for photo_id, line_id in ReturnPhoto.objects.filter(rma=rma).order_by("pk").values_list("pk", "line_id"):
        photos.setdefault(line_id, []).append(photo_id)
    lines = []
    for line in rma.lines.select_related("product").order_by("pk"):
        outstanding = line.quantity - line.received_quantity
        suggested = ""
        if outstanding:
            try:
                suggested = inventory.restock_location(
                    tenant_id=rma.tenant_id, product_id=line.product_id, warehouse_id=rma.warehouse_id
                ).code
            except inventory.InventoryError:
                suggested = ""
        lines.append(
            LineToReceive(line=line, outstanding=outstanding, suggested=suggested, photos=photos.get(line.pk, []))
        )
    label = ReturnLabel.objects.filter(rma=rma).values_list("tracking_number", flat=True).first()
    return ReturnToReceive(
        rma=rma, lines=lines, tracking_number=label or "", receivable=bool(_receivable_ids(actor, [rma.pk]))
    )


def warehouse_tenants(*, warehouses: list[Warehouse]):
    """The merchants the warehouses serve (by default, with orders there or stock there): whom an
    unexplained parcel may belong to."""
    return Tenant.objects.filter(
        Q(default_warehouse_code__in=[w.code for w in warehouses])
        | Exists(Order.objects.filter(tenant=OuterRef("pk"), warehouse__in=warehouses))
        | Exists(StockBalance.objects.filter(tenant=OuterRef("pk"), location__warehouse__in=warehouses))
    ).order_by("name")


# -- the manager's page --------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    rma: Return
    units: int
    tracking_number: str
    tracking_status: str
    age_days: int


@dataclass(frozen=True)
class ReceivedToday:
    rma: Return
    units: int
    grades: list[tuple[str, int]]
    outstanding: int


@dataclass(frozen=True)
class Awaiting:
    rma: Return
    received: int
    outstanding: int
    first_received_at: datetime | None


@dataclass(frozen=True)
class DayBar:
    day: date
    by_grade: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_grade.values())


@dataclass
class ReturnsFloor:
    warehouse: Warehouse
    today: date
    expected: list[Expected] = field(default_factory=list)
    received_today: list[ReceivedToday] = field(default_factory=list)
    awaiting: list[Awaiting] = field(default_factory=list)
    unexpected: list[UnexpectedReturn] = field(default_factory=list)
    days: list[DayBar] = field(default_factory=list)

    @property
    def units_today(self) -> int:
        return sum(r.units for r in self.received_today)


CHART_DAYS = 14
LIST_SIZE = 200


def returns_floor(*, actor, warehouse: Warehouse, now: datetime | None = None) -> ReturnsFloor:
    """One warehouse's returns as its manager sees them, by the warehouse's local day."""
    now = now or timezone.now()
    today = local_today(warehouse, now=now)
    start, end = period_bounds(warehouse, today, today)
    returns = Return.objects.visible_to(actor).filter(warehouse=warehouse).select_related("order", "tenant")
    floor = ReturnsFloor(warehouse=warehouse, today=today)

    expected = list(returns.filter(status__in=AWAITED).annotate(units=Sum("lines__quantity")).order_by("created_at"))
    labels = {
        label.rma_id: label for label in ReturnLabel.objects.filter(rma_id__in=[r.pk for r in expected[:LIST_SIZE]])
    }
    for rma in expected[:LIST_SIZE]:
        label = labels.get(rma.pk)
        floor.expected.append(
            Expected(
                rma=rma,
                units=rma.units or 0,
                tracking_number=label.tracking_number if label else "",
                tracking_status=(label.tracking_status or label.status) if label else "",
                age_days=(today - local_today(warehouse, now=rma.created_at)).days,
            )
        )

    receipts = ReturnReceipt.objects.filter(rma__in=returns, received_at__gte=start, received_at__lt=end)
    per_rma: dict = {}
    for rma_id, grade, quantity in receipts.values_list("rma_id", "grade", "quantity").order_by("received_at"):
        per_rma.setdefault(rma_id, {}).setdefault(grade, 0)
        per_rma[rma_id][grade] += quantity
    outstanding = {
        row["rma_id"]: row["left"]
        for row in ReturnLine.objects.filter(rma_id__in=list(per_rma))
        .values("rma_id")
        .annotate(left=Sum(F("quantity") - F("received_quantity")))
    }
    for rma in returns.filter(pk__in=list(per_rma)).order_by("number"):
        grades = per_rma[rma.pk]
        floor.received_today.append(
            ReceivedToday(
                rma=rma,
                units=sum(grades.values()),
                grades=[(g, grades[g]) for g in Grade.values if g in grades],
                outstanding=outstanding.get(rma.pk, 0),
            )
        )

    awaiting = (
        returns.filter(status=ReturnStatus.RECEIVED)
        .annotate(
            received=Sum("lines__received_quantity"), left=Sum(F("lines__quantity") - F("lines__received_quantity"))
        )
        .filter(left__gt=0)
        .order_by("received_at")
    )
    floor.awaiting = [
        Awaiting(rma=r, received=r.received or 0, outstanding=r.left or 0, first_received_at=r.received_at)
        for r in awaiting[:LIST_SIZE]
    ]

    floor.unexpected = list(
        UnexpectedReturn.objects.visible_to(actor)
        .filter(warehouse=warehouse, resolved_at__isnull=True)
        .select_related("rma", "tenant", "product", "location")
        .order_by("received_at", "pk")[:LIST_SIZE]
    )

    first = today - timedelta(days=CHART_DAYS - 1)
    chart_start, _ = period_bounds(warehouse, first, today)
    by_day: dict[date, dict[str, int]] = {first + timedelta(days=i): {} for i in range(CHART_DAYS)}
    rows = (
        ReturnReceipt.objects.filter(rma__in=returns, received_at__gte=chart_start, received_at__lt=end)
        .annotate(day=TruncDate("received_at", tzinfo=ZoneInfo(warehouse.timezone)))
        .values("day", "grade")
        .annotate(units=Sum("quantity"))
    )
    for row in rows:
        if row["day"] in by_day:
            by_day[row["day"]][row["grade"]] = row["units"]
    floor.days = [DayBar(day=d, by_grade=g) for d, g in sorted(by_day.items())]
    return floor
