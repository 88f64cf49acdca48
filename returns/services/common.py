"""What every returns service shares: the refusal, the error rows, the webhook data of a return,
and the locks of a return with its orders (the order and, for an exchange, the new order)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError

from fulfillment.errors import Refusal
from orders import locks as order_locks
from returns import locks
from returns.models import Return, ReturnRefund


class ReturnError(Refusal):
    """A refused return action. ``code``: not_found (404: the order or return does not exist for
    this tenant; ``errors`` may name the field, e.g. the order of a new return), invalid_state and already_refunded (409:
    the order or return is in the wrong state), invalid (422 with ``errors`` naming the fields at
    fault)."""

    CONFLICTS = frozenset({"invalid_state", "already_refunded"})

    def __init__(self, message: str, *, errors: list[dict] | None = None, code: str = "invalid"):
        if code in self.CONFLICTS:
            status = 409
        elif code == "not_found":
            status = 404
            self.detail = "Not found."  # what the API says of any object it does not show
        else:
            status = 422
        super().__init__(message, errors=errors, code=code, status=status)


def field_error(field: str | None, code: str, message: str) -> dict:
    """One row of a refusal's ``errors``."""
    return {"field": field, "code": code, "message": message}


def is_positive_int(value) -> bool:
    """An int above 0 (not a bool), as input lines must give their quantities."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def stripped(value) -> str:
    """The text without its surrounding blanks; "" for anything that is not text."""
    return value.strip() if isinstance(value, str) else ""


def refund_data(refund: ReturnRefund | None) -> dict | None:
    """A return's refund as the API and webhooks show it (None: nothing computed yet, or an exchange)."""
    if refund is None:
        return None
    return {
        "amount_due": str(refund.amount_due),
        "amount": None if refund.amount is None else str(refund.amount),
        "currency": refund.currency,
        "status": refund.status,
        "method": refund.method,
        "breakdown": refund.breakdown,
        "refunded_at": refund.refunded_at.isoformat() if refund.refunded_at else None,
    }


def exchange_order_data(rma: Return) -> dict | None:
    order = rma.exchange_order
    if order is None:
        return None
    return {"id": str(order.pk), "number": order.number, "status": order.status}


def return_payload(rma: Return) -> dict:
    """The data of return webhooks."""
    refund = ReturnRefund.objects.filter(rma_id=rma.pk).first()
    return {
        "id": str(rma.id),
        "number": rma.number,
        "order": str(rma.order_id),
        "status": rma.status,
        "resolution": rma.resolution,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "reason": line.reason,
                "received_quantity": line.received_quantity,
                "condition": line.condition,
                "disposition": line.disposition,
            }
            for line in rma.lines.order_by("pk")
        ],
        "receipts": [
            {
                "sku": receipt.line.sku,
                "quantity": receipt.quantity,
                "condition": receipt.grade,
                "disposition": receipt.disposition,
                "note": receipt.note,
                "received_at": receipt.received_at.isoformat(),
            }
            for receipt in rma.receipts.select_related("line").order_by("received_at", "pk")
        ],
        "refund": refund_data(refund),
        "exchange_order": exchange_order_data(rma),
    }


def lock_return(return_id, *, tenant_id=None, warehouse_id=None) -> Return:
    """The return row, locked after its order rows: the order it returns and, for an exchange, the
    new order, in primary-key order (the house lock order: orders, then the return; two returns'
    writers queue on the order instead of deadlocking). ReturnError not_found (404) when there is
    no such return (or, given ``tenant_id`` or ``warehouse_id``, not that tenant's or warehouse's)."""
    try:
        query = Return.objects.filter(pk=return_id)
        if tenant_id is not None:
            query = query.filter(tenant_id=tenant_id)
        if warehouse_id is not None:
            query = query.filter(warehouse_id=warehouse_id)
        head = query.values_list("order_id", "exchange_order_id").first()
    except (ValueError, DjangoValidationError):  # not a UUID: no such return either
        head = None
    if head is None:
        raise ReturnError("return not found", code="not_found")
    list(order_locks.order_qs_select_for_update().filter(pk__in=[pk for pk in head if pk is not None]))
    rma = locks.return_lock(return_id)
    if rma is None or rma.exchange_order_id != head[1]:
        # Cannot happen: a return is never deleted and its exchange order is set at creation.
        raise ReturnError("The return changed concurrently.", code="invalid_state")
    return rma
