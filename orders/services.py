"""Every write to orders: intake, holds, allocation, cancellation and the later stages' transitions.

A transition is a compare-and-set on ``status`` against transitions.ALLOWED, plus an
OrderEvent and (where API.md names one) a webhook outbox row, all in one transaction.
Locks: the order row first, then stock balances in primary-key order (inventory.services).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from fulfillment.jobs import enqueue
from fulfillment.webhooks.services import event_publish
from inventory import services as inventory
from inventory.models import MovementReason, Product, Warehouse
from orders import promise
from orders.models import (
    PRIORITY,
    HoldReason,
    Order,
    OrderAllocation,
    OrderEvent,
    OrderLine,
    OrderNumber,
    PaymentStatus,
    Status,
)
from orders.transitions import CANCELLABLE, EVENTS, can_transition
from orders.validation import address_errors, normalized_phone

logger = logging.getLogger(__name__)


class OrderError(ValueError):
    def __init__(self, message: str, *, errors: list[dict] | None = None, code: str = "invalid"):
        super().__init__(message)
        self.errors = errors or []
        self.code = code


class DuplicateOrder(OrderError):
    def __init__(self, existing_id):
        super().__init__("An order with this external_id already exists.", code="duplicate")
        self.existing_id = existing_id


class InvalidTransition(OrderError):
    pass


@dataclass
class LineInput:
    sku: str
    quantity: int
    unit_price: Decimal | None = None


@dataclass
class OrderInput:
    external_id: str
    shipping_method: str
    payment_status: str
    currency: str
    ship_to: dict
    lines: list[LineInput]
    warehouse: str = ""
    extra: dict = field(default_factory=dict)


# -- the timeline and transitions ----------------------------------------------------------


def order_payload(order: Order) -> dict:
    """The data of order webhooks (a compact order; the API has the whole one)."""
    return {
        "id": str(order.id),
        "number": order.number,
        "external_id": order.external_id,
        "status": order.status,
        "hold_reasons": order.hold_reasons,
    }


def _event(order: Order, type: str, *, from_status="", to_status="", message="", data=None, actor="") -> None:
    OrderEvent.objects.create(
        tenant_id=order.tenant_id,
        order=order,
        type=type,
        from_status=from_status,
        to_status=to_status,
        message=message[:500],
        data=data or {},
        actor=actor[:100],
    )


def _transition(order: Order, target: str, *, actor: str = "", message: str = "", data=None) -> None:
    source = order.status
    if not can_transition(source, target):
        raise InvalidTransition(f"An order cannot go from {source} to {target}.", code="invalid_state")
    changed = Order.objects.filter(pk=order.pk, status=source).update(status=target, updated_at=timezone.now())
    if changed != 1:
        raise InvalidTransition(f"The order changed state concurrently (was {source}).", code="conflict")
    order.status = target
    _event(order, "status_changed", from_status=source, to_status=target, message=message, data=data, actor=actor)
    if target in EVENTS:
        event_publish(tenant_id=order.tenant_id, type=EVENTS[target], data=order_payload(order))


def _locked(order_id, *, tenant_id=None) -> Order | None:
    query = Order.objects.select_for_update(no_key=True).filter(pk=order_id)
    if tenant_id is not None:
        query = query.filter(tenant_id=tenant_id)
    return query.first()


# -- intake --------------------------------------------------------------------------------


def _holds(*, payment_status: str, address_problems: list[dict]) -> list[str]:
    holds = []
    if payment_status == PaymentStatus.PENDING:
        holds.append(HoldReason.PAYMENT_PENDING)
    elif payment_status == PaymentStatus.FAILED:
        holds.append(HoldReason.PAYMENT_FAILED)
    if address_problems:
        holds.append(HoldReason.ADDRESS_INVALID)
    return holds


def _warehouse_for(tenant, code: str) -> Warehouse:
    code = (code or tenant.default_warehouse_code or "").strip().upper()
    if code:
        warehouse = Warehouse.objects.filter(code=code).first()
        if warehouse is None:
            raise OrderError(
                f"unknown warehouse {code}",
                errors=[{"field": "warehouse", "code": "unknown_warehouse", "message": f"unknown warehouse {code}"}],
            )
        return warehouse
    warehouse = Warehouse.objects.order_by("created_at").first()
    if warehouse is None:
        raise OrderError("no warehouse is configured", code="no_warehouse")
    return warehouse


@transaction.atomic
def order_create(*, tenant, data: OrderInput, actor: str = "") -> Order:
    """Validate and record an order; allocation starts in Celery once it commits."""
    existing = Order.objects.filter(tenant_id=tenant.pk, external_id=data.external_id, parent__isnull=True).values_list(
        "id", flat=True
    )
    if existing:
        raise DuplicateOrder(existing[0])
    warehouse = _warehouse_for(tenant, data.warehouse)
    skus = [line.sku for line in data.lines]
    products = {p.sku: p for p in Product.objects.filter(tenant_id=tenant.pk, sku__in=set(skus))}
    errors = [
        {"field": f"lines[{i}].sku", "code": "unknown_sku", "message": f"unknown SKU {sku}"}
        for i, sku in enumerate(skus)
        if sku not in products
    ]
    if errors:
        raise OrderError("The order names products that do not exist.", errors=errors, code="unknown_sku")
    ship_to = dict(data.ship_to)
    ship_to["phone"] = normalized_phone(ship_to.get("phone", ""), ship_to.get("country", ""))
    problems = address_errors(ship_to)
    holds = _holds(payment_status=data.payment_status, address_problems=problems)
    now = timezone.now()
    ship_by_at = promise.ship_by(warehouse=warehouse, method=data.shipping_method, now=now)
    number = f"{OrderNumber.objects.create().pk + 1000:07d}"
    try:
        with transaction.atomic():
            order = Order.objects.create(
                tenant_id=tenant.pk,
                number=number,
                external_id=data.external_id,
                warehouse=warehouse,
                status=Status.RECEIVED,
                shipping_method=data.shipping_method,
                payment_status=data.payment_status,
                currency=data.currency,
                ship_to=ship_to,
                priority=PRIORITY[data.shipping_method],
                ship_by=ship_by_at,
                promised_delivery_date=promise.promised_delivery_date(
                    ship_by_at=ship_by_at, method=data.shipping_method
                ),
            )
    except IntegrityError:
        # A concurrent request with the same external_id won the race.
        existing = Order.objects.filter(
            tenant_id=tenant.pk, external_id=data.external_id, parent__isnull=True
        ).values_list("id", flat=True)
        raise DuplicateOrder(existing[0] if existing else None) from None
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                tenant_id=tenant.pk,
                order=order,
                product=products[line.sku],
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for line in data.lines
        ]
    )
    _event(order, "created", to_status=Status.RECEIVED, message="Order received", actor=actor)
    event_publish(tenant_id=tenant.pk, type="order.created", data=order_payload(order))
    if holds:
        _put_on_hold(order, holds=holds, address_problems=problems, actor=actor)
    else:
        enqueue("orders.tasks.allocate_order", order_id=str(order.pk))
    return order


@dataclass
class CreateResult:
    """The answer for one order of a bulk call or an import row group: 201, 409 or 422."""

    status: int
    order_id: object = None
    errors: list[dict] = field(default_factory=list)
    existing_id: object = None


def order_create_many(*, tenant, items: list[OrderInput], actor: str = "") -> list[CreateResult]:
    """Create many orders; each succeeds or fails alone, results in the order of ``items``."""
    results = []
    for item in items:
        try:
            with transaction.atomic():
                order = order_create(tenant=tenant, data=item, actor=actor)
        except DuplicateOrder as exc:
            results.append(
                CreateResult(
                    409,
                    errors=[{"field": "external_id", "code": "duplicate", "message": str(exc)}],
                    existing_id=exc.existing_id,
                )
            )
        except OrderError as exc:
            results.append(
                CreateResult(422, errors=exc.errors or [{"field": None, "code": exc.code, "message": str(exc)}])
            )
        else:
            results.append(CreateResult(201, order_id=order.pk))
    return results


def _put_on_hold(order: Order, *, holds: list[str], address_problems: list[dict], actor: str) -> None:
    order.hold_reasons = holds
    order.address_errors = address_problems
    order.save(update_fields=["hold_reasons", "address_errors", "updated_at"])
    _transition(
        order, Status.ON_HOLD, actor=actor, message="On hold: " + ", ".join(holds), data={"errors": address_problems}
    )


@transaction.atomic
def order_update(
    *, order_id, tenant_id, ship_to: dict | None = None, payment_status: str | None = None, actor: str = ""
) -> Order:
    """Fix the address or payment of an order not yet in picking; holds are re-evaluated."""
    order = _locked(order_id, tenant_id=tenant_id)
    if order is None:
        raise Order.DoesNotExist
    if not order.can_edit:
        raise InvalidTransition(f"An order in {order.status} can no longer be changed.", code="invalid_state")
    changed = []
    if ship_to is not None:
        merged = {**order.ship_to, **ship_to}
        merged["phone"] = normalized_phone(merged.get("phone", ""), merged.get("country", ""))
        order.ship_to = merged
        changed.append("ship_to")
    if payment_status is not None:
        order.payment_status = payment_status
        changed.append("payment_status")
    problems = address_errors(order.ship_to)
    holds = _holds(payment_status=order.payment_status, address_problems=problems)
    manual = [h for h in order.hold_reasons if h == HoldReason.MANUAL]
    holds = holds + manual
    order.save(update_fields=[*changed, "updated_at"])
    _event(order, "updated", message="Updated: " + ", ".join(changed), actor=actor)
    if holds:
        if order.status == Status.ON_HOLD:
            order.hold_reasons, order.address_errors = holds, problems
            order.save(update_fields=["hold_reasons", "address_errors", "updated_at"])
        else:
            _release_all(order, actor=actor)
            _put_on_hold(order, holds=holds, address_problems=problems, actor=actor)
    elif order.status == Status.ON_HOLD:
        order.hold_reasons, order.address_errors = [], []
        order.save(update_fields=["hold_reasons", "address_errors", "updated_at"])
        _transition(order, Status.RECEIVED, actor=actor, message="Holds cleared")
        enqueue("orders.tasks.allocate_order", order_id=str(order.pk))
    return order


# -- manual holds --------------------------------------------------------------------------

HOLDABLE = {Status.RECEIVED, Status.ON_HOLD, Status.BACKORDERED, Status.ALLOCATED}


@transaction.atomic
def order_hold(*, order_id, reason: str, actor: str = "", tenant_id=None) -> Order:
    """A manager stops an order before picking: its reservations go back to stock until released."""
    reason = (reason or "").strip()
    if not reason:
        raise OrderError(
            "A hold needs a reason.", errors=[{"field": "reason", "code": "required", "message": "give a reason"}]
        )
    order = _locked(order_id, tenant_id=tenant_id)
    if order is None:
        raise Order.DoesNotExist
    if order.status not in HOLDABLE:
        raise InvalidTransition(f"An order in {order.status} can no longer be held.", code="invalid_state")
    holds = list(order.hold_reasons)
    if HoldReason.MANUAL not in holds:
        holds.append(HoldReason.MANUAL)
    if order.status == Status.ON_HOLD:
        order.hold_reasons = holds
        order.save(update_fields=["hold_reasons", "updated_at"])
        _event(order, "held", message=f"Manual hold: {reason}", data={"reason": reason}, actor=actor)
        return order
    _release_all(order, actor=actor)
    order.hold_reasons = holds
    order.save(update_fields=["hold_reasons", "updated_at"])
    _transition(order, Status.ON_HOLD, actor=actor, message=f"Manual hold: {reason}", data={"reason": reason})
    _enqueue_reallocation(order)
    return order


@transaction.atomic
def order_release(*, order_id, actor: str = "", reason: str = "", tenant_id=None) -> Order:
    """Lift a manual hold; the order allocates again unless a payment or address hold remains."""
    order = _locked(order_id, tenant_id=tenant_id)
    if order is None:
        raise Order.DoesNotExist
    if order.status != Status.ON_HOLD or HoldReason.MANUAL not in order.hold_reasons:
        raise InvalidTransition("The order has no manual hold to release.", code="invalid_state")
    order.hold_reasons = [h for h in order.hold_reasons if h != HoldReason.MANUAL]
    order.save(update_fields=["hold_reasons", "updated_at"])
    message = f"Manual hold released: {reason}" if reason else "Manual hold released"
    if order.hold_reasons:
        _event(order, "released", message=message + "; still on hold: " + ", ".join(order.hold_reasons), actor=actor)
        return order
    _transition(order, Status.RECEIVED, actor=actor, message=message)
    enqueue("orders.tasks.allocate_order", order_id=str(order.pk))
    return order


def _enqueue_reallocation(order: Order) -> None:
    """Stock an order gave back may complete backorders waiting for it."""
    enqueue(
        "orders.tasks.reallocate_backorders",
        warehouse_id=str(order.warehouse_id),
        product_ids=[str(pid) for pid in order.lines.values_list("product_id", flat=True)],
    )


# -- allocation ----------------------------------------------------------------------------


# PostgreSQL hot path of allocation: three round trips per order. (1) the order row, locked,
# with its lines; (2) the candidate balances, locked (inventory.stock_reserve); (3) one statement
# that writes everything else: the reservations, the allocation rows, the lines, the status
# compare-and-set, the timeline entry, the outbox event and its deliveries.
def _transition_ctes(*, to_status: str, message: str) -> str:
    """The CTEs of a status change in SQL: compare-and-set from %(from_status)s, the timeline
    entry, the outbox event (payload %(payload)s, id %(event)s) and one delivery per subscribed
    endpoint; the same writes as ``_transition`` for the PostgreSQL hot path."""
    event_type = EVENTS[to_status]
    # Built once at import from constants of this module, never from input.
    return f"""moved AS (
    UPDATE orders_order SET status = '{to_status}', updated_at = %(now)s
    WHERE id = %(order)s AND status = %(from_status)s
    RETURNING id
), timeline AS (
    INSERT INTO orders_orderevent
        (tenant_id, order_id, type, from_status, to_status, message, data, actor, created_at)
    SELECT %(tenant)s, id, 'status_changed', %(from_status)s, '{to_status}', '{message}', '{{}}'::jsonb, '', %(now)s
    FROM moved
    RETURNING id
), outbox AS (
    INSERT INTO webhooks_outboxevent (id, tenant_id, type, data, created_at)
    SELECT %(event)s, %(tenant)s, '{event_type}', %(payload)s::jsonb, %(now)s FROM moved
    RETURNING id
), deliveries AS (
    INSERT INTO webhooks_webhookdelivery
        (id, tenant_id, event_id, endpoint_id, status, attempts, next_attempt_at, last_error, created_at)
    SELECT gen_random_uuid(), %(tenant)s, outbox.id, e.id, 'pending', 0, %(now)s, '', %(now)s
    FROM outbox JOIN webhooks_webhookendpoint e
      ON e.tenant_id = %(tenant)s AND e.is_active AND (e.events = '[]'::jsonb OR e.events ? '{event_type}')
    RETURNING id
)"""


_ORDER_WITH_LINES_SQL = """
SELECT o.status, o.tenant_id, o.warehouse_id, o.number, o.external_id, o.hold_reasons,
       l.id, l.product_id, l.quantity, l.allocated_quantity
FROM orders_order o JOIN orders_orderline l ON l.order_id = o.id
WHERE o.id = %(order)s
ORDER BY l.id
FOR NO KEY UPDATE OF o
"""

_ALLOCATE_SQL = (
    """
WITH reserved AS (
    UPDATE inventory_stockbalance b SET allocated = b.allocated + r.quantity
    FROM unnest(%(balances)s::bigint[], %(increments)s::int[]) AS r(id, quantity)
    WHERE b.id = r.id AND b.on_hand >= b.allocated + r.quantity
    RETURNING b.id
), allocations AS (
    INSERT INTO orders_orderallocation
        (tenant_id, line_id, balance_id, location_id, lot_id, quantity, picked_quantity, released)
    SELECT %(tenant)s, a.line_id, a.balance_id, a.location_id, a.lot_id, a.quantity, 0, false
    FROM unnest(%(a_lines)s::bigint[], %(a_balances)s::bigint[], %(a_locations)s::bigint[],
                %(a_lots)s::bigint[], %(a_quantities)s::int[])
         AS a(line_id, balance_id, location_id, lot_id, quantity)
    RETURNING id
), lines AS (
    UPDATE orders_orderline SET allocated_quantity = quantity, backordered_quantity = 0
    WHERE order_id = %(order)s
    RETURNING id
), """
    + _transition_ctes(to_status="allocated", message="Stock allocated")
    + """
SELECT (SELECT count(*) FROM reserved), (SELECT count(*) FROM allocations), (SELECT count(*) FROM moved),
       ARRAY(SELECT id::text FROM deliveries)
"""
)


def _allocation_rows(lines, plan) -> list[tuple]:
    """(line_id, balance_id, location_id, lot_id, quantity) per allocation, lines in order."""
    rows = []
    for line_id, product_id, quantity, allocated in lines:
        want = quantity - allocated
        reservations = plan.get(product_id, [])
        while want > 0 and reservations:
            r = reservations[0]
            take = min(want, r.quantity)
            rows.append((line_id, r.balance_id, r.location_id, r.lot_id, take))
            want -= take
            if take == r.quantity:
                reservations.pop(0)
            else:
                reservations[0] = inventory.Reservation(r.balance_id, r.location_id, r.lot_id, r.quantity - take)
    return rows


_BACKORDER_SQL = (
    """
WITH lines AS (
    UPDATE orders_orderline SET backordered_quantity = quantity - allocated_quantity
    WHERE order_id = %(order)s
    RETURNING id
), """
    + _transition_ctes(to_status="backordered", message="Waiting for stock")
    + """
SELECT (SELECT count(*) FROM moved), ARRAY(SELECT id::text FROM deliveries)
"""
)


def _backorder(order_id) -> str:
    """Short of stock: a received order waits as backordered (a backordered one just keeps waiting)."""
    order = _locked(order_id)
    if order.status == Status.RECEIVED:
        OrderLine.objects.filter(order_id=order.pk).update(backordered_quantity=F("quantity") - F("allocated_quantity"))
        _transition(order, Status.BACKORDERED, message="Waiting for stock")
    return order.status


def _backorder_pg(*, order_id, tenant_id, status, number, external_id, hold_reasons) -> str:
    """_backorder in one statement, for the PostgreSQL hot path (the order row is already locked)."""
    if status != Status.RECEIVED:
        return status
    payload = {
        "id": str(order_id),
        "number": number,
        "external_id": external_id,
        "status": Status.BACKORDERED,
        "hold_reasons": hold_reasons,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            _BACKORDER_SQL,
            {
                "order": order_id,
                "tenant": tenant_id,
                "from_status": Status.RECEIVED,
                "now": timezone.now(),
                "event": uuid.uuid4(),
                "payload": json.dumps(payload),
            },
        )
        moved, delivery_ids = cursor.fetchone()
    if moved != 1:
        raise OrderError("backorder raced with another change; retry", code="conflict")
    for delivery_id in delivery_ids:
        enqueue("fulfillment.webhooks.tasks.deliver_webhook", delivery_id=delivery_id)
    return Status.BACKORDERED


@transaction.atomic
def order_allocate(*, order_id) -> str:
    """Reserve stock for every line (ship complete). Idempotent: does nothing unless received or backordered."""
    if not settings.IS_POSTGRES:
        return _order_allocate_orm(order_id=order_id)
    with connection.cursor() as cursor:
        cursor.execute(_ORDER_WITH_LINES_SQL, {"order": order_id})
        rows = cursor.fetchall()
    if not rows:
        return "missing"
    status, tenant_id, warehouse_id, number, external_id, hold_reasons = rows[0][:6]
    if isinstance(hold_reasons, str):  # Django's PostgreSQL connection leaves jsonb undecoded
        hold_reasons = json.loads(hold_reasons)
    if status not in {Status.RECEIVED, Status.BACKORDERED}:
        return status
    lines = [row[6:] for row in rows]
    needs: dict = defaultdict(int)
    for _line_id, product_id, quantity, allocated in lines:
        needs[product_id] += quantity - allocated
    plan = inventory.stock_reserve(tenant_id=tenant_id, warehouse_id=warehouse_id, needs=dict(needs), apply=False)
    if plan is None:
        return _backorder_pg(
            order_id=order_id,
            tenant_id=tenant_id,
            status=status,
            number=number,
            external_id=external_id,
            hold_reasons=hold_reasons,
        )
    increments: dict[int, int] = defaultdict(int)
    for reservations in plan.values():
        for r in reservations:
            increments[r.balance_id] += r.quantity
    allocations = _allocation_rows(lines, plan)
    event_id = uuid.uuid4()
    payload = {
        "id": str(order_id),
        "number": number,
        "external_id": external_id,
        "status": Status.ALLOCATED,
        "hold_reasons": hold_reasons,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            _ALLOCATE_SQL,
            {
                "order": order_id,
                "tenant": tenant_id,
                "from_status": status,
                "now": timezone.now(),
                "balances": list(increments),
                "increments": list(increments.values()),
                "a_lines": [a[0] for a in allocations],
                "a_balances": [a[1] for a in allocations],
                "a_locations": [a[2] for a in allocations],
                "a_lots": [a[3] for a in allocations],
                "a_quantities": [a[4] for a in allocations],
                "event": event_id,
                "payload": json.dumps(payload),
            },
        )
        reserved, allocated, moved, delivery_ids = cursor.fetchone()
    # Under the locks these cannot differ; if they ever do, nothing of this transaction stays.
    if reserved != len(increments) or allocated != len(allocations) or moved != 1:
        raise OrderError("allocation raced with another change; retry", code="conflict")
    for delivery_id in delivery_ids:
        enqueue("fulfillment.webhooks.tasks.deliver_webhook", delivery_id=delivery_id)
    return Status.ALLOCATED


def _order_allocate_orm(*, order_id) -> str:
    """The same allocation through the ORM, for SQLite (embedded runs and the quick test suite)."""
    order = (
        Order.objects.select_for_update(no_key=True)
        .only("id", "tenant_id", "warehouse_id", "status", "number", "external_id", "hold_reasons")
        .filter(pk=order_id)
        .first()
    )
    if order is None or order.status not in {Status.RECEIVED, Status.BACKORDERED}:
        return order.status if order else "missing"
    lines = list(
        OrderLine.objects.filter(order_id=order.pk)
        .order_by("pk")
        .values_list("pk", "product_id", "quantity", "allocated_quantity")
    )
    needs: dict = defaultdict(int)
    for _pk, product_id, quantity, allocated in lines:
        needs[product_id] += quantity - allocated
    plan = inventory.stock_reserve(tenant_id=order.tenant_id, warehouse_id=order.warehouse_id, needs=dict(needs))
    if plan is None:
        return _backorder(order_id)
    OrderAllocation.objects.bulk_create(
        [
            OrderAllocation(
                tenant_id=order.tenant_id,
                line_id=line_id,
                balance_id=balance_id,
                location_id=location_id,
                lot_id=lot_id,
                quantity=quantity,
            )
            for line_id, balance_id, location_id, lot_id, quantity in _allocation_rows(lines, plan)
        ]
    )
    OrderLine.objects.filter(order_id=order.pk).update(allocated_quantity=F("quantity"), backordered_quantity=0)
    _transition(order, Status.ALLOCATED, message="Stock allocated")
    return order.status


def backordered_order_ids(*, warehouse_id, product_ids) -> list:
    """Backorders that want these products, first in priority order (priority, ship_by, arrival)."""
    return list(
        Order.objects.filter(warehouse_id=warehouse_id, status=Status.BACKORDERED, lines__product_id__in=product_ids)
        .order_by("-priority", "ship_by", "created_at", "pk")
        .values_list("pk", flat=True)
        .distinct()
    )


def reallocate_backorders(*, warehouse_id, product_ids) -> int:
    allocated = 0
    seen = set()
    for order_id in backordered_order_ids(warehouse_id=warehouse_id, product_ids=product_ids):
        if order_id in seen:
            continue
        seen.add(order_id)
        if order_allocate(order_id=order_id) == Status.ALLOCATED:
            allocated += 1
    return allocated


def unallocated_order_ids(*, older_than_seconds: int = 30) -> list:
    """Orders a lost message left in received, and every backorder (the periodic sweep)."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    return list(
        Order.objects.filter(status__in=[Status.RECEIVED, Status.BACKORDERED], updated_at__lt=cutoff)
        .order_by("-priority", "ship_by", "created_at")
        .values_list("pk", flat=True)[:1000]
    )


def _release_all(order: Order, *, actor: str) -> None:
    """Give back everything the order holds: reservations and picked units (put back where they came from)."""
    allocations = list(
        OrderAllocation.objects.filter(line__order=order, released=False)
        .select_related("location")
        .order_by("balance_id")
    )
    for allocation in allocations:
        unpicked = allocation.quantity - allocation.picked_quantity
        if unpicked:
            inventory.stock_release(balance_id=allocation.balance_id, quantity=unpicked)
        if allocation.picked_quantity:
            inventory.stock_transfer(
                tenant_id=order.tenant_id,
                product_id=allocation.line.product_id,
                lot_id=allocation.lot_id,
                warehouse_id=order.warehouse_id,
                source_code="PACKING",
                target=allocation.location,
                quantity=allocation.picked_quantity,
                reason=MovementReason.PUT_BACK,
                reference=f"order {order.number} cancelled",
                actor=actor,
            )
    OrderAllocation.objects.filter(pk__in=[a.pk for a in allocations]).update(released=True)
    OrderLine.objects.filter(order=order).update(allocated_quantity=0, backordered_quantity=0, picked_quantity=0)


@transaction.atomic
def order_cancel(*, order_id, tenant_id=None, actor: str = "", reason: str = "") -> Order:
    order = _locked(order_id, tenant_id=tenant_id)
    if order is None:
        raise Order.DoesNotExist
    if order.status not in CANCELLABLE:
        raise InvalidTransition(f"An order in {order.status} can no longer be cancelled.", code="invalid_state")
    _release_all(order, actor=actor)
    _transition(order, Status.CANCELLED, actor=actor, message=reason or "Cancelled")
    _enqueue_reallocation(order)
    return order


# -- transitions driven by later stages ----------------------------------------------------


@transaction.atomic
def order_mark_picking(*, order_id, actor: str = "", wave: str = "") -> Order:
    order = _locked(order_id)
    _transition(order, Status.PICKING, actor=actor, message=f"In wave {wave}" if wave else "Picking")
    return order


def allocation_pick(*, allocation_id, quantity: int, actor: str = "", reference: str = "") -> OrderAllocation:
    """Record picked units of one allocation (the stock moves to PACKING); runs in the caller's transaction."""
    allocation = (
        OrderAllocation.objects.select_for_update(no_key=True, of=("self",))
        .select_related("line")
        .get(pk=allocation_id)
    )
    if allocation.released or allocation.picked_quantity + quantity > allocation.quantity:
        raise OrderError("more units than were allocated", code="over_pick")
    inventory.stock_pick(balance_id=allocation.balance_id, quantity=quantity, reference=reference, actor=actor)
    OrderAllocation.objects.filter(pk=allocation.pk).update(picked_quantity=F("picked_quantity") + quantity)
    OrderLine.objects.filter(pk=allocation.line_id).update(picked_quantity=F("picked_quantity") + quantity)
    allocation.picked_quantity += quantity
    return allocation


def allocation_short(*, allocation_id, actor: str = "") -> tuple[OrderAllocation | None, int]:
    """The unpicked rest of an allocation is not there: release it and try the same product elsewhere.

    Returns (a new allocation at another location or None, the quantity that was short).
    """
    allocation = (
        OrderAllocation.objects.select_for_update(no_key=True, of=("self",))
        .select_related("line__order")
        .get(pk=allocation_id)
    )
    missing = allocation.quantity - allocation.picked_quantity
    if missing <= 0 or allocation.released:
        return None, 0
    order = allocation.line.order
    inventory.stock_release(balance_id=allocation.balance_id, quantity=missing)
    # What the picker could not find must not be promised again before someone counts it.
    inventory.stock_write_off_missing(
        balance_id=allocation.balance_id, quantity=missing, reference=f"short pick, order {order.number}", actor=actor
    )
    OrderAllocation.objects.filter(pk=allocation.pk).update(quantity=allocation.picked_quantity)
    _event(
        order,
        "short_pick",
        message=f"{missing} x {allocation.line.sku} missing at {allocation.location_id}",
        actor=actor,
    )
    plan = inventory.stock_reserve(
        tenant_id=order.tenant_id,
        warehouse_id=order.warehouse_id,
        needs={allocation.line.product_id: missing},
        exclude_location_ids=[allocation.location_id],
    )
    if plan:
        r = plan[allocation.line.product_id][0]
        if r.quantity == missing:
            replacement = OrderAllocation.objects.create(
                tenant_id=order.tenant_id,
                line=allocation.line,
                balance_id=r.balance_id,
                location_id=r.location_id,
                lot_id=r.lot_id,
                quantity=missing,
            )
            return replacement, missing
        for reservations in plan.values():  # spread over several places: keep it simple, wait for stock
            for res in reservations:
                inventory.stock_release(balance_id=res.balance_id, quantity=res.quantity)
    OrderLine.objects.filter(pk=allocation.line_id).update(
        allocated_quantity=F("allocated_quantity") - missing, backordered_quantity=F("backordered_quantity") + missing
    )
    return None, missing


@transaction.atomic
def order_mark_picked(*, order_id, actor: str = "") -> Order:
    """All pick tasks of the order are done: picked if complete, else back to backordered for the rest."""
    order = _locked(order_id)
    if order.status != Status.PICKING:
        return order
    short = order.lines.filter(backordered_quantity__gt=0).exists()
    if short:
        _transition(order, Status.BACKORDERED, actor=actor, message="Short picked; waiting for stock")
        enqueue("orders.tasks.allocate_order", order_id=str(order.pk))
    else:
        _transition(order, Status.PICKED, actor=actor, message="All lines picked")
    return order


@transaction.atomic
def order_mark_packed(*, order_id, actor: str = "", message: str = "") -> Order:
    order = _locked(order_id)
    _transition(order, Status.PACKED, actor=actor, message=message or "Packed")
    return order


@transaction.atomic
def order_mark_shipped(*, order_id, actor: str = "", data: dict | None = None) -> Order:
    """The parcel left: picked units move from PACKING to the customer."""
    order = _locked(order_id)
    if order.status == Status.SHIPPED:
        return order
    for allocation in OrderAllocation.objects.filter(
        line__order=order, released=False, picked_quantity__gt=0
    ).select_related("line"):
        inventory.stock_transfer(
            tenant_id=order.tenant_id,
            product_id=allocation.line.product_id,
            lot_id=allocation.lot_id,
            warehouse_id=order.warehouse_id,
            source_code="PACKING",
            target_code="V-CUSTOMER",
            quantity=allocation.picked_quantity,
            reason=MovementReason.SHIPMENT,
            reference=f"order {order.number}",
            actor=actor,
        )
    OrderAllocation.objects.filter(line__order=order, released=False).update(released=True)
    OrderLine.objects.filter(order=order).update(shipped_quantity=F("picked_quantity"))
    _transition(order, Status.SHIPPED, actor=actor, message="Shipped", data=data)
    return order


@transaction.atomic
def order_mark_delivered(*, order_id, actor: str = "") -> Order:
    order = _locked(order_id)
    if order.status == Status.DELIVERED:
        return order
    _transition(order, Status.DELIVERED, actor=actor, message="Delivered")
    return order


def order_note(*, order_id, type: str, message: str, data=None, actor: str = "") -> None:
    order = Order.objects.get(pk=order_id)
    _event(order, type, message=message, data=data, actor=actor)
