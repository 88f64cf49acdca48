"""Reads for adjustments and cycle counts: what a staff member may see, count lines, accuracy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from fulfillment.tenancy.actor import Actor
from inventory.models import (
    Adjustment,
    AdjustmentStatus,
    CountStatus,
    CycleCount,
    StockBalance,
)


def counts_visible_to(actor: Actor | None) -> QuerySet[CycleCount]:
    """Counts are operator rows (one location, every tenant's stock): staff see their warehouses'."""
    if actor is None or not actor.is_staff:
        return CycleCount.objects.none()
    qs = CycleCount.objects.select_related("warehouse", "location")
    if actor.sees_all_warehouses:
        return qs
    return qs.filter(warehouse__staff__id=actor.user_id)


def open_counts(*, actor: Actor) -> QuerySet[CycleCount]:
    """Open counts, those of held locations first: their stock waits for them (counts.location_hold)."""
    return (
        counts_visible_to(actor)
        .filter(status=CountStatus.OPEN)
        .order_by(F("location__held_since").asc(nulls_last=True), "scheduled_for", "location__pick_sequence")
    )


def counts_in_review(*, actor: Actor) -> QuerySet[CycleCount]:
    return (
        counts_visible_to(actor)
        .filter(status=CountStatus.IN_REVIEW)
        .prefetch_related("lines__product", "lines__lot", "lines__tenant")
        .order_by("submitted_at")
    )


def adjustments_pending(*, actor: Actor) -> QuerySet[Adjustment]:
    return (
        Adjustment.objects.visible_to(actor)
        .filter(status=AdjustmentStatus.PENDING_APPROVAL)
        .select_related("tenant", "warehouse", "product", "location", "lot")
        .order_by("created_at")
    )


@dataclass(frozen=True)
class LineView:
    tenant: str
    sku: str
    lot: str | None
    expected_quantity: int | None
    counted_quantity: int | None
    variance: int | None
    posted_quantity: int | None


def count_lines(*, count: CycleCount, actor: Actor) -> list[LineView]:
    """The lines of a count as this actor may see them: the count is blind for associates.

    Before submission a manager sees what the location should hold (the live balances); an
    associate sees nothing expected, ever: only what was counted.
    """
    manager = actor.is_manager
    if count.status == CountStatus.OPEN:
        if not manager:
            return []
        balances = (
            StockBalance.objects.filter(location_id=count.location_id, on_hand__gt=0)
            .select_related("tenant", "product", "lot")
            .order_by("product__sku", "lot__code")
        )
        return [LineView(b.tenant.slug, b.product.sku, b.lot.code, b.on_hand, None, None, None) for b in balances]
    posted = dict(
        Adjustment.objects.filter(count_line__count=count, status=AdjustmentStatus.POSTED)
        .values("count_line_id")
        .annotate(total=Sum("quantity_delta"))
        .values_list("count_line_id", "total")
    )
    lines = count.lines.select_related("tenant", "product", "lot")
    return [
        LineView(
            tenant=line.tenant.slug,
            sku=line.product.sku,
            lot=line.lot.code if line.lot_id else None,
            expected_quantity=line.expected_quantity if manager else None,
            counted_quantity=line.counted_quantity,
            variance=line.variance if manager else None,
            posted_quantity=posted.get(line.pk, 0) if manager else None,
        )
        for line in lines
    ]


@dataclass(frozen=True)
class Accuracy:
    days: int
    locations_counted: int
    locations_without_variance: int
    accuracy_percent: Decimal | None


def inventory_accuracy(*, actor: Actor, days: int = 30, warehouse_id=None, now=None) -> Accuracy:
    """Locations counted without variance / locations counted, over the last ``days`` days.

    A location counted several times in the period is accurate only when none of its counts
    found a variance (a rejected count's recount does not hide the first finding).
    """
    now = now or timezone.now()
    counts = counts_visible_to(actor).filter(submitted_at__gte=now - timedelta(days=days), submitted_at__lte=now)
    if warehouse_id is not None:
        counts = counts.filter(warehouse_id=warehouse_id)
    variance_by_location: dict[int, bool] = {}
    for location_id, has_variance in counts.values_list("location_id", "has_variance"):
        variance_by_location[location_id] = variance_by_location.get(location_id, False) or has_variance
    counted = len(variance_by_location)
    clean = sum(1 for v in variance_by_location.values() if not v)
    percent = (Decimal(clean * 100) / counted).quantize(Decimal("0.1")) if counted else None
    return Accuracy(days, counted, clean, percent)
