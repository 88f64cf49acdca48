"""Reads of the merchant portal's returns pages: the list with its counts and the chart of return
reasons by SKU, one return with everything its page shows, and what an order can still return.

Every read starts from ``visible_to(actor)`` with the signed-in merchant's actor: another tenant's
return or order reads exactly like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from orders.models import Order, OrderEvent, OrderLine
from returns.models import RETURNABLE, Return, ReturnLine, ReturnPhoto, ReturnReceipt, ReturnRefund, ReturnStatus
from returns.selectors import requested_by_line

CHART_DAYS = 90
CHART_TOP_SKUS = 8


def returns_for_portal(*, actor, statuses=(), q: str = "") -> QuerySet[Return]:
    """The merchant's returns, newest first, each with ``order_number``, ``units`` (units asked
    for), ``reasons`` (distinct, sorted) and the refund (``refund_status``, ``refund_amount``,
    ``refund_amount_due``, ``refund_currency``; None without one) in the same query.

    ``statuses`` narrows to those statuses; ``q`` finds an RMA number or an order number (or the
    order's external id), case-insensitively, in part."""
    qs = Return.objects.visible_to(actor)
    if statuses:
        qs = qs.filter(status__in=list(statuses))
    term = (q or "").strip()
    if term:
        qs = qs.filter(
            Q(number__icontains=term) | Q(order__number__icontains=term) | Q(order__external_id__icontains=term)
        )
    # Units and reasons per return as subqueries: no GROUP BY over the joined order and refund.
    lines = ReturnLine.objects.filter(rma=OuterRef("pk")).order_by().values("rma")
    return qs.annotate(
        order_number=Subquery(Order.objects.filter(pk=OuterRef("order_id")).values("number")[:1]),
        units=Coalesce(Subquery(lines.annotate(n=Sum("quantity")).values("n")[:1]), 0, output_field=IntegerField()),
        reasons=Subquery(lines.annotate(r=ArrayAgg("reason", distinct=True, order_by="reason")).values("r")[:1]),
        refund_status=Subquery(_refund_field("status")),
        refund_amount=Subquery(_refund_field("amount")),
        refund_amount_due=Subquery(_refund_field("amount_due")),
        refund_currency=Subquery(_refund_field("currency")),
    ).order_by("-created_at", "-id")


def _refund_field(name: str):
    return ReturnRefund.objects.filter(rma=OuterRef("pk")).values(name)[:1]


def return_status_counts(*, actor) -> dict[str, int]:
    """{status: returns} for every status (zero included), in the statuses' order: one GROUP BY."""
    found = dict(
        Return.objects.visible_to(actor).order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return {status: found.get(status, 0) for status in ReturnStatus.values}


@dataclass(frozen=True)
class SkuReasons:
    sku: str
    units: int
    reasons: list[tuple[str, int]]  # (reason, units), most units first


def return_reasons_by_sku(
    *, actor, now: datetime | None = None, days: int = CHART_DAYS, top: int = CHART_TOP_SKUS
) -> list[SkuReasons]:
    """The ``top`` SKUs by units asked back in returns opened in the last ``days`` days, each with
    its units per reason. One statement: units grouped by (SKU, reason), kept to the SKUs a
    grouped subquery ranks first (most units, then SKU)."""
    since = (now or timezone.now()) - timedelta(days=days)
    recent = ReturnLine.objects.visible_to(actor).filter(rma__created_at__gte=since)
    top_skus = recent.order_by().values("sku").annotate(total=Sum("quantity")).order_by("-total", "sku").values("sku")
    rows = (
        recent.filter(sku__in=Subquery(top_skus[:top]))
        .order_by()
        .values("sku", "reason")
        .annotate(units=Sum("quantity"))
        .values_list("sku", "reason", "units")
    )
    per_sku: dict[str, list[tuple[str, int]]] = {}
    for sku, reason, units in rows:
        per_sku.setdefault(sku, []).append((reason, units))
    found = [
        SkuReasons(sku=sku, units=sum(u for _, u in reasons), reasons=sorted(reasons, key=lambda r: (-r[1], r[0])))
        for sku, reasons in per_sku.items()
    ]
    return sorted(found, key=lambda s: (-s.units, s.sku))


def return_for_portal(*, actor, return_id) -> Return | None:
    """One of the merchant's returns with its order, exchange order, label and refund (the label's
    PDF and the photos' bytes left in the database), its lines with their receipts and photos."""
    return (
        Return.objects.visible_to(actor)
        .select_related("order", "exchange_order", "label", "refund", "warehouse")
        .defer("label__label", "label__events")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ReturnLine.objects.order_by("pk").prefetch_related(
                    Prefetch("receipts", queryset=ReturnReceipt.objects.select_related("location")),
                    Prefetch("photos", queryset=ReturnPhoto.objects.defer("content")),
                ),
            )
        )
        .filter(pk=return_id)
        .first()
    )


def return_history(*, rma: Return) -> list[OrderEvent]:
    """The order timeline's entries about this return (requested, received, refunded...), oldest first."""
    return list(OrderEvent.objects.filter(order_id=rma.order_id, data__return=str(rma.pk)).order_by("created_at", "id"))


@dataclass(frozen=True)
class ReturnableLine:
    line: OrderLine
    shipped: int
    requested: int

    @property
    def returnable(self) -> int:
        return max(self.shipped - self.requested, 0)


def returnable_order(*, actor, order_id) -> Order | None:
    """One of the merchant's orders (any status), or None."""
    return Order.objects.visible_to(actor).filter(pk=order_id).first()


def returnable_lines(*, order: Order) -> list[ReturnableLine]:
    """The order's lines with units shipped and already asked back by returns (two queries)."""
    requested = requested_by_line(order_id=order.pk)
    lines = OrderLine.objects.filter(order=order).order_by("pk")
    return [
        ReturnableLine(line=line, shipped=line.shipped_quantity, requested=requested.get(line.pk, 0)) for line in lines
    ]


def returnable_orders(*, actor, q: str, limit: int = 20) -> list[Order]:
    """The merchant's shipped or delivered orders whose number or external id contains ``q``."""
    term = (q or "").strip()
    if not term:
        return []
    return list(
        Order.objects.visible_to(actor)
        .filter(status__in=RETURNABLE)
        .filter(Q(number__icontains=term) | Q(external_id__icontains=term))
        .only("id", "number", "external_id", "status", "created_at")
        .order_by("-created_at", "-id")[:limit]
    )
