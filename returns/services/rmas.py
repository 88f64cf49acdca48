"""Returns (RMAs): the merchant's request (RMA), the warehouse's receipt and disposition, and the
merchant's closing of a return that will not be resolved.

Locks: the order rows first (the returned order, and an exchange's new order), then the return
row (the same order as orders.services), then its lines, then stock balances through
inventory.services. Each receipt line writes two ledger movements: the units
arrive from the customer into RETURNS, then go where the disposition sends them.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from fulfillment.fees import services as fees
from fulfillment.jobs import enqueue
from fulfillment.webhooks.services import event_publish
from inventory import services as inventory
from inventory.models import Location, MovementReason, Product
from orders import locks as order_locks
from orders.models import OrderAllocation, OrderLine
from orders.models import Status as OrderStatus
from orders.services import order_mark_returned, order_note
from returns import locks
from returns.models import (
    AWAITED,
    CLOSABLE,
    RECEIVABLE,
    RETURNABLE,
    Disposition,
    Grade,
    Resolution,
    Return,
    ReturnLine,
    ReturnReceipt,
    ReturnSource,
    ReturnStatus,
)
from returns.selectors import requested_by_line, return_policy
from returns.services import exchanges, refunds
from returns.services.common import (
    ReturnError,
    field_error,
    is_positive_int,
    lock_return,
    return_payload,
    stripped,
)

# Disposition -> (target location code or None for a sellable location, ledger reason).
_ROUTES = {
    Disposition.RESTOCK: (None, MovementReason.RESTOCK),
    Disposition.QUARANTINE: ("QUARANTINE", MovementReason.QUARANTINE),
    Disposition.DISPOSE: ("V-SCRAP", MovementReason.DISPOSAL),
}


def _new_number() -> str:
    return "RMA-" + secrets.token_hex(4).upper()


# -- the merchant's request ----------------------------------------------------------------


def _exchange_plan(*, tenant_id, resolution: str, exchange_lines: Sequence[Mapping], errors: list[dict]) -> list[dict]:
    """The exchange's wanted units as [{sku, quantity}], each SKU one of the merchant's products;
    required for an exchange, refused for any other resolution."""
    if resolution != Resolution.EXCHANGE:
        if exchange_lines:
            errors.append(
                field_error("exchange_lines", "not_allowed", "Exchange lines are only given for an exchange.")
            )
        return []
    if not exchange_lines:
        errors.append(field_error("exchange_lines", "required", "Say what the shopper wants instead."))
        return []
    wanted: dict[str, int] = {}
    for index, line in enumerate(exchange_lines):
        field = f"exchange_lines[{index}]"
        sku, quantity = stripped(line.get("sku")), line.get("quantity")
        if not sku:
            errors.append(field_error(f"{field}.sku", "required", "A SKU is required."))
        elif sku in wanted:
            errors.append(
                field_error(f"{field}.sku", "duplicate", f"{sku} appears twice; list it once with the total.")
            )
        if not is_positive_int(quantity):
            errors.append(field_error(f"{field}.quantity", "invalid", "Quantity must be a positive integer."))
        elif sku and sku not in wanted:
            wanted[sku] = quantity
    known = set(Product.objects.filter(tenant_id=tenant_id, sku__in=list(wanted)).values_list("sku", flat=True))
    for index, line in enumerate(exchange_lines):
        sku = stripped(line.get("sku"))
        if sku and sku in wanted and sku not in known:
            errors.append(
                field_error(f"exchange_lines[{index}].sku", "unknown_sku", f"{sku} is not one of the shop's products.")
            )
    return [{"sku": sku, "quantity": quantity} for sku, quantity in wanted.items()]


@transaction.atomic
def return_create(
    *,
    tenant_id,
    order_id,
    lines: Sequence[Mapping],
    actor: str = "",
    resolution: str = Resolution.REFUND,
    exchange_lines: Sequence[Mapping] = (),
    source: str = ReturnSource.API,
) -> Return:
    """Open a return for units of a shipped or delivered order: ``lines`` = [{sku, quantity, reason}],
    ``resolution`` one the policy offers, ``exchange_lines`` = [{sku, quantity}] for an exchange.

    An exchange's new order is created in the same transaction (returns.services.exchanges): held
    until the return arrives, or allocated at once when the policy trusts the shopper.

    At most the shipped quantity of a line, minus what other returns already asked for, may come
    back. The order row is locked, so concurrent requests cannot return the same units twice.
    """
    try:
        order = order_locks.order_lock(order_id, tenant_id=tenant_id)
    except (ValueError, DjangoValidationError):  # not a UUID: no such order either
        order = None
    if order is None:
        # Another tenant's order reads exactly like a missing one.
        raise ReturnError(
            "order not found", errors=[field_error("order", "not_found", "Order not found.")], code="not_found"
        )
    if order.status not in RETURNABLE:
        raise ReturnError(
            f"An order in {order.status} cannot be returned; it must be shipped first.", code="invalid_state"
        )
    if not lines:
        raise ReturnError(
            "nothing to return", errors=[field_error("lines", "required", "At least one line is required.")]
        )
    policy = return_policy(tenant_id=order.tenant_id)
    delivered_at = max(
        (at for at in order.shipments.values_list("delivered_at", flat=True) if at is not None), default=None
    )
    if delivered_at is not None and timezone.now() > delivered_at + timedelta(days=policy.window_days):
        last_day = timezone.localdate(delivered_at + timedelta(days=policy.window_days))
        raise ReturnError(
            "outside the return window",
            errors=[
                field_error(
                    "order",
                    "outside_window",
                    f"Returns are accepted for {policy.window_days} days after delivery; "
                    f"this order's window closed on {last_day:%Y-%m-%d}.",
                )
            ],
        )
    not_returnable = {sku.casefold() for sku in policy.non_returnable_skus or []}
    order_lines: dict[str, list[OrderLine]] = defaultdict(list)
    for order_line in order.lines.order_by("pk"):
        order_lines[order_line.sku].append(order_line)
    requested = requested_by_line(order_id=order.pk)
    errors: list[dict] = []
    if resolution not in (policy.resolutions or []):
        offered = ", ".join(policy.resolutions or []) or "none"
        errors.append(field_error("resolution", "not_offered", f"The shop offers: {offered}."))
    wanted = _exchange_plan(
        tenant_id=order.tenant_id, resolution=resolution, exchange_lines=exchange_lines, errors=errors
    )
    chosen: list[tuple[OrderLine, int, str]] = []
    seen: set[str] = set()
    for index, line in enumerate(lines):
        field = f"lines[{index}]"
        sku, quantity, reason = stripped(line.get("sku")), line.get("quantity"), stripped(line.get("reason"))
        if not reason:
            errors.append(field_error(f"{field}.reason", "required", "A reason is required."))
        elif len(reason) > 200:
            errors.append(field_error(f"{field}.reason", "max_length", "At most 200 characters."))
        if sku not in order_lines:
            errors.append(
                field_error(f"{field}.sku", "not_in_order", f"{sku or 'This SKU'} is not a line of this order.")
            )
            continue
        if sku.casefold() in not_returnable:
            errors.append(
                field_error(f"{field}.sku", "non_returnable", f"{sku} cannot be returned (the shop's policy).")
            )
            continue
        if sku in seen:
            errors.append(
                field_error(f"{field}.sku", "duplicate", f"{sku} appears twice; list it once with the total.")
            )
            continue
        seen.add(sku)
        if not is_positive_int(quantity):
            errors.append(field_error(f"{field}.quantity", "invalid", "Quantity must be a positive integer."))
            continue
        # The first line of this SKU that still has enough shipped units not already asked for.
        returnable = {ol.pk: ol.shipped_quantity - requested.get(ol.pk, 0) for ol in order_lines[sku]}
        order_line = next((ol for ol in order_lines[sku] if returnable[ol.pk] >= quantity), None)
        if order_line is None:
            most = max(returnable.values())
            errors.append(
                field_error(
                    f"{field}.quantity",
                    "exceeds_returnable",
                    f"At most {max(most, 0)} x {sku} can be returned (shipped minus already requested).",
                )
            )
            continue
        chosen.append((order_line, quantity, reason))
    if errors:
        raise ReturnError("The return has invalid lines.", errors=errors)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                rma = Return.objects.create(
                    tenant_id=order.tenant_id,
                    number=_new_number(),
                    order=order,
                    warehouse_id=order.warehouse_id,
                    resolution=resolution,
                    exchange_lines=wanted,
                    source=source,
                )
            break
        except IntegrityError:  # the random number is taken by another return of this tenant
            continue
    else:
        raise RuntimeError("could not find a free return number")
    ReturnLine.objects.bulk_create(
        [
            ReturnLine(
                tenant_id=order.tenant_id,
                rma=rma,
                order_line=order_line,
                product_id=order_line.product_id,
                sku=order_line.sku,
                quantity=quantity,
                reason=reason,
            )
            for order_line, quantity, reason in chosen
        ]
    )
    summary = ", ".join(f"{quantity} x {order_line.sku}" for order_line, quantity, _ in chosen)
    order_note(
        order_id=order.pk,
        type="return_requested",
        message=f"Return {rma.number} requested: {summary}",
        data={"return": str(rma.id), "number": rma.number},
        actor=actor,
    )
    if resolution == Resolution.EXCHANGE:
        exchanges.exchange_open(rma=rma, order=order, policy=policy, actor=actor)
    event_publish(tenant_id=order.tenant_id, type="return.created", data=return_payload(rma))
    if rma.exchange_order_id and policy.exchange_before_receipt:
        exchanges.exchange_announce(rma)
    return rma


# -- the warehouse's receipt ---------------------------------------------------------------


def _shipped_lots(*, order_line_id, skip: int, quantity: int) -> list[tuple[int, int]]:
    """[(lot_id, units)] for ``quantity`` returned units of a line, from the lots that were shipped.

    The first lot picked for the line comes back first; ``skip`` units (received on earlier
    returns) are passed over, so that a line shipped from two lots is credited back to both.
    """
    shipped = list(
        OrderAllocation.objects.filter(line_id=order_line_id, picked_quantity__gt=0)
        .order_by("pk")
        .values_list("lot_id", "picked_quantity")
    )
    if not shipped:
        return []
    out: list[tuple[int, int]] = []
    for lot_id, picked in shipped:
        available = picked - min(skip, picked)
        skip -= picked - available
        take = min(available, quantity)
        if take:
            out.append((lot_id, take))
            quantity -= take
        if not quantity:
            return out
    # More units than were picked cannot pass return_create's check; credit the first lot anyway.
    out.append((shipped[0][0], quantity))
    return out


def _restock_target(*, rma: Return, product_id, code: str, field: str, errors: list[dict]) -> Location | None:
    if code:
        location = Location.objects.filter(warehouse_id=rma.warehouse_id, code=code.upper()).first()
        if location is None:
            errors.append(field_error(field, "unknown_location", f"unknown location {code} in this warehouse"))
        elif location.is_virtual or not location.is_sellable:
            errors.append(field_error(field, "not_sellable", f"{location.code} is not a sellable location"))
        else:
            return location
        return None
    try:
        return inventory.restock_location(tenant_id=rma.tenant_id, product_id=product_id, warehouse_id=rma.warehouse_id)
    except inventory.InventoryError as exc:
        errors.append(field_error(field, exc.code, str(exc)))
        return None


def _mark_order_returned(rma: Return, *, actor: str) -> None:
    """The order is ``returned`` once every unit it shipped came back (on this return and others)."""
    order = rma.order
    if order.status not in {OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.EXCEPTION}:
        return
    shipped = OrderLine.objects.filter(order_id=order.pk).aggregate(total=Sum("shipped_quantity"))["total"] or 0
    back = ReturnLine.objects.filter(rma__order_id=order.pk).aggregate(total=Sum("received_quantity"))["total"] or 0
    if shipped and back >= shipped:
        order_mark_returned(
            order_id=order.pk,
            actor=actor,
            message=f"Returned: every shipped unit came back (last on {rma.number})",
            data={"return": str(rma.id), "number": rma.number},
        )


@transaction.atomic
def return_receive(*, return_id, lines: Sequence[Mapping], actor: str = "") -> Return:
    """Receive a parcel of a return: ``lines`` = [{sku, quantity, condition, disposition, location?,
    note?}], ``condition`` one of the grades (new, opened, damaged, defective); a SKU may have a
    row per grade, together at most the units still expected.

    A return may come in several parcels: each receipt takes at most the units still expected per
    line and is kept as ReturnReceipt rows; a receipt once every unit is in is refused (409).

    Statuses: requested, label_issued or in_transit -> ``received`` with the first parcel; once every
    unit of every line is in (graded as it came), ``inspected`` (``inspected_at``), or for an
    exchange ``exchanged``. Each receipt of a refund or store-credit return brings its pending
    refund up to date (returns.services.refunds); the first releases an exchange's held new order
    (returns.services.exchanges). Once every unit the order shipped is back (on this return and
    others) the order is ``returned``.

    restock: V-CUSTOMER -> RETURNS -> ``location`` (else inventory.restock_location), then
    backorders are re-allocated; quarantine: -> RETURNS -> QUARANTINE; dispose: -> RETURNS ->
    V-SCRAP (a write-off). Units go back to the lot that was shipped. All lines or nothing.
    """
    # The orders first (the returned one and an exchange's new one), then the return: the lock
    # order of return_create and the order transitions.
    rma = lock_return(return_id)
    return_lines = {line.sku: line for line in locks.return_lines_lock(rma)}
    if rma.status not in RECEIVABLE or all(rl.received_quantity >= rl.quantity for rl in return_lines.values()):
        already = "received in full" if rma.status in RECEIVABLE else rma.status
        raise ReturnError(f"Return {rma.number} is already {already}.", code="invalid_state")
    if not lines:
        raise ReturnError(
            "nothing to receive", errors=[field_error("lines", "required", "At least one line is required.")]
        )
    errors: list[dict] = []
    plan: list[tuple[ReturnLine, int, str, str, Location | None, str]] = []
    # Units of a SKU taken by the rows above: a line's units may come in several grades (two tees
    # new, one damaged), one row each, together at most what is still expected.
    taken: dict[str, int] = defaultdict(int)
    for index, line in enumerate(lines):
        field = f"lines[{index}]"
        sku, quantity = stripped(line.get("sku")), line.get("quantity")
        grade, disposition = stripped(line.get("condition")).lower(), stripped(line.get("disposition"))
        code, note = stripped(line.get("location")), stripped(line.get("note"))
        return_line = return_lines.get(sku)
        if return_line is None:
            errors.append(
                field_error(f"{field}.sku", "not_in_return", f"{sku or 'This SKU'} is not a line of this return.")
            )
            continue
        expected = return_line.quantity - return_line.received_quantity - taken[sku]
        if not is_positive_int(quantity):
            errors.append(field_error(f"{field}.quantity", "invalid", "Quantity must be a positive integer."))
        elif quantity > expected:
            above = f", {taken[sku]} in the rows above" if taken[sku] else ""
            errors.append(
                field_error(
                    f"{field}.quantity",
                    "exceeds_returned",
                    f"Only {max(expected, 0)} x {sku} are still expected on this return "
                    f"({return_line.quantity} announced, {return_line.received_quantity} received{above}).",
                )
            )
        else:
            taken[sku] += quantity
        if grade not in Grade.values:
            errors.append(
                field_error(f"{field}.condition", "invalid_choice", f"Must be one of {', '.join(Grade.values)}.")
            )
        if len(note) > 200:
            errors.append(field_error(f"{field}.note", "max_length", "At most 200 characters."))
        if disposition not in Disposition.values:
            errors.append(
                field_error(
                    f"{field}.disposition", "invalid_choice", f"Must be one of {', '.join(Disposition.values)}."
                )
            )
            continue
        target = None
        if disposition == Disposition.RESTOCK:
            target = _restock_target(
                rma=rma, product_id=return_line.product_id, code=code, field=f"{field}.location", errors=errors
            )
        elif code:
            errors.append(field_error(f"{field}.location", "not_allowed", "A location is only given for restock."))
        plan.append((return_line, quantity, grade, disposition, target, note))
    if errors:
        raise ReturnError("The receipt has invalid lines.", errors=errors)

    now = timezone.now()
    reference = f"return {rma.number}"
    restocked: set[str] = set()
    receipts: list[ReturnReceipt] = []
    for return_line, quantity, grade, disposition, target, note in plan:
        earlier = (
            ReturnLine.objects.filter(order_line_id=return_line.order_line_id).aggregate(
                total=Sum("received_quantity")
            )["total"]
            or 0
        )
        lots = _shipped_lots(order_line_id=return_line.order_line_id, skip=earlier, quantity=quantity)
        if not lots:
            raise ReturnError(f"No shipped units of {return_line.sku} on this order.", code="invalid_state")
        target_code, reason = _ROUTES[disposition]
        for lot_id, units in lots:
            common = {
                "tenant_id": rma.tenant_id,
                "product_id": return_line.product_id,
                "lot_id": lot_id,
                "warehouse_id": rma.warehouse_id,
                "quantity": units,
                "reference": reference,
                "actor": actor,
            }
            inventory.stock_transfer(
                source_code="V-CUSTOMER", target_code="RETURNS", reason=MovementReason.RETURN, **common
            )
            inventory.stock_transfer(
                source_code="RETURNS", target_code=target_code, target=target, reason=reason, **common
            )
        return_line.received_quantity += quantity
        return_line.condition = grade
        return_line.disposition = disposition
        return_line.save(update_fields=["received_quantity", "condition", "disposition"])
        receipts.append(
            ReturnReceipt(
                tenant_id=rma.tenant_id,
                rma=rma,
                line=return_line,
                quantity=quantity,
                grade=grade,
                disposition=disposition,
                location=target,
                note=note,
                received_at=now,
                actor=actor[:100],
            )
        )
        if disposition == Disposition.RESTOCK:
            restocked.add(str(return_line.product_id))
    ReturnReceipt.objects.bulk_create(receipts)
    fees.fees_for_return_receipt(
        tenant_id=rma.tenant_id,
        return_id=rma.pk,
        rma_number=rma.number,
        units=sum(receipt.quantity for receipt in receipts),
        receipt_key=str(receipts[0].pk),
        warehouse_code=rma.warehouse.code,
        actor=actor,
    )

    outstanding = sum(rl.quantity - rl.received_quantity for rl in return_lines.values())
    first = rma.status in AWAITED
    fields: dict = {"updated_at": now}
    if first:
        fields |= {"status": ReturnStatus.RECEIVED, "received_at": now}
    if not outstanding:
        # Every unit is in, each graded as it came: the inspection is done. An exchange is then
        # resolved (its new order exists since the return was created); a refund waits for the
        # merchant's confirmation (returns.services.refunds.return_refund).
        done = ReturnStatus.EXCHANGED if rma.exchange_order_id else ReturnStatus.INSPECTED
        fields |= {"status": done, "inspected_at": now}
    if Return.objects.filter(pk=rma.pk, status=rma.status).update(**fields) != 1:
        # cannot happen under the row lock; refuse rather than receive twice
        raise ReturnError(f"Return {rma.number} changed state concurrently.", code="invalid_state")
    rma.refresh_from_db()
    summary = ", ".join(f"{q} x {rl.sku} {g}, {d}" for rl, q, g, d, _t, _n in plan)
    order_note(
        order_id=rma.order_id,
        type="return_received",
        message=f"Return {rma.number} received: {summary}"
        + (f"; {outstanding} unit{'' if outstanding == 1 else 's'} still expected" if outstanding else ""),
        data={"return": str(rma.id), "number": rma.number, "outstanding": outstanding},
        actor=actor,
    )
    refunds.refund_recompute(rma)
    event_publish(tenant_id=rma.tenant_id, type="return.received", data=return_payload(rma))
    if first:
        exchanges.exchange_release(rma=rma, actor=actor)
    if not outstanding:
        _mark_order_returned(rma, actor=actor)
    if restocked:
        enqueue("orders.tasks.reallocate_backorders", warehouse_id=str(rma.warehouse_id), product_ids=sorted(restocked))
    return rma


@transaction.atomic
def return_close(*, return_id, tenant_id, actor: str, note: str = "") -> Return:
    """The merchant closes a return that will not be resolved: nothing is to be refunded, or the
    units never arrive. ``closed`` with ``closed_at`` and a timeline entry; a pending refund stays
    as the record of what was due but can no longer be confirmed; an exchange's new order still
    waiting on the return (none of its units came) is cancelled.

    Closable: requested, label_issued, in_transit, received, inspected. Refused, nothing changed:
    another tenant's or no such return (404), a return refunded, exchanged or closed already (409),
    a note over 300 characters (422).
    """
    note = (note or "").strip()
    if len(note) > 300:
        raise ReturnError("note too long", errors=[field_error("note", "max_length", "At most 300 characters.")])
    rma = lock_return(return_id, tenant_id=tenant_id)
    if rma.status not in CLOSABLE:
        raise ReturnError(f"Return {rma.number} is already {rma.status}.", code="invalid_state")
    now = timezone.now()
    if (
        Return.objects.filter(pk=rma.pk, status=rma.status).update(
            status=ReturnStatus.CLOSED, closed_at=now, updated_at=now
        )
        != 1
    ):
        raise ReturnError(f"Return {rma.number} changed state concurrently.", code="invalid_state")
    rma.refresh_from_db()
    cancelled = None
    if rma.received_at is None:
        cancelled = exchanges.exchange_cancel(rma=rma, actor=actor, reason=f"Return {rma.number} closed unreceived")
    order_note(
        order_id=rma.order_id,
        type="return_closed",
        message=f"Return {rma.number} closed"
        + (f": {note}" if note else "")
        + (f"; exchange order {cancelled.number} cancelled" if cancelled else ""),
        data={"return": str(rma.id), "number": rma.number, "note": note},
        actor=actor,
    )
    return rma
