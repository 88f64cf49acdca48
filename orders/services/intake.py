"""Intake: validate and record orders one at a time or set-wise (the API, bulk calls, CSV
imports), and the merchant's later fixes of address or payment (holds re-evaluated) and of the
requested carrier and service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from fulfillment.bulk import copy_rows, sequence_values
from fulfillment.jobs import enqueue
from fulfillment.webhooks.services import events_publish_many
from inventory.models import Product, Warehouse
from orders import locks, promise
from orders.models import GIFT_MESSAGE_MAX, PRIORITY, HoldReason, Order, OrderEvent, OrderLine, OrderNumber, Status
from orders.notifications import wants_email
from orders.payments import payment_verifier
from orders.services.common import (
    _EVENT_COLUMNS,
    DuplicateOrder,
    InvalidTransition,
    OrderError,
    OrderInput,
    _enqueue_reallocation,
    _event,
    _transition,
    webhook_data,
)
from orders.services.holds import _release_all
from orders.transitions import EVENTS
from orders.validation import address_check


def _holds(*, order_data, address_problems: list[dict]) -> list[str]:
    """Payment holds from the configured verifier (orders.payments), then the address hold."""
    holds = list(payment_verifier().holds(order_data=order_data))
    if address_problems:
        holds.append(HoldReason.ADDRESS_INVALID)
    return holds


def _check_gift_message(gift_message: str) -> None:
    """The inputs' serializers check it already; this keeps a direct caller to the same rule."""
    if len(gift_message) > GIFT_MESSAGE_MAX:
        message = f"Ensure this field has no more than {GIFT_MESSAGE_MAX} characters."
        raise OrderError(message, errors=[{"field": "gift_message", "code": "max_length", "message": message}])


_REQUESTED_FIELDS = ("requested_carrier", "requested_service")


def _check_requested(**values: str | None) -> None:
    """requested_carrier / requested_service (None: not given) against the model fields' rules; the
    inputs' serializers check them already, this keeps a direct caller to the same rules."""
    errors = []
    for name, value in values.items():
        if value is None:
            continue
        try:
            Order._meta.get_field(name).run_validators(value)
        except ValidationError as error:
            errors += [{"field": name, "code": e.code, "message": e.messages[0]} for e in error.error_list]
    if errors:
        raise OrderError(errors[0]["message"], errors=errors)


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
        _check_gift_message(data.gift_message)
        _check_requested(requested_carrier=data.requested_carrier, requested_service=data.requested_service)
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
    "promised_delivery_date", "gift_message", "requested_carrier", "requested_service", "created_at",
    "updated_at",
)  # fmt: skip
_LINE_COLUMNS = (
    "tenant_id", "order_id", "product_id", "sku", "quantity", "unit_price", "allocated_quantity",
    "backordered_quantity", "picked_quantity", "shipped_quantity",
)  # fmt: skip


def _insert(tenant, prepared: list[_Prepared], *, actor: str) -> list[dict]:
    """Write validated orders set-wise (fulfillment.bulk): orders, lines, timeline, outbox; then
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
            "gift_message": data.gift_message,
            "requested_carrier": data.requested_carrier,
            "requested_service": data.requested_service,
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
    if wants_email(tenant, "confirmation"):
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
    *,
    order_id,
    tenant_id,
    ship_to: dict | None = None,
    payment_status: str | None = None,
    gift_message: str | None = None,
    requested_carrier: str | None = None,
    requested_service: str | None = None,
    actor: str = "",
) -> Order:
    """Fix the address, payment or gift message of an order not yet in picking (holds are
    re-evaluated), or its requested carrier and service until it is packed (None: leave as it is).

    A change of only requested_carrier / requested_service re-evaluates no hold: it has no bearing
    on them, and an order in picking or picked must not be put on hold by it.
    """
    _check_requested(requested_carrier=requested_carrier, requested_service=requested_service)
    order = locks.order_lock(order_id, tenant_id=tenant_id)
    if order is None:
        raise Order.DoesNotExist
    requests = {
        name: value
        for name, value in zip(_REQUESTED_FIELDS, (requested_carrier, requested_service), strict=True)
        if value is not None
    }
    only_requests = bool(requests) and ship_to is None and payment_status is None and gift_message is None
    if only_requests and not order.can_change_requested_shipping:
        raise InvalidTransition(
            f"An order in {order.status} can no longer change its requested carrier or service.", code="invalid_state"
        )
    if not only_requests and not order.can_edit:
        but = ", except its requested_carrier and requested_service" if order.can_change_requested_shipping else ""
        raise InvalidTransition(f"An order in {order.status} can no longer be changed{but}.", code="invalid_state")
    for name, value in requests.items():
        setattr(order, name, value)
    if only_requests:
        order.save(update_fields=[*requests, "updated_at"])
        _event(order, "updated", message="Updated: " + ", ".join(requests), actor=actor)
        return order
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
    if gift_message is not None:
        _check_gift_message(gift_message)
        order.gift_message = gift_message
        changed.append("gift_message")
    changed += requests
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
