"""Reads of orders that are more than a one-line queryset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    TextField,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from inventory.models import Warehouse
from orders.models import HoldReason, Order, OrderAllocation, OrderEvent, OrderLine, Status


def backordered_by_product(*, actor, products) -> dict[tuple, int]:
    """{(product_id, warehouse_id): units waiting for stock} over the actor's backordered orders."""
    orders = Order.objects.visible_to(actor).filter(status__in=[Status.BACKORDERED, Status.PICKING])
    rows = (
        OrderLine.objects.filter(order__in=orders, product__in=products, backordered_quantity__gt=0)
        .values("product_id", warehouse_id=F("order__warehouse_id"))
        .annotate(quantity=Sum("backordered_quantity"))
    )
    return {(row["product_id"], row["warehouse_id"]): row["quantity"] for row in rows}


def warehouse_codes() -> dict:
    return dict(Warehouse.objects.values_list("pk", "code"))


# -- manager pages: the order queue, one order, the exceptions ---------------------------------

OPEN_STATUSES = (
    Status.RECEIVED,
    Status.ON_HOLD,
    Status.BACKORDERED,
    Status.ALLOCATED,
    Status.PICKING,
    Status.PICKED,
    Status.PACKED,
)
QUEUE_ORDER = ("-priority", "ship_by", "created_at", "pk")
BACKORDER_AGE = timedelta(days=1)
EXCEPTION_GROUPS = ("on_hold", "backordered", "late", "short_pick", "exception")


@dataclass(frozen=True)
class QueueFilters:
    status: str = ""
    warehouse_code: str = ""
    tenant_id: object = None
    hold_reason: str = ""
    late: bool = False
    search: str = ""


def _hold_text():
    # hold_reasons is a JSON list of HoldReason values; matching '"reason"' in its text is exact
    # (the values are fixed choices, so a quoted one never matches a part of another).
    return Cast("hold_reasons", TextField())


def _has_hold(reason: str) -> Q:
    return Q(hold_text__contains=f'"{reason}"')


def _late(now) -> ExpressionWrapper:
    return ExpressionWrapper(Q(ship_by__lt=now), output_field=BooleanField())


def order_queue(*, actor, filters: QueueFilters, now=None):
    """Open orders of the actor's warehouses, by priority, ship_by and arrival; ``is_late`` annotated."""
    now = now or timezone.now()
    orders = (
        Order.objects.visible_to(actor)
        .filter(status__in=OPEN_STATUSES)
        .select_related("tenant", "warehouse")
        .annotate(is_late=_late(now))
    )
    if filters.status:
        orders = orders.filter(status=filters.status)
    if filters.warehouse_code:
        orders = orders.filter(warehouse__code=filters.warehouse_code)
    if filters.tenant_id is not None:
        orders = orders.filter(tenant_id=filters.tenant_id)
    if filters.hold_reason:
        orders = orders.annotate(hold_text=_hold_text()).filter(_has_hold(filters.hold_reason))
    if filters.late:
        orders = orders.filter(ship_by__lt=now)
    if filters.search:
        orders = orders.filter(Q(number__icontains=filters.search) | Q(external_id__icontains=filters.search))
    return orders.order_by(*QUEUE_ORDER)


def order_for_manager(*, actor, order_id, now=None) -> Order | None:
    """One order of the actor's warehouses with its lines, allocations, shipments, splits and timeline."""
    now = now or timezone.now()
    return (
        Order.objects.visible_to(actor)
        .filter(pk=order_id)
        .select_related("tenant", "warehouse", "parent")
        .annotate(is_late=_late(now))
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.select_related("product")
                .order_by("pk")
                .prefetch_related(
                    Prefetch(
                        "allocations",
                        queryset=OrderAllocation.objects.select_related("location", "lot").order_by("pk"),
                    )
                ),
            ),
            Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "pk")),
            Prefetch("splits", queryset=Order.objects.order_by("number")),
            # Shipments belong to packing (a later stage): read through the reverse relation, never imported.
            "shipments",
        )
        .first()
    )


def order_for_portal(*, actor, order_id) -> Order | None:
    """One order of the merchant's tenant with its lines, timeline, and its shipments with their
    tracking (state and every scan), all prefetched: a page of any number of scans costs the same
    queries. Shipments and their tracking belong to later stages (packing, shipping): read through
    the reverse relations (``order.shipments``, ``shipment.tracking_state``,
    ``shipment.tracking_events``, scans oldest first), never imported."""
    return (
        Order.objects.visible_to(actor)
        .select_related("warehouse", "parent")
        .prefetch_related(
            "lines",
            "events",
            Prefetch("splits", queryset=Order.objects.only("id", "number", "status", "parent_id").order_by("number")),
            "shipments__tracking_state",
            "shipments__tracking_events",
        )
        .filter(pk=order_id)
        .first()
    )


def order_exceptions(*, actor, now=None, limit: int = 50) -> dict:
    """What needs a human, per group: {"counts": {group: n, "hold:<reason>": n}, "lists": {group: [Order]}}.

    Groups: on_hold; backordered for more than a day; late (open past ship_by); open orders with a
    short pick; shipments in exception (delayed, lost, damaged). One query for every count, one per list
    (``limit`` rows each).
    """
    now = now or timezone.now()
    cutoff = now - BACKORDER_AGE
    visible = Order.objects.visible_to(actor)
    backordered_since = Coalesce(
        Subquery(
            OrderEvent.objects.filter(order_id=OuterRef("pk"), to_status=Status.BACKORDERED)
            .order_by("-created_at")
            .values("created_at")[:1]
        ),
        F("created_at"),
    )
    short_picks = OrderEvent.objects.filter(order_id=OuterRef("pk"), type="short_pick")
    last_short_pick = Subquery(short_picks.order_by("-created_at").values("message")[:1])
    conditions = {
        "on_hold": Q(status=Status.ON_HOLD),
        "backordered": Q(status=Status.BACKORDERED, backordered_since__lt=cutoff),
        "late": Q(status__in=OPEN_STATUSES, ship_by__lt=now),
        "short_pick": Q(status__in=OPEN_STATUSES, has_short_pick=True),
        # Tracking flags the shipment (packing's Shipment, through the reverse relation: one per order);
        # an order the carrier's exception already moved on is in status exception itself.
        "exception": Q(status=Status.EXCEPTION) | Q(status=Status.SHIPPED, shipments__status="exception"),
    }
    candidates = visible.filter(status__in=[*OPEN_STATUSES, Status.SHIPPED, Status.EXCEPTION]).annotate(
        hold_text=_hold_text(),
        backordered_since=backordered_since,
        has_short_pick=Exists(short_picks),
    )
    aggregates = {group: Count("pk", filter=condition) for group, condition in conditions.items()}
    for reason in HoldReason.values:
        aggregates[f"hold:{reason}"] = Count("pk", filter=Q(status=Status.ON_HOLD) & _has_hold(reason))
    counts = candidates.aggregate(**aggregates)
    rows = candidates.select_related("tenant", "warehouse").annotate(
        is_late=_late(now), last_short_pick=last_short_pick
    )
    lists = {
        group: list(rows.filter(condition).order_by(*QUEUE_ORDER)[:limit]) for group, condition in conditions.items()
    }
    return {"counts": counts, "lists": lists, "now": now}
