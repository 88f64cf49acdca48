"""Allocation: reserve stock for an order (first ordered, first served), backorder it when stock
is short, split it when its tenant ships partially; the backorder queue and its sweeps.

Locks: the order row first, then the candidate balances in location order, then primary key
(inventory.stock_reserve).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from fulfillment.jobs import enqueue
from fulfillment.webhooks.services import deliveries_sql, event_publish
from inventory import services as inventory
from orders import locks
from orders.models import Order, OrderAllocation, OrderLine, Status
from orders.services.common import OrderError, _event, _transition, order_payload, webhook_data
from orders.transitions import EVENTS


# The hot path of allocation: three round trips per order. (1) the order row, locked,
# with its lines; (2) the candidate balances, locked (inventory.stock_reserve); (3) one statement
# that writes everything else: the reservations, the allocation rows, the lines, the status
# compare-and-set, the timeline entry, the outbox event and its deliveries.
def _transition_ctes(*, to_status: str, message: str) -> str:
    """The CTEs of a status change in SQL: compare-and-set from %(from_status)s, the timeline
    entry, the outbox event (payload %(payload)s, id %(event)s) and one delivery per subscribed
    endpoint (fulfillment.webhooks.deliveries_sql); the same writes as ``_transition`` for the hot path."""
    event_type = EVENTS[to_status]
    deliveries = deliveries_sql(events="outbox", event_type=f"'{event_type}'")
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
{deliveries}
)"""


# First ordered, first served: the one definition of the backorders ahead of order ``o``
# (higher priority, or the same priority and earlier) in its warehouse that wait for units of
# the product ``{product}`` (an SQL expression), each as "<queue key><order id> <units>" (the
# key sorts as the queue does: priority, then arrival); inventory.stock_reserve leaves them the
# units they can be served from. The partial index line_backordered_product finds those lines
# directly; OFFSET 0 keeps each line's order a primary-key lookup, whatever the statistics say
# about how many orders are backordered.
_AHEAD_SQL = """ARRAY(
    SELECT lpad((32767 - o2.priority)::text, 5, '0')
           || to_char(o2.created_at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS')
           || o2.id::text || ' ' || l2.backordered_quantity
    FROM orders_orderline l2
    CROSS JOIN LATERAL (
        SELECT o2.status, o2.warehouse_id, o2.priority, o2.created_at, o2.id FROM orders_order o2
        WHERE o2.id = l2.order_id OFFSET 0
    ) o2
    WHERE l2.product_id = {product} AND l2.backordered_quantity > 0
      AND o2.status = 'backordered' AND o2.warehouse_id = o.warehouse_id
      AND (o2.priority > o.priority OR (o2.priority = o.priority AND (o2.created_at, o2.id) < (o.created_at, o.id)))
)"""

# The hot path reads the order, locked, with its lines and, per line, the backorders ahead.
_ORDER_WITH_LINES_SQL = f"""
SELECT o.status, o.tenant_id, o.warehouse_id, o.number, o.external_id, o.hold_reasons,
       t.allow_partial_shipments, l.id, l.product_id, l.quantity, l.allocated_quantity,
       {_AHEAD_SQL.format(product="l.product_id")}
FROM orders_order o JOIN tenancy_tenant t ON t.id = o.tenant_id JOIN orders_orderline l ON l.order_id = o.id
WHERE o.id = %(order)s
ORDER BY l.id
FOR NO KEY UPDATE OF o
"""

# The paths that do not read the hot path's statement (a split, a short pick): the same column
# for some products of an order.
_AHEAD_OF_SQL = f"""
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, p.id, NULL, NULL, {_AHEAD_SQL.format(product="p.id")}
FROM orders_order o CROSS JOIN unnest(%(products)s::uuid[]) AS p(id)
WHERE o.id = %(order)s
"""


def _ahead(rows) -> list[tuple]:
    """(order_id, {product_id: units}) of the backorders ahead, in queue order, from the ahead
    column of _ORDER_WITH_LINES_SQL or _AHEAD_OF_SQL rows. Two lines of one product carry the
    same column: each product counts once."""
    by_key: dict = {}
    seen = set()
    for row in rows:
        product_id = row[8]
        if product_id in seen:
            continue
        seen.add(product_id)
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
    order = locks.order_lock(order_id)
    if order.status == Status.RECEIVED:
        OrderLine.objects.filter(order_id=order.pk).update(backordered_quantity=F("quantity") - F("allocated_quantity"))
        _transition(order, Status.BACKORDERED, message="Waiting for stock")
    return order.status


def _backorder_pg(*, order_id, tenant_id, status, number, external_id, hold_reasons) -> str:
    """_backorder in one statement, for the hot path (the order row is already locked)."""
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
            _ahead(rows), per_line=partial, tenant_id=tenant_id, warehouse_id=warehouse_id, product_ids=list(needs)
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
    backorders ahead of it in its warehouse wait for of ``product_ids``, in queue order (the same
    rule as the hot path, _AHEAD_SQL), for the paths that do not read it (a split, a short pick).
    ``per_line``: the tenant ships partially."""
    with connection.cursor() as cursor:
        cursor.execute(_AHEAD_OF_SQL, {"order": order.pk, "products": list(product_ids)})
        rows = cursor.fetchall()
    return _holdback_args(
        _ahead(rows),
        per_line=per_line,
        tenant_id=order.tenant_id,
        warehouse_id=order.warehouse_id,
        product_ids=product_ids,
    )


def _allocate_and_split(order_id) -> str:
    """Partial shipments: the order keeps what is in stock now and ships it; the rest becomes a
    backordered split order (same external_id, number "<root>-N", the same place in the queue).

    Runs in order_allocate's transaction with the order row locked. With nothing in stock at all
    the order simply waits as a backorder, unsplit.
    """
    order = locks.order_lock(order_id)
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
        # The rest of a gift is a gift too: its parcel gets the note and a slip without prices.
        gift_message=order.gift_message,
        # The merchant's carrier and service choice covers the whole order, the rest too.
        requested_carrier=order.requested_carrier,
        requested_service=order.requested_service,
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
