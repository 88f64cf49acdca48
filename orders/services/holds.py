"""Stopping an order before it ships: manual holds and their release, and cancellation. Each
gives back what the order holds (_release_all): reservations at once, picked units through
put-back tasks."""

from __future__ import annotations

from django.db import transaction

from fulfillment.jobs import enqueue
from inventory import services as inventory
from orders import locks
from orders.models import HoldReason, Order, OrderAllocation, OrderLine, Status
from orders.services.common import InvalidTransition, OrderError, _enqueue_reallocation, _event, _transition
from orders.transitions import CANCELLABLE

HOLDABLE = {Status.RECEIVED, Status.ON_HOLD, Status.BACKORDERED, Status.ALLOCATED}


@transaction.atomic
def order_hold(*, order_id, reason: str, actor: str = "", tenant_id=None) -> Order:
    """A manager stops an order before picking: its reservations go back to stock until released."""
    reason = (reason or "").strip()
    if not reason:
        raise OrderError(
            "A hold needs a reason.", errors=[{"field": "reason", "code": "required", "message": "give a reason"}]
        )
    order = locks.order_lock(order_id, tenant_id=tenant_id)
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
    order = locks.order_lock(order_id, tenant_id=tenant_id)
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


# -- giving back and cancelling ------------------------------------------------------------


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
    order = locks.order_lock(order_id, tenant_id=tenant_id)
    if order is None:
        raise Order.DoesNotExist
    if order.status not in CANCELLABLE:
        raise InvalidTransition(f"An order in {order.status} can no longer be cancelled.", code="invalid_state")
    _release_all(order, actor=actor)
    _transition(order, Status.CANCELLED, actor=actor, message=reason or "Cancelled")
    _enqueue_reallocation(order)
    return order
