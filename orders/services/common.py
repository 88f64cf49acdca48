"""What every orders service shares: the refusals, the intake inputs, the timeline and the
compare-and-set transition (transitions.ALLOWED, an OrderEvent and, where API.md names one, a
webhook outbox row, in one transaction)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from fulfillment.bulk import copy_rows
from fulfillment.errors import FieldRefusal, Problem
from fulfillment.jobs import enqueue
from fulfillment.tenancy.models import Tenant
from fulfillment.webhooks.services import event_publish
from orders.models import Order, OrderEvent
from orders.transitions import EVENTS, can_transition


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
    gift_message: str = ""
    requested_carrier: str = ""
    requested_service: str = ""
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


# The columns of a set-wise timeline insert (intake, order_mark_picking_many).
_EVENT_COLUMNS = ("tenant_id", "order_id", "type", "from_status", "to_status", "message", "data", "actor", "created_at")


def _enqueue_reallocation(order: Order) -> None:
    """Stock an order gave back may complete backorders waiting for it."""
    enqueue(
        "orders.tasks.reallocate_backorders",
        warehouse_id=str(order.warehouse_id),
        product_ids=[str(pid) for pid in order.lines.values_list("product_id", flat=True)],
    )


def _partial_allowed(tenant_id) -> bool:
    return Tenant.objects.filter(pk=tenant_id, allow_partial_shipments=True).exists()


def order_note(*, order_id, type: str, message: str, data=None, actor: str = "") -> None:
    order = Order.objects.get(pk=order_id)
    _event(order, type, message=message, data=data, actor=actor)


def order_notes_add(*, notes: list[tuple], type: str, actor: str = "") -> int:
    """Timeline entries of one ``type`` for many orders in one insert: ``notes`` are
    (tenant_id, order_id, message, data). A status change goes through ``_transition`` instead."""
    now = timezone.now()
    copy_rows(
        OrderEvent,
        _EVENT_COLUMNS,
        [(tenant_id, order_id, type, "", "", message[:500], data or {}, actor[:100], now)
         for tenant_id, order_id, message, data in notes],
        json_columns=("data",),
    )  # fmt: skip
    return len(notes)
