"""The transitions later stages drive: picking (a wave's orders, picks and short picks), then
packed, shipped and delivered. Locks: the order row, then the allocation, then balances (orders.locks)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from fulfillment.bulk import copy_rows
from fulfillment.fees import services as fees
from fulfillment.jobs import enqueue
from fulfillment.webhooks.services import events_publish_many
from inventory import services as inventory
from inventory.models import CountReason, Location, Lot, MovementReason
from inventory.services.counts import count_request
from orders import locks
from orders.models import Order, OrderAllocation, OrderEvent, OrderLine, Status
from orders.notifications import wants_email
from orders.services.allocation import _split_off, _waiting_ahead
from orders.services.common import (
    _EVENT_COLUMNS,
    InvalidTransition,
    OrderError,
    _event,
    _partial_allowed,
    _transition,
    order_payload,
    webhook_data,
)
from orders.transitions import EVENTS, can_transition


@transaction.atomic
def order_mark_picking(*, order_id, actor: str = "", wave: str = "") -> Order:
    order = locks.order_lock(order_id)
    _transition(order, Status.PICKING, actor=actor, message=f"In wave {wave}" if wave else "Picking")
    return order


# Orders per statement of order_mark_picking_many: well under PostgreSQL's limit of parameters.
_MANY_CHUNK = 2000


@transaction.atomic
def order_mark_picking_many(*, order_ids, actor: str = "", wave: str = "") -> list:
    """``order_mark_picking`` for a whole wave in a few statements; returns the ids that moved.

    Per chunk: the orders still allocated are locked in primary-key order (a no-op for a wave
    release, which holds them already), then moved by one compare-and-set UPDATE; one timeline
    entry each (set-wise). An order that is no longer allocated is left as it is.
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
            locks.order_qs_select_for_update()
            .filter(pk__in=chunk, status=Status.ALLOCATED)
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
    allocation = locks.allocation_qs_select_for_update().select_related("line").get(pk=allocation_id)
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
    order = locks.order_lock(order_id)
    allocation = locks.allocation_qs_select_for_update().select_related("line", "location").get(pk=allocation_id)
    missing = allocation.quantity - allocation.picked_quantity
    if missing <= 0 or allocation.released:
        return ShortOutcome()
    line, here = allocation.line, allocation.location
    locks.allocation_short_lock(allocation_id=allocation.pk)
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


def _pick_fees(order: Order, *, units: int, actor: str) -> None:
    """The merchant's pick fees for the order, once (in the transaction that marks it picked)."""
    fees.fees_for_pick(
        tenant_id=order.tenant_id,
        order_id=order.pk,
        order_number=order.number,
        units=units,
        warehouse_code=order.warehouse.code,
        actor=actor,
    )


@transaction.atomic
def order_mark_picked(*, order_id, actor: str = "") -> Order:
    """All pick tasks of the order are done: picked if complete; else what a short pick left waiting.

    Ship complete: back to backordered for the rest (the picked units wait in PACKING and a new
    allocation reserves only what is missing). Partial shipments: the order goes on to picked
    with what was picked and the missing units become a backordered split order, as at
    allocation; when nothing at all was picked there is nothing to ship, so the order itself waits.
    """
    order = locks.order_lock(order_id)
    if order.status != Status.PICKING:
        return order
    lines = list(
        OrderLine.objects.filter(order_id=order.pk).values_list("pk", "picked_quantity", "backordered_quantity")
    )
    rests = {line_id: waiting for line_id, _picked, waiting in lines if waiting > 0}
    picked_units = sum(picked for _line_id, picked, _waiting in lines)
    if not rests:
        _transition(order, Status.PICKED, actor=actor, message="All lines picked")
        _pick_fees(order, units=picked_units, actor=actor)
    elif _partial_allowed(order.tenant_id) and picked_units:
        split = _split_off(order, rests, why="short pick, partial shipment")
        _transition(
            order, Status.PICKED, actor=actor, message=f"Picked what was there; the rest ships later as {split.number}"
        )
        _pick_fees(order, units=picked_units, actor=actor)
        enqueue("orders.tasks.allocate_order", order_id=str(split.pk))
    else:
        _transition(order, Status.BACKORDERED, actor=actor, message="Short picked; waiting for stock")
        enqueue("orders.tasks.allocate_order", order_id=str(order.pk))
    return order


@transaction.atomic
def order_mark_packed(*, order_id, actor: str = "", message: str = "") -> Order:
    order = locks.order_lock(order_id)
    _transition(order, Status.PACKED, actor=actor, message=message or "Packed")
    return order


@transaction.atomic
def order_mark_shipped(*, order_id, actor: str = "", data: dict | None = None) -> Order:
    """The parcel left: picked units move from PACKING to the customer."""
    order = locks.order_lock(order_id)
    if order.status == Status.SHIPPED:
        return order
    # In the balances' key order (product, lot), whatever the order of the lines: two orders that
    # share products then lock the same PACKING and V-CUSTOMER balances in the same order.
    for allocation in (
        OrderAllocation.objects.filter(line__order=order, released=False, picked_quantity__gt=0)
        .select_related("line")
        .order_by("line__product_id", "lot_id", "pk")
    ):
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
    if (order.ship_to or {}).get("email") and wants_email(order.tenant, "shipped"):
        enqueue("orders.tasks.send_shopper_email", order_id=str(order.pk), kind="shipped")
    return order


@transaction.atomic
def order_mark_unshipped(*, order_id, actor: str = "", message: str = "", data: dict | None = None) -> Order:
    """The label was voided before the carrier took the parcel: undo order_mark_shipped. The units
    come back from the customer to PACKING (ledger entries), the picked allocations hold them again."""
    order = locks.order_lock(order_id)
    if order.status == Status.PACKED:
        return order
    if order.status != Status.SHIPPED:
        raise InvalidTransition(f"An order that is {order.status} cannot go back to packed.", code="invalid_state")
    allocations = list(
        OrderAllocation.objects.filter(line__order=order, released=True, picked_quantity__gt=0)
        .select_related("line")
        .order_by("line__product_id", "lot_id", "pk")  # the balances' key order, as order_mark_shipped
    )
    for allocation in allocations:
        inventory.stock_transfer(
            tenant_id=order.tenant_id,
            product_id=allocation.line.product_id,
            lot_id=allocation.lot_id,
            warehouse_id=order.warehouse_id,
            source_code="V-CUSTOMER",
            target_code="PACKING",
            quantity=allocation.picked_quantity,
            reason=MovementReason.SHIPMENT,
            reference=f"label void, order {order.number}",
            actor=actor,
        )
    OrderAllocation.objects.filter(pk__in=[a.pk for a in allocations]).update(released=False)
    OrderLine.objects.filter(order=order).update(shipped_quantity=0)
    _transition(order, Status.PACKED, actor=actor, message=message or "Label voided; packed again", data=data)
    return order


@transaction.atomic
def order_mark_delivered(*, order_id, actor: str = "") -> Order:
    order = locks.order_lock(order_id)
    if order.status == Status.DELIVERED:
        return order
    _transition(order, Status.DELIVERED, actor=actor, message="Delivered")
    return order


@transaction.atomic
def orders_mark_delivered_many(*, order_ids, actor: str = "") -> list:
    """``order_mark_delivered`` for many orders at once (a tracking poll): the shipped ones and
    those in exception become ``delivered`` with their timeline entries and ``order.delivered``
    webhooks, in a few statements; the others are left as they are. The ids delivered, in order."""
    orders = list(
        locks.order_qs_select_for_update().filter(pk__in=list(order_ids), status__in=[Status.SHIPPED, Status.EXCEPTION])
    )
    if not orders:
        return []
    now = timezone.now()
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(status=Status.DELIVERED, updated_at=now)
    copy_rows(
        OrderEvent,
        _EVENT_COLUMNS,
        [(o.tenant_id, o.pk, "status_changed", o.status, Status.DELIVERED, "Delivered", {}, actor[:100], now)
         for o in orders],
        json_columns=("data",),
    )  # fmt: skip
    by_tenant: dict = {}
    for order in orders:
        order.status = Status.DELIVERED
        by_tenant.setdefault(order.tenant_id, []).append((EVENTS[Status.DELIVERED], order_payload(order)))
    for tenant_id, events in by_tenant.items():
        events_publish_many(tenant_id=tenant_id, events=events)
    return [o.pk for o in orders]


@transaction.atomic
def order_mark_returned(*, order_id, actor: str = "", message: str = "Returned", data=None) -> Order:
    """Every shipped unit of the order came back (the returns stage says so): ``returned``, from
    shipped, delivered or exception, with a timeline entry. Already returned: left as it is; from
    any other status: InvalidTransition (409)."""
    order = locks.order_lock(order_id)
    if order.status == Status.RETURNED:
        return order
    _transition(order, Status.RETURNED, actor=actor, message=message[:500], data=data)
    return order


@transaction.atomic
def order_mark_exception(*, order_id, reason: str, actor: str = "", data=None) -> Order:
    """A shipped order whose parcel the carrier could not deliver (failed, returning to the sender,
    held too long): ``exception`` with the reason on the timeline. A later delivery moves it on
    (``order_mark_delivered``). An order not ``shipped`` is left as it is."""
    order = locks.order_lock(order_id)
    if order.status != Status.SHIPPED:
        return order
    _transition(order, Status.EXCEPTION, actor=actor, message=reason[:500], data={"reason": reason, **(data or {})})
    return order
