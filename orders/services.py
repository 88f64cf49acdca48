"""Every write to orders: intake, holds, allocation, cancellation and the later stages' transitions.

A transition is a compare-and-set on ``status`` against transitions.ALLOWED, plus an
OrderEvent and (where API.md names one) a webhook outbox row, all in one transaction.
Locks: the order row first, then stock balances in location order, then primary key (inventory.services).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from fulfillment.bulk import copy_rows, sequence_values
from fulfillment.errors import FieldRefusal, Problem
from fulfillment.jobs import enqueue
from fulfillment.tenancy.models import Tenant
from fulfillment.webhooks.services import event_publish, events_publish_many
from inventory import services as inventory
from inventory.models import CountReason, Location, Lot, MovementReason, Product, StockBalance, Warehouse
from inventory.services.counts import count_request
from orders import promise
from orders.models import (
    PRIORITY,
    HoldReason,
    Order,
    OrderAllocation,
    OrderEvent,
    OrderLine,
    OrderNumber,
    Status,
)
from orders.notifications import wants_email
from orders.payments import payment_verifier
from orders.transitions import CANCELLABLE, EVENTS, can_transition
from orders.validation import address_check

logger = logging.getLogger(__name__)


class OrderError(FieldRefusal):
    """A refused order action: 422 naming the fields at fault, or 409 when it conflicts with the
    order's state (a duplicate external_id, a refused or raced transition)."""

    CONFLICTS = frozenset({"duplicate", "invalid_state", "conflict"})

    def __init__(self, message: str, *, errors: list[dict] | None = None, code: str = "invalid"):
        super().__init__(message, errors=errors, code=code, status=409 if code in self.CONFLICTS else 422)

    def problem(self) -> Problem:
        problem = super().problem()
        if self.code != "duplicate":
            return problem
        # A DuplicateOrder names the order that already has the external_id.
        existing = getattr(self, "existing_id", None)
        return problem._replace(extra={"existing_order_id": str(existing) if existing else None})


class DuplicateOrder(OrderError):
    MESSAGE = "An order with this external_id already exists."

    def __init__(self, existing_id):
        super().__init__(self.MESSAGE, code="duplicate")
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


def webhook_data(*, order_id, number: str, external_id: str, status: str, hold_reasons: list) -> dict:
    """The data of order webhooks (a compact order; the API has the whole one)."""
    return {
        "id": str(order_id),
        "number": number,
        "external_id": external_id,
        "status": status,
        "hold_reasons": hold_reasons,
    }


def order_payload(order: Order) -> dict:
    return webhook_data(
        order_id=order.id,
        number=order.number,
        external_id=order.external_id,
        status=order.status,
        hold_reasons=order.hold_reasons,
    )


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


def _holds(*, order_data, address_problems: list[dict]) -> list[str]:
    """Payment holds from the configured verifier (orders.payments), then the address hold."""
    holds = list(payment_verifier().holds(order_data=order_data))
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


@dataclass
class CreateResult:
    """The answer for one order of a bulk call or an import row group: 201, 409 or 422."""

    status: int
    order_id: object = None
    errors: list[dict] = field(default_factory=list)
    existing_id: object = None
    # 201: the order as written, for answers: the columns of orders_order, plus ``warehouse``,
    # ``lines`` (tuples in _LINE_COLUMNS order) and ``line_ids``.
    row: dict | None = None


@dataclass
class _Prepared:
    """An order that passed validation, ready to insert."""

    data: OrderInput
    warehouse: Warehouse
    product_ids: list
    ship_to: dict
    problems: list[dict]
    holds: list[str]
    ship_by: datetime
    promised: date


class _Intake:
    """What one intake call looks up once: warehouses, products and promise dates."""

    def __init__(self, tenant, items: list[OrderInput]):
        self.tenant = tenant
        self.now = timezone.now()
        skus = {line.sku for item in items for line in item.lines}
        self.products = dict(Product.objects.filter(tenant_id=tenant.pk, sku__in=skus).values_list("sku", "pk"))
        self._warehouses: dict[str, Warehouse] = {}
        self._promises: dict[tuple, tuple] = {}

    def warehouse(self, code: str) -> Warehouse:
        if code not in self._warehouses:
            self._warehouses[code] = _warehouse_for(self.tenant, code)
        return self._warehouses[code]

    def promise(self, warehouse: Warehouse, method: str, destination: str) -> tuple[datetime, date]:
        key = (warehouse.pk, method, destination)
        if key not in self._promises:
            ship_by_at = promise.ship_by(warehouse=warehouse, method=method, now=self.now)
            promised = promise.promised_delivery_date(
                ship_by_at=ship_by_at, method=method, destination_country=destination, origin_country=warehouse.country
            )
            self._promises[key] = (ship_by_at, promised)
        return self._promises[key]

    def prepare(self, data: OrderInput) -> _Prepared:
        """Validate one order against the catalog and the address rules; OrderError when refused."""
        warehouse = self.warehouse(data.warehouse)
        errors = [
            {"field": f"lines[{i}].sku", "code": "unknown_sku", "message": f"unknown SKU {line.sku}"}
            for i, line in enumerate(data.lines)
            if line.sku not in self.products
        ]
        if errors:
            raise OrderError("The order names products that do not exist.", errors=errors, code="unknown_sku")
        ship_to, problems = address_check(data.ship_to)
        ship_by_at, promised = self.promise(warehouse, data.shipping_method, ship_to.get("country", ""))
        return _Prepared(
            data=data,
            warehouse=warehouse,
            product_ids=[self.products[line.sku] for line in data.lines],
            ship_to=ship_to,
            problems=problems,
            holds=_holds(order_data=data, address_problems=problems),
            ship_by=ship_by_at,
            promised=promised,
        )


_ORDER_COLUMNS = (
    "id", "tenant_id", "number", "external_id", "parent_id", "warehouse_id", "status", "hold_reasons",
    "address_errors", "shipping_method", "payment_status", "currency", "ship_to", "priority", "ship_by",
    "promised_delivery_date", "created_at", "updated_at",
)  # fmt: skip
_LINE_COLUMNS = (
    "tenant_id", "order_id", "product_id", "sku", "quantity", "unit_price", "allocated_quantity",
    "backordered_quantity", "picked_quantity", "shipped_quantity",
)  # fmt: skip
_EVENT_COLUMNS = ("tenant_id", "order_id", "type", "from_status", "to_status", "message", "data", "actor", "created_at")


def _insert(tenant, prepared: list[_Prepared], *, actor: str) -> list[dict]:
    """Write validated orders set-wise (COPY on PostgreSQL): orders, lines, timeline, outbox; then
    allocation messages on commit. Returns the orders as rows (dicts) for the answer.

    A held order is written straight in on_hold, with the same timeline and events as a received
    order put on hold. Raises IntegrityError when an external_id was taken meanwhile.
    """
    now = timezone.now()
    actor = actor[:100]
    numbers = sequence_values(OrderNumber, len(prepared))
    orders, order_rows, line_rows, event_rows, outbox = [], [], [], [], []
    for p, number in zip(prepared, numbers, strict=True):
        data = p.data
        order_id = uuid.uuid4()
        status = Status.ON_HOLD if p.holds else Status.RECEIVED
        row = {
            "id": order_id,
            "tenant_id": tenant.pk,
            "number": f"{number + 1000:07d}",
            "external_id": data.external_id,
            "parent_id": None,
            "warehouse_id": p.warehouse.pk,
            "status": status,
            "hold_reasons": p.holds,
            "address_errors": p.problems,
            "shipping_method": data.shipping_method,
            "payment_status": data.payment_status,
            "currency": data.currency,
            "ship_to": p.ship_to,
            "priority": PRIORITY[data.shipping_method],
            "ship_by": p.ship_by,
            "promised_delivery_date": p.promised,
            "created_at": now,
            "updated_at": now,
        }
        order_rows.append(tuple(row[name] for name in _ORDER_COLUMNS))
        row["warehouse"] = p.warehouse
        row["lines"] = [
            (tenant.pk, order_id, product_id, line.sku, line.quantity, line.unit_price, 0, 0, 0, 0)
            for line, product_id in zip(data.lines, p.product_ids, strict=True)
        ]
        line_rows.extend(row["lines"])
        orders.append(row)
        ids = {"order_id": order_id, "number": row["number"], "external_id": data.external_id}
        event_rows.append((tenant.pk, order_id, "created", "", Status.RECEIVED, "Order received", {}, actor, now))
        outbox.append(("order.created", webhook_data(**ids, status=Status.RECEIVED, hold_reasons=[])))
        if p.holds:
            message = ("On hold: " + ", ".join(p.holds))[:500]
            event_rows.append(
                (tenant.pk, order_id, "status_changed", Status.RECEIVED, Status.ON_HOLD, message,
                 {"errors": p.problems}, actor, now)
            )  # fmt: skip
            outbox.append((EVENTS[Status.ON_HOLD], webhook_data(**ids, status=Status.ON_HOLD, hold_reasons=p.holds)))
    json_columns = ("hold_reasons", "address_errors", "ship_to")
    copy_rows(Order, _ORDER_COLUMNS, order_rows, json_columns=json_columns)
    line_ids = copy_rows(OrderLine, _LINE_COLUMNS, line_rows, with_ids=True)
    position = 0
    for order in orders:
        count = len(order["lines"])
        order["line_ids"] = line_ids[position : position + count]
        position += count
    copy_rows(OrderEvent, _EVENT_COLUMNS, event_rows, json_columns=("data",))
    events_publish_many(tenant_id=tenant.pk, events=outbox)
    if wants_email(tenant):
        for order in orders:
            if order["ship_to"].get("email"):
                enqueue("orders.tasks.send_shopper_email", order_id=str(order["id"]), kind="confirmation")
    ready = sorted((o for o in orders if o["status"] == Status.RECEIVED), key=_priority_key)
    for start in range(0, len(ready), ALLOCATION_BATCH):
        batch = ready[start : start + ALLOCATION_BATCH]
        enqueue("orders.tasks.allocate_orders", order_ids=[str(o["id"]) for o in batch])
    return orders


# Orders per allocation message: enough to amortise a message, few enough to spread over workers.
ALLOCATION_BATCH = 25


def _priority_key(order: dict) -> tuple:
    return (-order["priority"], order["ship_by"], order["number"])


def _existing_ids(tenant, external_ids) -> dict:
    return dict(
        Order.objects.filter(tenant_id=tenant.pk, parent__isnull=True, external_id__in=set(external_ids)).values_list(
            "external_id", "id"
        )
    )


@transaction.atomic
def order_create(*, tenant, data: OrderInput, actor: str = "") -> Order:
    """Validate and record an order; allocation starts in Celery once it commits."""
    existing = _existing_ids(tenant, [data.external_id])
    if existing:
        raise DuplicateOrder(existing[data.external_id])
    prepared = _Intake(tenant, [data]).prepare(data)
    try:
        with transaction.atomic():
            (row,) = _insert(tenant, [prepared], actor=actor)
    except IntegrityError:
        # A concurrent request with the same external_id won the race.
        raise DuplicateOrder(_existing_ids(tenant, [data.external_id]).get(data.external_id)) from None
    return Order.objects.get(pk=row["id"])


def order_create_many(*, tenant, items: list[OrderInput], actor: str = "") -> list[CreateResult]:
    """Create many orders in a few statements; each item succeeds or fails alone, results in item order.

    An external_id already used, or used earlier in the same call, is 409 with the existing order's id.
    If a concurrent call takes an external_id between the check and the insert, the batch falls back
    to one savepoint per order, so that only the clashing orders are refused.
    """
    results: list[CreateResult | None] = [None] * len(items)
    existing = _existing_ids(tenant, [item.external_id for item in items])
    intake = _Intake(tenant, items)
    prepared: list[tuple[int, _Prepared]] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.external_id in existing or item.external_id in first_index:
            results[index] = CreateResult(
                409,
                errors=[{"field": "external_id", "code": "duplicate", "message": DuplicateOrder.MESSAGE}],
                existing_id=existing.get(item.external_id),
            )
            continue
        try:
            prepared.append((index, intake.prepare(item)))
        except OrderError as exc:
            results[index] = CreateResult(
                422, errors=exc.errors or [{"field": None, "code": exc.code, "message": str(exc)}]
            )
            continue
        first_index[item.external_id] = index
    try:
        with transaction.atomic():
            order_rows = _insert(tenant, [p for _, p in prepared], actor=actor)
    except IntegrityError:
        for index, p in prepared:
            try:
                with transaction.atomic():
                    (order,) = _insert(tenant, [p], actor=actor)
            except IntegrityError:
                existing_id = _existing_ids(tenant, [p.data.external_id]).get(p.data.external_id)
                results[index] = CreateResult(
                    409,
                    errors=[{"field": "external_id", "code": "duplicate", "message": DuplicateOrder.MESSAGE}],
                    existing_id=existing_id,
                )
            else:
                results[index] = CreateResult(201, order_id=order["id"], row=order)
    else:
        for (index, _), order in zip(prepared, order_rows, strict=True):
            results[index] = CreateResult(201, order_id=order["id"], row=order)
    # A repeat of an external_id inside the call points at the order its first use created.
    created = {items[i].external_id: r.order_id for i, r in enumerate(results) if r and r.status == 201}
    for result, item in zip(results, items, strict=True):
        if result.status == 409 and result.existing_id is None:
            result.existing_id = created.get(item.external_id)
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
        order.ship_to, problems = address_check({**order.ship_to, **ship_to})
        warehouse = order.warehouse
        # A new destination may change the transit time, hence the promise.
        order.promised_delivery_date = promise.promised_delivery_date(
            ship_by_at=order.ship_by,
            method=order.shipping_method,
            destination_country=order.ship_to.get("country", ""),
            origin_country=warehouse.country,
            timezone_name=warehouse.timezone,
        )
        changed += ["ship_to", "promised_delivery_date"]
    else:
        problems = address_check(order.ship_to)[1]
    if payment_status is not None:
        order.payment_status = payment_status
        changed.append("payment_status")
    holds = _holds(order_data=order, address_problems=problems)
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
            _enqueue_reallocation(order)
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


# First ordered, first served: per line, the backorders ahead of this order (higher priority, or
# the same priority and earlier) in the same warehouse that wait for units of its product, each
# as "<queue key><order id> <units>" (the key sorts as the queue does: priority, then arrival);
# inventory.stock_reserve leaves them the units they can be served from. The partial index
# line_backordered_product finds those lines directly; OFFSET 0 keeps each line's order a
# primary-key lookup, whatever the statistics say about how many orders are backordered.
_ORDER_WITH_LINES_SQL = """
SELECT o.status, o.tenant_id, o.warehouse_id, o.number, o.external_id, o.hold_reasons,
       t.allow_partial_shipments, l.id, l.product_id, l.quantity, l.allocated_quantity,
       ARRAY(
           SELECT lpad((32767 - o2.priority)::text, 5, '0')
                  || to_char(o2.created_at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS')
                  || o2.id::text || ' ' || l2.backordered_quantity
           FROM orders_orderline l2
           CROSS JOIN LATERAL (
               SELECT o2.status, o2.warehouse_id, o2.priority, o2.created_at, o2.id FROM orders_order o2
               WHERE o2.id = l2.order_id OFFSET 0
           ) o2
           WHERE l2.product_id = l.product_id AND l2.backordered_quantity > 0
             AND o2.status = 'backordered' AND o2.warehouse_id = o.warehouse_id
             AND (o2.priority > o.priority OR (o2.priority = o.priority AND (o2.created_at, o2.id) < (o.created_at, o.id)))
       )
FROM orders_order o JOIN tenancy_tenant t ON t.id = o.tenant_id JOIN orders_orderline l ON l.order_id = o.id
WHERE o.id = %(order)s
ORDER BY l.id
FOR NO KEY UPDATE OF o
"""


def _ahead_pg(rows) -> list[tuple]:
    """(order_id, {product_id: units}) of the backorders ahead, in queue order, from the ahead
    column of _ORDER_WITH_LINES_SQL."""
    by_key: dict = {}
    for row in rows:
        product_id = row[8]
        for element in row[11]:
            key, units = element.rsplit(" ", 1)
            wants = by_key.setdefault(key, {})
            wants[product_id] = wants.get(product_id, 0) + int(units)
    return [(uuid.UUID(key[-36:]), wants) for key, wants in sorted(by_key.items())]


def _holdback_args(queue, *, per_line: bool, tenant_id, warehouse_id, product_ids) -> dict:
    """stock_reserve's holdback and holdback_elsewhere from (order_id, {product_id: units}) of the
    backorders ahead, in queue order (what they wait for of the order's ``product_ids``): one
    entry per order for ship-complete tenants (an order ahead is served whole or not at all, so
    one still short of anything it waits for keeps nothing back from the orders behind it;
    _waiting_elsewhere tells stock_reserve what else it waits for); one per line for tenants
    that ship partially (each line ships when it can)."""
    if per_line:
        return {
            "holdback": [
                ((order_id, product_id), {product_id: units})
                for order_id, wants in queue
                for product_id, units in wants.items()
            ]
        }
    return {
        "holdback": list(queue),
        "holdback_elsewhere": _waiting_elsewhere(
            tenant_id=tenant_id, warehouse_id=warehouse_id, product_ids=product_ids
        ),
    }


# What else some backorders ahead wait for (lines of products the allocating order does not
# have), each with what is free of that product now (inventory's definition, nothing locked), in
# one statement. OFFSET 0 keeps the lines an order_id lookup rather than a filter over every
# waiting line.
_ELSEWHERE_SQL = f"""
SELECT l.order_id, l.product_id, l.backordered_quantity, {inventory.FREE_UNITS_SQL.format(product="l.product_id")}
FROM (
    SELECT order_id, product_id, backordered_quantity FROM orders_orderline
    WHERE order_id = ANY(%(orders)s::uuid[]) OFFSET 0
) l
WHERE l.backordered_quantity > 0 AND NOT (l.product_id = ANY(%(mine)s::uuid[]))
"""


def _waiting_elsewhere(*, tenant_id, warehouse_id, product_ids):
    """stock_reserve's holdback_elsewhere: for some backorders ahead, their waiting lines of
    products other than ``product_ids`` (the allocating order's), as (order_id, product_id,
    units, free units of that product: inventory.FREE_UNITS_SQL)."""

    def lines(order_ids) -> list[tuple]:
        # The lines and what is free of them in one round trip.
        with connection.cursor() as cursor:
            params = {
                "tenant": tenant_id,
                "warehouse": warehouse_id,
                "today": timezone.localdate(),
                "orders": list(order_ids),
                "mine": list(product_ids),
            }
            cursor.execute(_ELSEWHERE_SQL, params)
            return cursor.fetchall()

    return lines


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


def _line_rows(order_id) -> list[tuple]:
    """(line_id, product_id, quantity, allocated_quantity) of an order's lines, in line order."""
    return list(
        OrderLine.objects.filter(order_id=order_id)
        .order_by("pk")
        .values_list("pk", "product_id", "quantity", "allocated_quantity")
    )


def _needs(lines) -> dict:
    """{product_id: units still to allocate} of (line_id, product_id, quantity, allocated) rows."""
    needs: dict = defaultdict(int)
    for _line_id, product_id, quantity, allocated in lines:
        needs[product_id] += quantity - allocated
    return dict(needs)


def _create_allocations(tenant_id, rows) -> None:
    """OrderAllocation rows from (line_id, balance_id, location_id, lot_id, quantity) tuples."""
    OrderAllocation.objects.bulk_create(
        [
            OrderAllocation(
                tenant_id=tenant_id, line_id=line_id, balance_id=balance_id, location_id=location_id,
                lot_id=lot_id, quantity=quantity,
            )
            for line_id, balance_id, location_id, lot_id, quantity in rows
        ]
    )  # fmt: skip


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
    payload = webhook_data(
        order_id=order_id, number=number, external_id=external_id, status=Status.BACKORDERED, hold_reasons=hold_reasons
    )
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
    with connection.cursor() as cursor:
        cursor.execute(_ORDER_WITH_LINES_SQL, {"order": order_id})
        rows = cursor.fetchall()
    if not rows:
        return "missing"
    status, tenant_id, warehouse_id, number, external_id, hold_reasons, partial = rows[0][:7]
    if isinstance(hold_reasons, str):  # Django's PostgreSQL connection leaves jsonb undecoded
        hold_reasons = json.loads(hold_reasons)
    if status not in {Status.RECEIVED, Status.BACKORDERED}:
        return status
    lines = [row[7:11] for row in rows]
    needs = _needs(lines)
    plan = inventory.stock_reserve(
        tenant_id=tenant_id,
        warehouse_id=warehouse_id,
        needs=needs,
        **_holdback_args(
            _ahead_pg(rows), per_line=partial, tenant_id=tenant_id, warehouse_id=warehouse_id, product_ids=list(needs)
        ),
        apply=False,
    )
    if plan is None and partial:
        return _allocate_and_split(order_id)
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
    payload = webhook_data(
        order_id=order_id, number=number, external_id=external_id, status=Status.ALLOCATED, hold_reasons=hold_reasons
    )
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


def _waiting_ahead(order: Order, *, product_ids: list, per_line: bool) -> dict:
    """stock_reserve's holdback and holdback_elsewhere for ``order`` (_holdback_args): what the
    backorders ahead of it in its warehouse wait for of ``product_ids``, in queue order; the ORM
    twin of the ahead column of _ORDER_WITH_LINES_SQL. ``per_line``: the tenant ships partially."""
    ahead = Q(order__priority__gt=order.priority) | Q(
        order__priority=order.priority, order__created_at__lt=order.created_at
    )
    ahead |= Q(order__priority=order.priority, order__created_at=order.created_at, order_id__lt=order.pk)
    rows = (
        OrderLine.objects.filter(
            ahead,
            product_id__in=product_ids,
            backordered_quantity__gt=0,
            order__status=Status.BACKORDERED,
            order__warehouse_id=order.warehouse_id,
        )
        .order_by("-order__priority", "order__created_at", "order_id")
        .values_list("order_id", "product_id", "backordered_quantity")
    )
    queue: dict = {}
    for order_id, product_id, units in rows:
        wants = queue.setdefault(order_id, {})
        wants[product_id] = wants.get(product_id, 0) + units
    return _holdback_args(
        queue.items(),
        per_line=per_line,
        tenant_id=order.tenant_id,
        warehouse_id=order.warehouse_id,
        product_ids=product_ids,
    )


def _partial_allowed(tenant_id) -> bool:
    return Tenant.objects.filter(pk=tenant_id, allow_partial_shipments=True).exists()


def _allocate_and_split(order_id) -> str:
    """Partial shipments: the order keeps what is in stock now and ships it; the rest becomes a
    backordered split order (same external_id, number "<root>-N", the same place in the queue).

    Runs in order_allocate's transaction with the order row locked. With nothing in stock at all
    the order simply waits as a backorder, unsplit.
    """
    order = _locked(order_id)
    lines = _line_rows(order.pk)
    needs = _needs(lines)
    plan = inventory.stock_reserve(
        tenant_id=order.tenant_id,
        warehouse_id=order.warehouse_id,
        needs=needs,
        partial=True,
        **_waiting_ahead(order, product_ids=list(needs), per_line=True),
    )
    if not plan:
        return _backorder(order_id)
    rows = _allocation_rows(lines, plan)
    _create_allocations(order.tenant_id, rows)
    got: dict = defaultdict(int)
    for line_id, *_rest, quantity in rows:
        got[line_id] += quantity
    rests = {
        line_id: quantity - allocated - got[line_id]
        for line_id, _product_id, quantity, allocated in lines
        if quantity - allocated - got[line_id] > 0
    }
    if rests:
        _split_off(order, rests, why="partial shipment")
    # Every line left on the order is now wholly allocated (those cut to what was found, and
    # those that were covered in full).
    OrderLine.objects.filter(order_id=order.pk).update(allocated_quantity=F("quantity"), backordered_quantity=0)
    _transition(order, Status.ALLOCATED, message="Stock allocated (partial shipment)")
    return order.status


def _split_off(order: Order, rests: dict, *, why: str) -> Order:
    """Move ``rests`` {line_id: units} of ``order`` into a new backordered split order: same
    external_id, number "<root>-N", the order's place in the queue (its arrival time), a timeline
    entry on both and ``order.backordered`` for the split. Partial shipments use it twice: at
    allocation (what is not in stock) and when a short-picked order is picked (what was not found).

    A line that keeps units is cut to them (they are all allocated) and the split gets a new line
    for the rest. A line that keeps nothing moves to the split whole, with its spent allocations
    (they hold nothing, so they are marked released): a line's quantity must stay positive, and
    once pick tasks refer to its allocations it cannot be deleted. Runs in the caller's
    transaction with the order row locked; the caller moves the order itself on.
    """
    root = order.parent or order
    split = Order.objects.create(
        tenant_id=order.tenant_id,
        parent=root,
        number=f"{root.number}-{root.splits.count() + 2}",
        external_id=order.external_id,
        warehouse_id=order.warehouse_id,
        status=Status.BACKORDERED,
        shipping_method=order.shipping_method,
        payment_status=order.payment_status,
        currency=order.currency,
        ship_to=order.ship_to,
        priority=order.priority,
        ship_by=order.ship_by,
        promised_delivery_date=order.promised_delivery_date,
    )
    # Keep the original arrival time: the split waits in the queue where the order was.
    Order.objects.filter(pk=split.pk).update(created_at=order.created_at)
    split.created_at = order.created_at
    new_lines, summary = [], []
    for line in OrderLine.objects.filter(order_id=order.pk, pk__in=list(rests)).order_by("pk"):
        rest = min(rests[line.pk], line.quantity)
        kept = line.quantity - rest
        summary.append(f"{rest} x {line.sku}")
        if kept:
            new_lines.append(
                OrderLine(
                    tenant_id=order.tenant_id, order=split, product_id=line.product_id, sku=line.sku, quantity=rest,
                    unit_price=line.unit_price, backordered_quantity=rest,
                )
            )  # fmt: skip
            OrderLine.objects.filter(pk=line.pk).update(quantity=kept, allocated_quantity=kept, backordered_quantity=0)
        else:
            OrderLine.objects.filter(pk=line.pk).update(order=split, allocated_quantity=0, backordered_quantity=rest)
            OrderAllocation.objects.filter(line_id=line.pk).update(released=True)
    OrderLine.objects.bulk_create(new_lines)
    _event(
        order,
        "split",
        message=f"Split: {', '.join(summary)} backordered as {split.number}",
        data={"split": str(split.pk), "number": split.number},
    )
    _event(
        split,
        "created",
        to_status=Status.BACKORDERED,
        message=f"Backordered rest of {order.number} ({why})",
        data={"parent": str(order.pk)},
    )
    event_publish(tenant_id=order.tenant_id, type=EVENTS[Status.BACKORDERED], data=order_payload(split))
    return split


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
    """Give back everything the order holds: reservations now, picked units through put-back tasks."""
    put_backs: list[str] = []
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
            # Picked units wait in PACKING until an associate carries them back (a put-back task).
            inventory.put_back_task_create(
                tenant_id=order.tenant_id,
                warehouse_id=order.warehouse_id,
                product_id=allocation.line.product_id,
                lot_id=allocation.lot_id,
                to_location_id=allocation.location_id,
                quantity=allocation.picked_quantity,
                reference=f"order {order.number}",
            )
            put_backs.append(f"{allocation.picked_quantity} x {allocation.line.sku} to {allocation.location.code}")
    OrderAllocation.objects.filter(pk__in=[a.pk for a in allocations]).update(released=True)
    if put_backs:
        _event(order, "put_back", message="Put-back tasks: " + "; ".join(put_backs), actor=actor)
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


# Orders per statement of order_mark_picking_many: well under every back end's parameter limit.
_MANY_CHUNK = 2000


@transaction.atomic
def order_mark_picking_many(*, order_ids, actor: str = "", wave: str = "") -> list:
    """``order_mark_picking`` for a whole wave in a few statements; returns the ids that moved.

    Per chunk: the orders still allocated are locked in primary-key order (a no-op for a wave
    release, which holds them already), then moved by one compare-and-set UPDATE; one timeline
    entry each (COPY on PostgreSQL). An order that is no longer allocated is left as it is.
    """
    if not can_transition(Status.ALLOCATED, Status.PICKING):
        raise InvalidTransition("An order cannot go from allocated to picking.", code="invalid_state")
    now = timezone.now()
    actor = actor[:100]
    message = (f"In wave {wave}" if wave else "Picking")[:500]
    moved: list = []
    events: list[tuple] = []
    outbox: dict = defaultdict(list)
    ids = sorted(set(order_ids), key=str)
    for start in range(0, len(ids), _MANY_CHUNK):
        chunk = ids[start : start + _MANY_CHUNK]
        rows = list(
            Order.objects.select_for_update(no_key=True)
            .filter(pk__in=chunk, status=Status.ALLOCATED)
            .order_by("pk")
            .values_list("pk", "tenant_id", "number", "external_id", "hold_reasons")
        )
        if not rows:
            continue
        changed = Order.objects.filter(pk__in=[r[0] for r in rows], status=Status.ALLOCATED).update(
            status=Status.PICKING, updated_at=now
        )
        if changed != len(rows):
            raise InvalidTransition("Orders changed state concurrently (were allocated).", code="conflict")
        for order_id, tenant_id, number, external_id, hold_reasons in rows:
            moved.append(order_id)
            events.append(
                (tenant_id, order_id, "status_changed", Status.ALLOCATED, Status.PICKING, message, {}, actor, now)
            )
            if Status.PICKING in EVENTS:
                data = webhook_data(
                    order_id=order_id,
                    number=number,
                    external_id=external_id,
                    status=Status.PICKING,
                    hold_reasons=hold_reasons,
                )
                outbox[tenant_id].append((EVENTS[Status.PICKING], data))
    copy_rows(OrderEvent, _EVENT_COLUMNS, events, json_columns=("data",))
    for tenant_id, tenant_events in outbox.items():
        events_publish_many(tenant_id=tenant_id, events=tenant_events)
    return moved


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


@dataclass
class ShortOutcome:
    """What a short pick of one allocation came to."""

    missing: int = 0  # units that were not where the allocation said
    location_code: str = ""  # where they were missing
    replacements: list[OrderAllocation] = field(default_factory=list)  # where they were found instead
    backordered: int = 0  # units left waiting for stock
    count_id: object = None  # the open cycle count of the short location


def allocation_short_lock(*, allocation_id) -> None:
    """Lock every stock balance a short pick of this allocation may touch, before the pick moves a unit.

    The PACKING balance of its lot (where a pick of the units that were there goes), every
    sellable balance of the product in the warehouse (where replacements may come from) and the
    short one, in one statement in location order, then primary key: the order stock_reserve
    locks candidates in and _move locks a movement's two balances in, so that a short pick, a
    reservation and a transfer of the same product queue instead of deadlocking. Without it two
    short picks of the same product, each holding the balance it was short at and looking for
    stock at the other's, would deadlock. Locks the allocation row first (the house order: order,
    pick list, task, allocation, balances); runs in the caller's transaction.
    """
    allocation = (
        OrderAllocation.objects.select_for_update(no_key=True, of=("self",))
        .select_related("balance", "location")
        .get(pk=allocation_id)
    )
    balance, warehouse_id = allocation.balance, allocation.location.warehouse_id
    mine = Q(tenant_id=balance.tenant_id, product_id=balance.product_id, location__warehouse_id=warehouse_id)
    list(
        StockBalance.objects.select_for_update(no_key=True, of=("self",))
        .filter(
            Q(pk=balance.pk)
            | (mine & Q(location__is_sellable=True))
            | (mine & Q(lot_id=balance.lot_id, location__code="PACKING"))
        )
        .order_by("location_id", "pk")
        .values_list("pk", flat=True)
    )


def _places(allocations: list[OrderAllocation], codes: dict) -> str:
    return ", ".join(f"{codes[a.location_id]} ({a.quantity})" for a in allocations)


@transaction.atomic
def allocation_short(*, allocation_id, actor: str = "") -> ShortOutcome:
    """The unpicked rest of an allocation is not there: write it off, look for it elsewhere, count the place.

    The missing units leave sellable stock (until a count finds them) and a cycle count of the
    location is requested at once. Replacement stock is the same tenant's product in the same
    warehouse, never at the short location, chosen as allocation chooses (FIFO, FEFO for
    expiry-tracked products, no lot under its minimum shelf life, backorders ahead in the queue
    served first); it may be spread over several locations and lots (one new allocation each).
    How much is taken follows the tenant's shipping rule, as allocation does:

    - ship complete (the default): the line is either found again in full or waits; taking part
      of it would tie up stock for an order that cannot ship before the rest arrives anyway;
    - partial shipments: whatever is there now is taken and only the rest waits (the order
      ships what it can, the rest as a split order when it is picked; order_mark_picked).

    Units that wait are moved from the line's allocated to its backordered quantity. The
    timeline says what was short, where, and what became of it. Locks: the order row, the
    allocation, then the balances (allocation_short_lock); runs inside the pick's transaction.
    """
    order_id = OrderAllocation.objects.filter(pk=allocation_id).values_list("line__order_id", flat=True).first()
    order = _locked(order_id)
    allocation = (
        OrderAllocation.objects.select_for_update(no_key=True, of=("self",))
        .select_related("line", "location")
        .get(pk=allocation_id)
    )
    missing = allocation.quantity - allocation.picked_quantity
    if missing <= 0 or allocation.released:
        return ShortOutcome()
    line, here = allocation.line, allocation.location
    allocation_short_lock(allocation_id=allocation.pk)
    inventory.stock_release(balance_id=allocation.balance_id, quantity=missing)
    # A spent allocation (nothing picked) holds nothing: released, like the order's other given-back stock.
    OrderAllocation.objects.filter(pk=allocation.pk).update(
        quantity=allocation.picked_quantity, released=allocation.picked_quantity == 0
    )
    partial = _partial_allowed(order.tenant_id)
    plan = inventory.stock_reserve(
        tenant_id=order.tenant_id,
        warehouse_id=order.warehouse_id,
        needs={line.product_id: missing},
        partial=partial,
        exclude_location_ids=[here.pk],
        **_waiting_ahead(order, product_ids=[line.product_id], per_line=partial),
    )
    replacements = [
        OrderAllocation.objects.create(
            tenant_id=order.tenant_id,
            line=line,
            balance_id=r.balance_id,
            location_id=r.location_id,
            lot_id=r.lot_id,
            quantity=r.quantity,
        )
        for r in (plan or {}).get(line.product_id, [])
    ]
    found = sum(a.quantity for a in replacements)
    backordered = missing - found
    if backordered:
        OrderLine.objects.filter(pk=line.pk).update(
            allocated_quantity=F("allocated_quantity") - backordered,
            backordered_quantity=F("backordered_quantity") + backordered,
        )
    # Written off last: V-ADJUSTMENT's balance is the one lock taken outside allocation_short_lock.
    written_off = inventory.stock_write_off_missing(
        balance_id=allocation.balance_id, quantity=missing, reference=f"short pick, order {order.number}", actor=actor
    )
    count, _created = count_request(location_id=here.pk, reason=CountReason.SHORT_PICK, hold=True)
    codes = dict(Location.objects.filter(pk__in={a.location_id for a in replacements}).values_list("pk", "code"))
    lots = dict(Lot.objects.filter(pk__in={a.lot_id for a in replacements}).values_list("pk", "code"))
    if not backordered:
        outcome = f"found at {_places(replacements, codes)}"
    elif found:
        outcome = f"found at {_places(replacements, codes)}; {backordered} backordered (partial shipments)"
    elif partial:
        outcome = "none elsewhere; backordered (partial shipments: the rest of the order may ship first)"
    else:
        outcome = "none elsewhere; backordered, the order waits for it (ship complete)"
    _event(
        order,
        "short_pick",
        message=f"{missing} x {line.sku} missing at {here.code}: {outcome}. Count of {here.code} requested.",
        data={
            "sku": line.sku,
            "location": here.code,
            "missing": missing,
            "written_off": written_off,
            "found": [
                {"location": codes[a.location_id], "lot": lots[a.lot_id], "quantity": a.quantity} for a in replacements
            ],
            "backordered": backordered,
            "count": str(count.pk) if count else None,
        },
        actor=actor,
    )
    return ShortOutcome(
        missing=missing,
        location_code=here.code,
        replacements=replacements,
        backordered=backordered,
        count_id=count.pk if count else None,
    )


@transaction.atomic
def order_mark_picked(*, order_id, actor: str = "") -> Order:
    """All pick tasks of the order are done: picked if complete; else what a short pick left waiting.

    Ship complete: back to backordered for the rest (the picked units wait in PACKING and a new
    allocation reserves only what is missing). Partial shipments: the order goes on to picked
    with what was picked and the missing units become a backordered split order, as at
    allocation; when nothing at all was picked there is nothing to ship, so the order itself waits.
    """
    order = _locked(order_id)
    if order.status != Status.PICKING:
        return order
    lines = list(
        OrderLine.objects.filter(order_id=order.pk).values_list("pk", "picked_quantity", "backordered_quantity")
    )
    rests = {line_id: waiting for line_id, _picked, waiting in lines if waiting > 0}
    if not rests:
        _transition(order, Status.PICKED, actor=actor, message="All lines picked")
    elif _partial_allowed(order.tenant_id) and any(picked for _line_id, picked, _waiting in lines):
        split = _split_off(order, rests, why="short pick, partial shipment")
        _transition(
            order, Status.PICKED, actor=actor, message=f"Picked what was there; the rest ships later as {split.number}"
        )
        enqueue("orders.tasks.allocate_order", order_id=str(split.pk))
    else:
        _transition(order, Status.BACKORDERED, actor=actor, message="Short picked; waiting for stock")
        enqueue("orders.tasks.allocate_order", order_id=str(order.pk))
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
    if (order.ship_to or {}).get("email") and wants_email(order.tenant):
        enqueue("orders.tasks.send_shopper_email", order_id=str(order.pk), kind="shipped")
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
