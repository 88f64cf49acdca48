"""Reads of stock that are more than a one-line queryset."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db.models import Case, IntegerField, Q, Sum, Value, When

from fulfillment.errors import FieldRefusal
from inventory.models import (
    DemandDay,
    InboundLine,
    InboundStatus,
    LocationKind,
    Product,
    ReorderSuggestion,
    StockBalance,
    StockMovement,
    Warehouse,
)
from inventory.warehouse_rules import ADDRESS_KEYS, ship_from_address, warehouse_address_missing_fields

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
            # Reservations at a location held for a count stay, but neither they nor its units
            # are available: only sellable locations' reservations come off sellable units.
            sellable_reserved=Sum(
                Case(When(location__is_sellable=True, then="allocated"), default=Value(0)),
                output_field=IntegerField(),
            ),
        )
    )
    levels: dict[tuple, dict] = defaultdict(lambda: {"on_hand": 0, "allocated": 0, "available": 0, "inbound": 0})
    for row in rows:
        level = levels[(row["product_id"], row["location__warehouse_id"])]
        level["on_hand"] = row["total"] or 0
        level["allocated"] = (row["reserved"] or 0) + (row["committed"] or 0)
        level["available"] = (row["sellable"] or 0) - (row["sellable_reserved"] or 0)
    if inbound_lines is not None:
        open_lines = inbound_lines.filter(~Q(shipment__status=InboundStatus.RECEIVED))
        for row in open_lines.values("product_id", "shipment__warehouse_id").annotate(
            expected=Sum("quantity"), received=Sum("received_quantity")
        ):
            level = levels[(row["product_id"], row["shipment__warehouse_id"])]
            level["inbound"] = max(0, (row["expected"] or 0) - (row["received"] or 0))
    return levels


def stock_levels_by_lot(*, balances) -> list[dict]:
    """Per (product, warehouse, lot) of scoped balances: on_hand, allocated, available, as in ``stock_levels``.

    The rows of one product and warehouse add up to its ``stock_levels`` row. Each row also has
    sku, lot (code) and expiry_date; sorted by product, warehouse, expiry, receipt date.
    """
    rows = (
        balances.filter(location__is_virtual=False)
        .values(
            "product_id",
            "product__sku",
            "location__warehouse_id",
            "lot_id",
            "lot__code",
            "lot__expiry_date",
            "lot__received_at",
        )
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
            # Reservations at a location held for a count stay, but neither they nor its units
            # are available: only sellable locations' reservations come off sellable units.
            sellable_reserved=Sum(
                Case(When(location__is_sellable=True, then="allocated"), default=Value(0)),
                output_field=IntegerField(),
            ),
        )
        .order_by()
    )
    out = [
        {
            "product_id": row["product_id"],
            "sku": row["product__sku"],
            "warehouse_id": row["location__warehouse_id"],
            "lot_id": row["lot_id"],
            "lot": row["lot__code"],
            "expiry_date": row["lot__expiry_date"],
            "received_at": row["lot__received_at"],
            "on_hand": row["total"] or 0,
            "allocated": (row["reserved"] or 0) + (row["committed"] or 0),
            "available": (row["sellable"] or 0) - (row["sellable_reserved"] or 0),
        }
        for row in rows
    ]
    out = [r for r in out if r["on_hand"] or r["allocated"] or r["available"]]  # lots long gone
    out.sort(key=lambda r: (r["sku"], str(r["warehouse_id"]), r["expiry_date"] or date.max, r["received_at"], r["lot"]))
    return out


# -- manager pages ---------------------------------------------------------------------------


def warehouses_for(actor):
    """The warehouses a staff actor works in (all of them for operator admins)."""
    if actor is None or not actor.is_staff:
        return Warehouse.objects.none()
    if actor.sees_all_warehouses:
        return Warehouse.objects.order_by("code")
    return Warehouse.objects.filter(staff__id=actor.user_id).order_by("code")


def warehouse_from_code(actor, code: str, *, field: str = "warehouse") -> Warehouse:
    """The warehouse a request names by code: staff only their own, merchants any; else a 422 on ``field``."""
    candidates = warehouses_for(actor) if actor.is_staff else Warehouse.objects.all()
    warehouse = candidates.filter(code=code.strip().upper()).first()
    if warehouse is None:
        raise FieldRefusal(f"unknown warehouse {code}", field=field, code="unknown_warehouse")
    return warehouse


def warehouse_address(warehouse: Warehouse) -> dict[str, str]:
    """The warehouse's ship-from address with an order's ship_to keys: name (its contact_name),
    company, line1, line2, city, region, postal_code, country, phone, email (always blank)."""
    return ship_from_address({field: getattr(warehouse, field) for field in ADDRESS_KEYS})


def warehouse_address_missing(warehouse: Warehouse) -> list[str]:
    """The warehouse fields a carrier's ship-from needs that are blank ([] when the address is
    complete): contact_name, address_line1, city, country and phone always; region and postal_code
    where the country's format has them (a state in US, CA, AU, MX, BR; no postal code in HK)."""
    return warehouse_address_missing_fields({field: getattr(warehouse, field) for field in ADDRESS_KEYS})


def backordered_units(*, warehouse_ids, product_ids=None) -> dict[tuple, int]:
    """{(product_id, warehouse_id): units that backordered orders wait for}.

    Orders are a higher layer: their lines are read through the app registry, never imported,
    so that inventory keeps no import of orders (the same figure as the merchant API's).
    """
    from django.apps import apps

    order_line = apps.get_model("orders", "OrderLine")
    lines = order_line.objects.filter(
        order__warehouse_id__in=list(warehouse_ids),
        order__status__in=["backordered", "picking"],
        backordered_quantity__gt=0,
    )
    if product_ids is not None:
        lines = lines.filter(product_id__in=list(product_ids))
    rows = lines.values("product_id", "order__warehouse_id").annotate(quantity=Sum("backordered_quantity"))
    return {(row["product_id"], row["order__warehouse_id"]): row["quantity"] for row in rows}


def inventory_rows(*, actor, tenant_id=None, warehouse_code: str = "", sku_search: str = "", only_low: bool = False):
    """Rows of the manager inventory list: one per product and warehouse the actor works in.

    Each row: tenant, product, warehouse, on_hand, allocated, available, backordered, inbound,
    reorder_point, low (available at or under the reorder point). Sorted by tenant, SKU, warehouse.
    """
    warehouses = {w.pk: w for w in warehouses_for(actor)}
    if warehouse_code:
        warehouses = {pk: w for pk, w in warehouses.items() if w.code == warehouse_code.strip().upper()}
    products = Product.objects.all()
    if tenant_id:
        products = products.filter(tenant_id=tenant_id)
    if sku_search:
        products = products.filter(Q(sku__icontains=sku_search.strip()) | Q(name__icontains=sku_search.strip()))
    balances = StockBalance.objects.filter(location__warehouse_id__in=list(warehouses), product__in=products)
    inbound = InboundLine.objects.filter(shipment__warehouse_id__in=list(warehouses), product__in=products)
    levels = stock_levels(balances=balances, inbound_lines=inbound)
    for key, quantity in backordered_units(warehouse_ids=list(warehouses)).items():
        if key[1] in warehouses:
            levels[key]["backordered"] = quantity
    by_id = {
        p.pk: p
        for p in Product.objects.filter(pk__in=[key[0] for key in levels])
        .filter(pk__in=products)
        .select_related("tenant")
    }
    rows = []
    for (product_id, warehouse_id), level in levels.items():
        item = by_id.get(product_id)
        if item is None or warehouse_id not in warehouses:
            continue
        low = level["available"] <= item.reorder_point
        if only_low and not low:
            continue
        rows.append(
            {
                "tenant": item.tenant,
                "product": item,
                "warehouse": warehouses[warehouse_id],
                "on_hand": level["on_hand"],
                "allocated": level["allocated"],
                "available": level["available"],
                "backordered": level.get("backordered", 0),
                "inbound": level["inbound"],
                "reorder_point": item.reorder_point,
                "low": low,
            }
        )
    rows.sort(key=lambda r: (r["tenant"].slug, r["product"].sku, r["warehouse"].code))
    return rows


def product_ledger(*, actor, product):
    """The product's movements in the actor's warehouses, newest first."""
    return (
        StockMovement.objects.visible_to(actor)
        .filter(product=product)
        .select_related("lot", "from_location", "to_location__warehouse")
        .order_by("-created_at", "-id")
    )


def demand_and_forecast(*, actor, product, days: int = 90) -> dict:
    """Daily demand (last ``days`` days) and the latest forecast of the product, over the actor's warehouses.

    {"history": [(day, units)], "forecast": [(day, units)], "model": str | None, "computed_at": datetime | None}
    """
    warehouse_ids = list(warehouses_for(actor).values_list("pk", flat=True))
    since = date.today() - timedelta(days=days)
    history = (
        DemandDay.objects.filter(product=product, warehouse_id__in=warehouse_ids, day__gte=since)
        .values("day")
        .annotate(units=Sum("quantity"))
        .order_by("day")
    )
    suggestions = list(
        ReorderSuggestion.objects.filter(product=product, warehouse_id__in=warehouse_ids).order_by("-computed_at")
    )
    forecast: dict[date, float] = defaultdict(float)
    for suggestion in suggestions:
        for point in suggestion.forecast or []:
            try:
                day = date.fromisoformat(str(point["day"]))
                forecast[day] += float(point["quantity"])
            except (KeyError, TypeError, ValueError):
                continue  # a malformed point is skipped, not a broken page
    return {
        "history": [(row["day"], row["units"]) for row in history],
        "forecast": sorted(forecast.items()),
        "model": suggestions[0].model if suggestions else None,
        "computed_at": suggestions[0].computed_at if suggestions else None,
    }
