"""Exchanges: what the shopper gets instead of the units sent back, as a new outbound order.

When return_create records an exchange, ``exchange_open`` creates the new order through the
orders intake (orders.services.order_create), in the same transaction: the same shopper, address,
warehouse, shipping method and currency as the returned order, the exchange's lines at price 0,
``paid`` (the returned units pay for it), external_id ``<order's external_id>-EX-<RMA number>``,
linked from ``Return.exchange_order``.

- The policy trusts the shopper (``exchange_before_receipt``): the order allocates at once like
  any other, and ``return.exchanged`` is announced as the return is created.
- Otherwise the order waits on a manual hold "Awaiting return RMA-..." (orders.services.order_hold;
  a manual hold survives the merchant's address fixes and a manager can lift it early in the
  portal), and ``exchange_release`` lifts it when the first parcel of the return is received: the
  order then allocates as usual and ``return.exchanged`` is announced.

In both cases ``return.exchanged`` carries the new order (data.exchange_order: id, number, status).
The return itself becomes ``exchanged`` once every unit is in and inspected (return_receive); a
return closed before any unit came back cancels a new order still on hold (``exchange_cancel``).
"""

from __future__ import annotations

from decimal import Decimal

from fulfillment.tenancy.models import Tenant
from fulfillment.webhooks.services import event_publish
from orders import services as orders
from orders.models import HoldReason, Order, OrderEvent, PaymentStatus
from orders.models import Status as OrderStatus
from orders.transitions import CANCELLABLE
from returns.models import Return, ReturnPolicy
from returns.services.common import ReturnError, field_error, return_payload

EXTERNAL_ID_MAX = Order._meta.get_field("external_id").max_length


def exchange_external_id(order: Order, rma: Return) -> str:
    """``<order's external_id>-EX-<RMA number>``, the order's id shortened to fit when it is long."""
    suffix = f"-EX-{rma.number}"
    return order.external_id[: EXTERNAL_ID_MAX - len(suffix)] + suffix


def _hold_reason(rma: Return) -> str:
    return f"Awaiting return {rma.number}"


def exchange_open(*, rma: Return, order: Order, policy: ReturnPolicy, actor: str = "") -> Order:
    """Create the exchange's new order for ``rma`` (an exchange, with its ``exchange_lines``) and link
    it; held until the return arrives unless the policy trusts the shopper. Runs in return_create's
    transaction, under its lock of ``order``. ReturnError (409) when the intake refuses the order
    (e.g. an order with that external_id exists already)."""
    data = orders.OrderInput(
        external_id=exchange_external_id(order, rma),
        shipping_method=order.shipping_method,
        payment_status=PaymentStatus.PAID,
        currency=order.currency,
        ship_to=dict(order.ship_to),
        lines=[orders.LineInput(sku=line["sku"], quantity=line["quantity"], unit_price=Decimal("0.00"))
               for line in rma.exchange_lines],
        warehouse=order.warehouse.code,
        requested_carrier=order.requested_carrier,
        requested_service=order.requested_service,
    )  # fmt: skip
    try:
        new = orders.order_create(tenant=Tenant.objects.get(pk=order.tenant_id), data=data, actor=actor)
    except orders.OrderError as exc:
        message = f"The exchange order could not be created: {exc}"
        raise ReturnError(
            message, errors=[field_error("exchange_lines", exc.code, message)], code="invalid_state"
        ) from exc
    Return.objects.filter(pk=rma.pk).update(exchange_order=new)
    rma.exchange_order = new
    if not policy.exchange_before_receipt:
        new = orders.order_hold(order_id=new.pk, reason=_hold_reason(rma), actor=actor, tenant_id=new.tenant_id)
        rma.exchange_order = new
    summary = ", ".join(f"{line['quantity']} x {line['sku']}" for line in rma.exchange_lines)
    orders.order_note(
        order_id=new.pk,
        type="exchange_for",
        message=f"Exchange for return {rma.number} of order {order.number}",
        data={"return": str(rma.id), "number": rma.number, "order": str(order.pk)},
        actor=actor,
    )
    orders.order_note(
        order_id=order.pk,
        type="exchange_created",
        message=f"Exchange order {new.number} for return {rma.number}: {summary}"
        + ("" if policy.exchange_before_receipt else "; it waits for the return to arrive"),
        data={"return": str(rma.id), "number": rma.number, "exchange_order": str(new.pk)},
        actor=actor,
    )
    return new


def exchange_announce(rma: Return) -> None:
    """``return.exchanged``: the exchange's new order is on its way (created trusted, or released)."""
    event_publish(tenant_id=rma.tenant_id, type="return.exchanged", data=return_payload(rma))


def _awaiting(order: Order | None, rma: Return) -> bool:
    """The order still waits on the hold exchange_open put: on hold, manually, and the newest hold
    of its timeline is ours (not one a manager put after releasing ours early)."""
    if order is None or order.status != OrderStatus.ON_HOLD or HoldReason.MANUAL not in order.hold_reasons:
        return False
    newest = (
        OrderEvent.objects.filter(order_id=order.pk, data__has_key="reason")
        .order_by("-created_at", "-pk")
        .values_list("data", flat=True)
        .first()
    )
    return bool(newest) and newest.get("reason") == _hold_reason(rma)


def exchange_release(*, rma: Return, actor: str = "") -> Order | None:
    """The first parcel of an exchange's return is in: lift the new order's hold (it allocates as
    usual, unless a payment or address hold remains) and announce ``return.exchanged``. A no-op
    (None) when the return has no exchange order or the order is not waiting on its manual hold
    (trusted, or a manager released it early). Runs in return_receive's transaction, which holds
    the new order's lock already."""
    order = Order.objects.filter(pk=rma.exchange_order_id).first() if rma.exchange_order_id else None
    if not _awaiting(order, rma):
        return None
    released = orders.order_release(
        order_id=order.pk, actor=actor, reason=f"return {rma.number} received", tenant_id=order.tenant_id
    )
    rma.exchange_order = released
    exchange_announce(rma)
    return released


def exchange_cancel(*, rma: Return, actor: str = "", reason: str = "") -> Order | None:
    """A return closed before any unit came back: cancel its exchange order if it still waits on its
    hold (nothing was sent back, so nothing goes out); an order already released (trusted, or
    released by hand) is left to ship. None when there was nothing to cancel."""
    order = Order.objects.filter(pk=rma.exchange_order_id).first() if rma.exchange_order_id else None
    if not _awaiting(order, rma) or order.status not in CANCELLABLE:
        return None
    cancelled = orders.order_cancel(
        order_id=order.pk, tenant_id=order.tenant_id, actor=actor, reason=reason or f"Return {rma.number} closed"
    )
    rma.exchange_order = cancelled
    return cancelled
