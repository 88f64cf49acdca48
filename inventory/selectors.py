"""Reads of stock that are more than a one-line queryset."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Case, IntegerField, Q, Sum, Value, When

from inventory.models import InboundLine, InboundShipment, InboundStatus, LocationKind, StockBalance

# Units picked for orders wait in these locations until they ship: counted as allocated.
_COMMITTED_KINDS = [LocationKind.PACKING, LocationKind.SHIPPING]


def stock_levels(*, balances, inbound_lines=None) -> dict[tuple, dict]:
    """{(product_id, warehouse_id): {on_hand, allocated, available, inbound}} for scoped querysets.

    on_hand: units physically in the building (any non-virtual location); allocated: units
    reserved for orders plus units picked and waiting to ship; available: sellable units not
    reserved; inbound: expected on open ASNs and not yet received.
    """
    rows = (
        balances.filter(location__is_virtual=False)
        .values("product_id", "location__warehouse_id")
        .annotate(
            total=Sum("on_hand"),
            reserved=Sum("allocated"),
            committed=Sum(
                Case(When(location__kind__in=_COMMITTED_KINDS, then="on_hand"), default=Value(0)),
                output_field=IntegerField(),
            ),
            sellable=Sum(
                Case(When(location__is_sellable=True, then="on_hand"), default=Value(0)),
                output_field=IntegerField(),
            ),
        )
    )
    levels: dict[tuple, dict] = defaultdict(lambda: {"on_hand": 0, "allocated": 0, "available": 0, "inbound": 0})
    for row in rows:
        level = levels[(row["product_id"], row["location__warehouse_id"])]
        level["on_hand"] = row["total"] or 0
        level["allocated"] = (row["reserved"] or 0) + (row["committed"] or 0)
        level["available"] = (row["sellable"] or 0) - (row["reserved"] or 0)
    if inbound_lines is not None:
        open_lines = inbound_lines.filter(~Q(shipment__status=InboundStatus.RECEIVED))
        for row in open_lines.values("product_id", "shipment__warehouse_id").annotate(
            expected=Sum("quantity"), received=Sum("received_quantity")
        ):
            level = levels[(row["product_id"], row["shipment__warehouse_id"])]
            level["inbound"] = max(0, (row["expected"] or 0) - (row["received"] or 0))
    return levels


def balances_for(actor):
    return StockBalance.objects.visible_to(actor)


def inbound_lines_for(actor):
    return InboundLine.objects.filter(shipment__in=InboundShipment.objects.visible_to(actor))
