"""Replenishment: demand history, forecasts and reorder suggestions, alerts, suppliers and purchase
orders, pick-face replenishment with move tasks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from fulfillment.webhooks.services import event_publish
from inventory import forecasting, locks
from inventory import selectors_replenishment as sel
from inventory.models import (
    AlertKind,
    DemandDay,
    Location,
    LocationKind,
    MovementReason,
    MoveTask,
    MoveTaskKind,
    MoveTaskStatus,
    PickFace,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    ReorderSuggestion,
    StockAlert,
    StockBalance,
    StockMovement,
    Supplier,
    Warehouse,
)
from inventory.selectors import stock_levels
from inventory.services.catalog import product_matches_code
from inventory.services.inbound import InboundLineInput, inbound_create
from inventory.services.stock import InsufficientStock, InventoryError, special_location, stock_transfer

HISTORY_DAYS = 400
MAX_COVER = Decimal("99999.9")

# -- demand history --------------------------------------------------------------------------


@transaction.atomic
def demand_refresh(*, days: int = HISTORY_DAYS, today: date | None = None) -> int:
    """Units shipped per (tenant, product, warehouse, day) over the last ``days`` days, upserted into DemandDay.

    One aggregate over shipment movements into V-CUSTOMER (days in UTC), then one upsert;
    re-running gives the same rows. Returns how many rows were written.
    """
    if days < 1:
        raise InventoryError("days must be at least 1", field="days")
    today = today or timezone.now().date()
    since = today - timedelta(days=days - 1)
    start = datetime.combine(since, datetime.min.time(), tzinfo=UTC)
    rows = (
        StockMovement.objects.filter(
            reason=MovementReason.SHIPMENT,
            to_location__kind=LocationKind.CUSTOMER,
            created_at__gte=start,
        )
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("tenant_id", "product_id", "to_location__warehouse_id", "day")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    demand = [
        DemandDay(
            tenant_id=row["tenant_id"],
            product_id=row["product_id"],
            warehouse_id=row["to_location__warehouse_id"],
            day=row["day"],
            quantity=row["units"],
        )
        for row in rows
    ]
    DemandDay.objects.bulk_create(
        demand,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["tenant", "product", "warehouse", "day"],
        update_fields=["quantity"],
    )
    return len(demand)


# -- forecasts, suggestions and alerts -------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    suggestions: int
    low_stock_opened: int
    low_stock_resolved: int
    expiring_opened: int
    expiring_resolved: int


def _lead_time(product: Product) -> int:
    return product.supplier.lead_time_days if product.supplier_id else forecasting.DEFAULT_LEAD_TIME_DAYS


def _alert_open(*, tenant_id, kind: str, product_id, warehouse_id, lot_id=None, message: str) -> bool:
    """Open an alert unless one is open already (the partial unique constraint settles races)."""
    existing = StockAlert.objects.filter(
        tenant_id=tenant_id,
        kind=kind,
        product_id=product_id,
        warehouse_id=warehouse_id,
        lot_id=lot_id,
        resolved_at__isnull=True,
    )
    if existing.exists():
        return False
    try:
        with transaction.atomic():
            StockAlert.objects.create(
                tenant_id=tenant_id,
                kind=kind,
                product_id=product_id,
                warehouse_id=warehouse_id,
                lot_id=lot_id,
                message=message[:200],
            )
    except IntegrityError:
        return False
    return True


@transaction.atomic
def suggestion_apply(
    *,
    product: Product,
    warehouse: Warehouse,
    result: forecasting.Forecast,
    available: int,
    inbound: int,
    now: datetime,
    service_level: float = forecasting.DEFAULT_SERVICE_LEVEL,
) -> tuple[ReorderSuggestion, str]:
    """Store the suggestion for one product in one warehouse; open or resolve its low-stock alert.

    ``result`` is the forecast (computed by the caller, outside this transaction). Returns the
    suggestion and "opened", "resolved" or "" for the alert.
    """
    plan = forecasting.reorder_plan(
        forecast=result,
        available=available,
        inbound=inbound,
        lead_time_days=_lead_time(product),
        service_level=service_level,
    )
    today = now.date()
    cover = None if plan.days_of_cover is None else min(Decimal(str(plan.days_of_cover)), MAX_COVER)
    suggestion, _ = ReorderSuggestion.objects.update_or_create(
        tenant_id=product.tenant_id,
        product=product,
        warehouse=warehouse,
        defaults={
            "computed_at": now,
            "model": result.model,
            "daily_demand": Decimal(str(round(result.mean_daily, 3))),
            "forecast": [
                {"day": (today + timedelta(days=i)).isoformat(), "quantity": round(q, 2)}
                for i, q in enumerate(result.daily)
            ],
            "available": available,
            "inbound": inbound,
            "days_of_cover": cover,
            "safety_stock": plan.safety_stock,
            "reorder_point": plan.reorder_point,
            "suggested_quantity": plan.suggested_quantity,
        },
    )
    position = available + inbound
    low = plan.below_reorder_point or (product.reorder_point > 0 and position <= product.reorder_point)
    if low:
        threshold = max(plan.reorder_point, product.reorder_point)
        opened = _alert_open(
            tenant_id=product.tenant_id,
            kind=AlertKind.LOW_STOCK,
            product_id=product.pk,
            warehouse_id=warehouse.pk,
            message=f"{product.sku} in {warehouse.code}: {available} available + {inbound} inbound, "
            f"reorder point {threshold}",
        )
        if opened:
            event_publish(
                tenant_id=product.tenant_id,
                type="inventory.low_stock",
                data={
                    "product": str(product.pk),
                    "sku": product.sku,
                    "warehouse": warehouse.code,
                    "available": available,
                    "inbound": inbound,
                    "reorder_point": threshold,
                    "suggested_quantity": plan.suggested_quantity,
                    "days_of_cover": plan.days_of_cover,
                },
            )
        return suggestion, "opened" if opened else ""
    resolved = StockAlert.objects.filter(
        tenant_id=product.tenant_id,
        kind=AlertKind.LOW_STOCK,
        product=product,
        warehouse=warehouse,
        resolved_at__isnull=True,
    ).update(resolved_at=now)
    return suggestion, "resolved" if resolved else ""


@transaction.atomic
def expiring_alerts_refresh(*, today: date, tenant_id=None, now: datetime | None = None) -> tuple[int, int]:
    """Open an alert per lot and warehouse expiring soon; resolve those no longer on hand. (opened, resolved)."""
    now = now or timezone.now()
    lots = sel.expiring_lots(today=today, tenant_id=tenant_id)
    opened = 0
    for row in lots:
        opened += _alert_open(
            tenant_id=row["tenant_id"],
            kind=AlertKind.EXPIRING,
            product_id=row["product_id"],
            warehouse_id=row["warehouse_id"],
            lot_id=row["lot_id"],
            message=f"{row['sku']} lot {row['lot_code']}: {row['on_hand']} units expire {row['expiry_date']}",
        )
    keep = {(row["lot_id"], row["warehouse_id"]) for row in lots}
    stale = StockAlert.objects.filter(kind=AlertKind.EXPIRING, resolved_at__isnull=True)
    if tenant_id is not None:
        stale = stale.filter(tenant_id=tenant_id)
    stale_ids = [
        pk for pk, lot_id, wh_id in stale.values_list("pk", "lot_id", "warehouse_id") if (lot_id, wh_id) not in keep
    ]
    resolved = StockAlert.objects.filter(pk__in=stale_ids, resolved_at__isnull=True).update(resolved_at=now)
    return opened, resolved


def replenishment_run(
    *,
    tenant_id=None,
    today: date | None = None,
    service_level: float = forecasting.DEFAULT_SERVICE_LEVEL,
) -> RunSummary:
    """A reorder suggestion per product and warehouse with stock, inbound or demand; low-stock and expiry alerts.

    Forecasts learn from DemandDay up to yesterday (run ``demand_refresh`` first); they are
    fitted outside any transaction, and each product is stored in a short transaction of its own.
    """
    now = timezone.now()
    today = today or now.date()
    if today != now.date():
        now = datetime.combine(today, now.timetz())
    history = sel.demand_history(since=today - timedelta(days=HISTORY_DAYS), tenant_id=tenant_id)
    balances, inbound_lines = sel.scoped_stock(tenant_id=tenant_id)
    levels = stock_levels(balances=balances, inbound_lines=inbound_lines)
    keys = {(product_id, warehouse_id) for product_id, warehouse_id in levels}
    keys |= {(product_id, warehouse_id) for _, product_id, warehouse_id in history}
    # A product with a reorder point and no stock anywhere is the lowest stock of all: watch it in
    # its merchant's default warehouse (else every warehouse).
    watched = Product.objects.filter(reorder_point__gt=0).exclude(pk__in={k[0] for k in keys})
    if tenant_id is not None:
        watched = watched.filter(tenant_id=tenant_id)
    codes = {w.code: w.pk for w in Warehouse.objects.all()}
    for product_id, default_code in watched.values_list("pk", "tenant__default_warehouse_code"):
        targets = [codes[default_code]] if default_code in codes else list(codes.values())
        keys |= {(product_id, warehouse_id) for warehouse_id in targets}
    products = {p.pk: p for p in Product.objects.filter(pk__in={k[0] for k in keys}).select_related("supplier")}
    warehouses = {w.pk: w for w in Warehouse.objects.filter(pk__in={k[1] for k in keys})}
    computed: list[int] = []
    opened = resolved = 0
    yesterday = today - timedelta(days=1)
    for product_id, warehouse_id in sorted(keys, key=str):
        product = products[product_id]
        level = levels.get((product_id, warehouse_id), {"available": 0, "inbound": 0})
        days = history.get((product.tenant_id, product_id, warehouse_id), {})
        suggestion, alert = suggestion_apply(
            product=product,
            warehouse=warehouses[warehouse_id],
            result=forecasting.forecast(sel.daily_series(days, until=yesterday)),
            available=level["available"],
            inbound=level["inbound"],
            now=now,
            service_level=service_level,
        )
        computed.append(suggestion.pk)
        opened += alert == "opened"
        resolved += alert == "resolved"
    # Every row written above carries computed_at=now: older rows are products no longer stocked.
    stale = ReorderSuggestion.objects.filter(computed_at__lt=now)
    if tenant_id is not None:
        stale = stale.filter(tenant_id=tenant_id)
    stale.delete()
    expiring_opened, expiring_resolved = expiring_alerts_refresh(today=today, tenant_id=tenant_id, now=now)
    return RunSummary(len(computed), opened, resolved, expiring_opened, expiring_resolved)


# -- suppliers and purchase orders -----------------------------------------------------------


@transaction.atomic
def supplier_create(*, tenant_id, name: str, email: str = "", lead_time_days: int = 7) -> Supplier:
    name = name.strip()
    if not name:
        raise InventoryError("name is required", field="name", code="required")
    if not 0 <= lead_time_days <= 365:
        raise InventoryError("lead time must be between 0 and 365 days", field="lead_time_days")
    if Supplier.objects.filter(tenant_id=tenant_id, name=name).exists():
        raise InventoryError(f"supplier {name} already exists", field="name", code="duplicate")
    return Supplier.objects.create(tenant_id=tenant_id, name=name, email=email, lead_time_days=lead_time_days)


@dataclass(frozen=True)
class PurchaseLineInput:
    sku: str
    quantity: int


def _next_po_number(tenant_id) -> str:
    count = PurchaseOrder.objects.filter(tenant_id=tenant_id).count()
    return f"PO-{count + 1:05d}"


@transaction.atomic
def purchase_order_create(
    *,
    tenant_id,
    supplier: Supplier,
    warehouse: Warehouse,
    lines: list[PurchaseLineInput],
    expected_at=None,
) -> PurchaseOrder:
    """A draft purchase order; lines of the same SKU are merged."""
    if supplier.tenant_id != tenant_id:
        raise InventoryError("unknown supplier", field="supplier", code="unknown_supplier")
    if not lines:
        raise InventoryError("a purchase order needs at least one line", field="lines")
    skus = [line.sku for line in lines]
    products = {p.sku: p for p in Product.objects.filter(tenant_id=tenant_id, sku__in=set(skus))}
    merged: dict[str, int] = {}
    for index, line in enumerate(lines):
        if line.sku not in products:
            raise InventoryError(f"unknown SKU {line.sku}", field=f"lines[{index}].sku", code="unknown_sku")
        if line.quantity <= 0:
            raise InventoryError("quantity must be positive", field=f"lines[{index}].quantity")
        merged[line.sku] = merged.get(line.sku, 0) + line.quantity
    for attempt in range(5):
        try:
            with transaction.atomic():
                po = PurchaseOrder.objects.create(
                    tenant_id=tenant_id,
                    supplier=supplier,
                    warehouse=warehouse,
                    number=_next_po_number(tenant_id) if attempt == 0 else f"PO-{timezone.now():%y%m%d%H%M%S%f}",
                    expected_at=expected_at,
                )
            break
        except IntegrityError:  # a concurrent order took the number
            continue
    else:
        raise InventoryError("could not number the purchase order; retry", code="conflict")
    PurchaseOrderLine.objects.bulk_create(
        [
            PurchaseOrderLine(tenant_id=tenant_id, purchase_order=po, product=products[sku], quantity=quantity)
            for sku, quantity in merged.items()
        ]
    )
    return po


@transaction.atomic
def purchase_order_send(*, purchase_order_id, tenant_id) -> PurchaseOrder:
    """Draft -> sent, creating the ASN (InboundShipment) with the same lines; sending twice is refused."""
    po = (
        locks.own_rows(PurchaseOrder.objects)
        .filter(pk=purchase_order_id, tenant_id=tenant_id)
        .select_related("warehouse", "supplier")
        .first()
    )
    if po is None:
        raise InventoryError("purchase order not found", code="not_found")
    if po.status != PurchaseOrderStatus.DRAFT:
        raise InventoryError(f"purchase order {po.number} is {po.status}", field="status", code="not_draft")
    lines = list(po.lines.select_related("product").order_by("pk"))
    shipment = inbound_create(
        tenant_id=tenant_id,
        warehouse=po.warehouse,
        lines=[InboundLineInput(sku=line.product.sku, quantity=line.quantity) for line in lines],
        reference=f"{po.number} {po.supplier.name}"[:100],
        expected_at=po.expected_at,
    )
    now = timezone.now()
    updated = PurchaseOrder.objects.filter(pk=po.pk, status=PurchaseOrderStatus.DRAFT).update(
        status=PurchaseOrderStatus.SENT, sent_at=now, inbound_shipment=shipment
    )
    if updated != 1:  # cannot happen under the row lock; refuse rather than create a second ASN
        raise InventoryError("purchase order changed while sending", code="not_draft")
    po.refresh_from_db()
    return po


@transaction.atomic
def purchase_orders_from_suggestions(*, tenant_id, suggestion_ids: list) -> list[PurchaseOrder]:
    """Draft purchase orders for chosen suggestions, one per supplier and warehouse."""
    if not suggestion_ids:
        raise InventoryError("choose at least one suggestion", field="suggestions")
    found = {
        s.pk: s
        for s in ReorderSuggestion.objects.filter(tenant_id=tenant_id, pk__in=suggestion_ids).select_related(
            "product", "product__supplier", "warehouse"
        )
    }
    groups: dict[tuple, list[PurchaseLineInput]] = {}
    for index, pk in enumerate(suggestion_ids):
        suggestion = found.get(pk)
        field = f"suggestions[{index}]"
        if suggestion is None:
            raise InventoryError("unknown suggestion", field=field, code="not_found")
        if suggestion.product.supplier_id is None:
            raise InventoryError(f"{suggestion.product.sku} has no supplier", field=field, code="no_supplier")
        if suggestion.suggested_quantity <= 0:
            raise InventoryError(f"nothing to order for {suggestion.product.sku}", field=field, code="nothing_to_order")
        key = (suggestion.product.supplier_id, suggestion.warehouse_id)
        groups.setdefault(key, []).append(PurchaseLineInput(suggestion.product.sku, suggestion.suggested_quantity))
    suppliers = {s.pk: s for s in Supplier.objects.filter(tenant_id=tenant_id, pk__in={k[0] for k in groups})}
    warehouses = {w.pk: w for w in Warehouse.objects.filter(pk__in={k[1] for k in groups})}
    return [
        purchase_order_create(
            tenant_id=tenant_id, supplier=suppliers[supplier_id], warehouse=warehouses[warehouse_id], lines=lines
        )
        for (supplier_id, warehouse_id), lines in sorted(groups.items(), key=lambda item: str(item[0]))
    ]


# -- pick faces and move tasks ---------------------------------------------------------------


@transaction.atomic
def pick_face_create(
    *, tenant_id, product: Product, location: Location, min_quantity: int, max_quantity: int
) -> PickFace:
    if product.tenant_id != tenant_id:
        raise InventoryError("unknown SKU", field="sku", code="unknown_sku")
    if location.is_virtual or location.kind != LocationKind.STORAGE:
        raise InventoryError(f"{location.code} cannot be a pick face", field="location", code="invalid_location")
    if max_quantity < 1:
        raise InventoryError("max must be at least 1", field="max_quantity")
    if min_quantity < 0 or min_quantity > max_quantity:
        raise InventoryError("min must be between 0 and max", field="min_quantity")
    if PickFace.objects.filter(tenant_id=tenant_id, product=product, location=location).exists():
        raise InventoryError(f"{product.sku} already has a pick face at {location.code}", code="duplicate")
    try:
        with transaction.atomic():
            return PickFace.objects.create(
                tenant_id=tenant_id,
                product=product,
                location=location,
                min_quantity=min_quantity,
                max_quantity=max_quantity,
            )
    except IntegrityError:
        raise InventoryError(f"{product.sku} already has a pick face at {location.code}", code="duplicate") from None


@transaction.atomic
def pick_face_delete(*, pick_face_id) -> None:
    """Remove a pick face; its open replenishment tasks are cancelled."""
    face = locks.own_rows(PickFace.objects).filter(pk=pick_face_id).first()
    if face is None:
        return
    MoveTask.objects.filter(
        tenant_id=face.tenant_id,
        product_id=face.product_id,
        to_location_id=face.location_id,
        kind=MoveTaskKind.REPLENISHMENT,
        status=MoveTaskStatus.OPEN,
    ).update(status=MoveTaskStatus.CANCELLED)
    face.delete()


@transaction.atomic
def pick_face_replenish(*, pick_face_id) -> MoveTask | None:
    """A replenishment move task for a pick face below its minimum, unless one is open; None otherwise.

    Source: the storage location holding the oldest unreserved units of the product (FIFO by
    lot, FEFO when expiry-tracked), quantity min(max - on hand, unreserved there).
    """
    # The pick face row lock serializes concurrent runs: the second sees the first one's task.
    face = locks.own_rows(PickFace.objects).filter(pk=pick_face_id).select_related("location", "product").first()
    if face is None:
        return None
    open_task = MoveTask.objects.filter(
        tenant_id=face.tenant_id,
        product_id=face.product_id,
        to_location_id=face.location_id,
        kind=MoveTaskKind.REPLENISHMENT,
        status=MoveTaskStatus.OPEN,
    )
    if open_task.exists():
        return None
    on_hand = (
        StockBalance.objects.filter(
            tenant_id=face.tenant_id, product_id=face.product_id, location_id=face.location_id
        ).aggregate(units=Sum("on_hand"))["units"]
        or 0
    )
    need = face.max_quantity - on_hand
    if on_hand >= face.min_quantity or need <= 0:
        return None
    faces_of_product = PickFace.objects.filter(tenant_id=face.tenant_id, product_id=face.product_id).values_list(
        "location_id", flat=True
    )
    for balance in sel.replenishment_sources(
        tenant_id=face.tenant_id,
        product_id=face.product_id,
        warehouse_id=face.location.warehouse_id,
        exclude_location_ids=[face.location_id, *faces_of_product],
    ):
        free = (
            balance.on_hand
            - balance.allocated
            - sel.promised_to_open_tasks(
                tenant_id=face.tenant_id,
                product_id=face.product_id,
                location_id=balance.location_id,
                lot_id=balance.lot_id,
            )
        )
        if free > 0:
            return MoveTask.objects.create(
                tenant_id=face.tenant_id,
                warehouse_id=face.location.warehouse_id,
                kind=MoveTaskKind.REPLENISHMENT,
                product_id=face.product_id,
                lot_id=balance.lot_id,
                from_location_id=balance.location_id,
                to_location_id=face.location_id,
                quantity=min(need, free),
            )
    return None


def pick_faces_replenish(*, warehouse_id=None) -> int:
    """Replenishment tasks for every pick face under its minimum; returns how many were created."""
    return sum(
        pick_face_replenish(pick_face_id=pk) is not None for pk in sel.pick_faces_below_min(warehouse_id=warehouse_id)
    )


_TASK_REASON = {
    MoveTaskKind.REPLENISHMENT: MovementReason.REPLENISHMENT,
    MoveTaskKind.PUT_BACK: MovementReason.PUT_BACK,
}


def put_back_task_create(
    *, tenant_id, warehouse_id, product_id, lot_id, to_location_id, quantity: int, reference: str = ""
) -> MoveTask:
    """Work for an associate: carry units waiting in PACKING (a cancelled order's picks) back to a shelf.

    The units stay in PACKING, unsellable, until the task is done, so stock never shows on a shelf
    before it is really there. Runs in the caller's transaction.
    """
    packing = special_location(warehouse_id=warehouse_id, code="PACKING")
    return MoveTask.objects.create(
        tenant_id=tenant_id,
        warehouse_id=warehouse_id,
        kind=MoveTaskKind.PUT_BACK,
        product_id=product_id,
        lot_id=lot_id,
        from_location=packing,
        to_location_id=to_location_id,
        quantity=quantity,
    )


@transaction.atomic
def move_task_complete(
    *,
    task_id,
    from_location_barcode: str,
    to_location_barcode: str,
    quantity: int,
    product_barcode: str | None = None,
    actor: str = "",
) -> MoveTask:
    """Move the task's units through the ledger after checking the scans; a wrong scan changes nothing.

    ``quantity`` may be less than planned (fewer units found); the task records what moved.
    """
    task = (
        locks.own_rows(MoveTask.objects)
        .filter(pk=task_id)
        .select_related("from_location", "to_location", "product", "lot")
        .first()
    )
    if task is None:
        raise InventoryError("move task not found", code="not_found")
    if task.status != MoveTaskStatus.OPEN:
        raise InventoryError(f"move task is {task.status}", field="status", code="not_open")
    if task.kind == MoveTaskKind.PUT_AWAY:
        raise InventoryError("put-away tasks are completed by put-away", field="kind", code="wrong_kind")
    if not task.from_location.matches_scan(from_location_barcode):
        raise InventoryError(
            f"wrong location {from_location_barcode}: take from {task.from_location.code}",
            field="from_location_barcode",
            code="wrong_location",
        )
    if product_barcode is not None and not product_matches_code(product=task.product, code=product_barcode):
        raise InventoryError(
            f"wrong product {product_barcode}: expected {task.product.sku}",
            field="product_barcode",
            code="wrong_product",
        )
    if not task.to_location.matches_scan(to_location_barcode):
        raise InventoryError(
            f"wrong location {to_location_barcode}: bring to {task.to_location.code}",
            field="to_location_barcode",
            code="wrong_location",
        )
    if not 1 <= quantity <= task.quantity:
        raise InventoryError(f"quantity must be between 1 and {task.quantity}", field="quantity")
    if task.lot_id is None:
        raise InventoryError("the task names no lot", field="lot", code="no_lot")
    source = (
        locks.own_rows(StockBalance.objects)
        .filter(
            tenant_id=task.tenant_id, product_id=task.product_id, location_id=task.from_location_id, lot_id=task.lot_id
        )
        .first()
    )
    if source is None or source.on_hand - source.allocated < quantity:
        raise InsufficientStock(
            f"only {0 if source is None else max(0, source.on_hand - source.allocated)} unreserved units "
            f"at {task.from_location.code}",
            field="quantity",
            code="insufficient_stock",
        )
    stock_transfer(
        tenant_id=task.tenant_id,
        product_id=task.product_id,
        lot_id=task.lot_id,
        warehouse_id=task.warehouse_id,
        source=task.from_location,
        target=task.to_location,
        quantity=quantity,
        reason=_TASK_REASON.get(task.kind, MovementReason.MOVE),
        reference=f"move task {task.pk}",
        actor=actor,
    )
    updated = MoveTask.objects.filter(pk=task.pk, status=MoveTaskStatus.OPEN).update(
        status=MoveTaskStatus.DONE, quantity=quantity, done_at=timezone.now(), done_by=actor[:100]
    )
    if updated != 1:
        raise InventoryError("move task changed while completing", code="not_open")
    task.refresh_from_db()
    return task
