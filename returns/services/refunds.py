"""Refunds: what the shopper gets back for the units that came back, and the merchant's confirmation.

The policy's figure (``refund_quote``), per receipt (units of one line received in one go, with
one grade): the line's unit price (none: 0) times the units, less the restocking fee (the policy's
percent of that amount, rounded half-up to cents) for units graded opened or damaged (new and
defective units cost the shopper nothing); less the return shipping fee once per return unless
every unit received is defective (the shop's fault); never below 0. An exchange under a policy of
free exchanges pays no fee at all.

The ReturnRefund row (one per return: a refund cannot be paid twice) is written ``pending`` by
``refund_recompute`` at each receipt of a refund or store-credit return, so the merchant sees the
figure grow parcel by parcel; the merchant confirms it (or a lower amount) with ``return_refund``
once the return is ``inspected`` (every unit in and graded). An exchange has no refund row: the new
order is its resolution (returns.services.exchanges).

Locks: the order rows, then the return (common.lock_return), then the refund row.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from fulfillment.webhooks.services import event_publish
from orders.services import order_note
from returns.models import (
    Grade,
    RefundMethod,
    RefundStatus,
    Resolution,
    Return,
    ReturnReceipt,
    ReturnRefund,
    ReturnStatus,
)
from returns.selectors import return_policy
from returns.services.common import ReturnError, field_error, lock_return, return_payload

CENT = Decimal("0.01")
# Grades that pay the restocking fee: the shopper opened or harmed the unit.
FEE_GRADES = frozenset({Grade.OPENED, Grade.DAMAGED})
# Resolutions the shopper is paid back for (an exchange is paid in goods).
REFUNDED_RESOLUTIONS = frozenset({Resolution.REFUND, Resolution.STORE_CREDIT})


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def refund_quote(rma: Return) -> tuple[Decimal, str, dict]:
    """(amount_due, currency, breakdown) for the units of ``rma`` received so far (see the module's
    docstring for the rule). ``breakdown`` says how: the policy's fees, one row per receipt
    (sku, grade, units, unit price, amount, restocking fee, net) and the totals, amounts as strings.
    A read: nothing is written."""
    policy = return_policy(tenant_id=rma.tenant_id)
    currency = rma.order.currency
    waived = rma.resolution == Resolution.EXCHANGE and policy.free_exchanges
    percent = Decimal(0) if waived else Decimal(policy.restocking_fee_percent)
    receipts = list(
        ReturnReceipt.objects.filter(rma_id=rma.pk).select_related("line__order_line").order_by("received_at", "pk")
    )
    rows = []
    subtotal = fees = Decimal("0.00")
    for receipt in receipts:
        unit_price = receipt.line.order_line.unit_price or Decimal("0.00")
        amount = _cents(unit_price * receipt.quantity)
        fee = _cents(amount * percent / 100) if receipt.grade in FEE_GRADES else Decimal("0.00")
        subtotal += amount
        fees += fee
        rows.append(
            {
                "sku": receipt.line.sku,
                "grade": receipt.grade,
                "quantity": receipt.quantity,
                "unit_price": str(_cents(unit_price)),
                "amount": str(amount),
                "restocking_fee": str(fee),
                "net": str(amount - fee),
            }
        )
    all_defective = bool(receipts) and all(receipt.grade == Grade.DEFECTIVE for receipt in receipts)
    shipping = (
        Decimal("0.00") if waived or all_defective or not receipts else _cents(Decimal(policy.return_shipping_fee))
    )
    amount_due = max(subtotal - fees - shipping, Decimal("0.00"))
    if waived:
        shipping_note = "waived: free exchanges"
    elif all_defective:
        shipping_note = "waived: every unit received is defective"
    else:
        shipping_note = ""
    breakdown = {
        "lines": rows,
        "subtotal": str(subtotal),
        "restocking_fee_percent": str(_cents(percent)),
        "restocking_fees": str(fees),
        "return_shipping_fee": str(shipping),
        "return_shipping_note": shipping_note,
        "amount_due": str(amount_due),
    }
    return amount_due, currency, breakdown


def _default_method(rma: Return) -> str:
    return RefundMethod.STORE_CREDIT if rma.resolution == Resolution.STORE_CREDIT else RefundMethod.ORIGINAL_PAYMENT


def refund_recompute(rma: Return) -> ReturnRefund | None:
    """Write (or bring up to date) the pending refund of a refund or store-credit return from its
    receipts so far; a confirmed refund is left as it is. Runs in the caller's transaction, under
    the caller's lock of the return (return_receive). None for an exchange."""
    if rma.resolution not in REFUNDED_RESOLUTIONS:
        return None
    amount_due, currency, breakdown = refund_quote(rma)
    refund = ReturnRefund.objects.select_for_update(no_key=True).filter(rma_id=rma.pk).first()
    now = timezone.now()
    if refund is None:
        return ReturnRefund.objects.create(
            tenant_id=rma.tenant_id,
            rma=rma,
            method=_default_method(rma),
            amount_due=amount_due,
            currency=currency,
            breakdown=breakdown,
            computed_at=now,
        )
    if refund.status != RefundStatus.PENDING:
        return refund
    refund.amount_due, refund.currency, refund.breakdown, refund.computed_at = amount_due, currency, breakdown, now
    refund.save(update_fields=["amount_due", "currency", "breakdown", "computed_at"])
    return refund


def _amount(value, *, due: Decimal) -> tuple[Decimal | None, dict | None]:
    """The merchant's amount, checked: a decimal of at most two places, 0 up to the amount due;
    (amount, None) or (None, the error row)."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        return None, field_error("amount", "invalid", "Give the amount as a decimal number.")
    if amount != amount.quantize(CENT):
        return None, field_error("amount", "max_decimal_places", "At most 2 decimal places (cents).")
    if amount < 0:
        return None, field_error("amount", "negative", "The amount cannot be negative.")
    if amount > due:
        return None, field_error(
            "amount", "exceeds_due", f"At most the amount due, {due}: a refund may be lowered, not raised."
        )
    return amount.quantize(CENT), None


@transaction.atomic
def return_refund(
    *,
    return_id,
    tenant_id,
    amount: Decimal | None = None,
    method: str | None = None,
    note: str = "",
    actor: str,
) -> ReturnRefund:
    """The merchant confirms the refund of an inspected return: the amount due (``amount`` None) or a
    lower one, by ``method`` (original_payment; store_credit only for a store-credit return; None:
    the return's own). The refund and the return become ``refunded``, the order's timeline says so
    and a ``return.refunded`` webhook carries the amount and currency (data.refund).

    Refused, nothing changed: another tenant's or no such return (404); not inspected yet, an
    exchange or a closed return (409 invalid_state); already refunded (409 already_refunded); an
    amount above the amount due (422 amount exceeds_due), negative (422 amount negative) or not
    a sum of cents; a method the return does not allow (422 method). Under the order -> return ->
    refund locks, so two confirmations at once pay once: the second is already_refunded.
    """
    rma = lock_return(return_id, tenant_id=tenant_id)
    refund = ReturnRefund.objects.select_for_update(no_key=True).filter(rma_id=rma.pk).first()
    if rma.status == ReturnStatus.REFUNDED or (refund is not None and refund.status == RefundStatus.REFUNDED):
        raise ReturnError(
            f"Return {rma.number} is already refunded.",
            errors=[field_error(None, "already_refunded", f"Return {rma.number} is already refunded.")],
            code="already_refunded",
        )
    if rma.resolution not in REFUNDED_RESOLUTIONS:
        message = f"Return {rma.number} is an exchange: its new order is the resolution, there is nothing to refund."
        raise ReturnError(message, errors=[field_error(None, "exchange", message)], code="invalid_state")
    if rma.status != ReturnStatus.INSPECTED or refund is None:
        if rma.status == ReturnStatus.CLOSED:
            message = f"Return {rma.number} is closed."
        else:
            message = f"Return {rma.number} is {rma.status}: it is refunded once every unit is in and inspected."
        raise ReturnError(message, errors=[field_error(None, "not_inspected", message)], code="invalid_state")
    errors = []
    chosen_method = _default_method(rma) if method is None else method
    if chosen_method not in RefundMethod.values:
        errors.append(field_error("method", "invalid_choice", f"Must be one of {', '.join(RefundMethod.values)}."))
    elif chosen_method == RefundMethod.STORE_CREDIT and rma.resolution != Resolution.STORE_CREDIT:
        errors.append(
            field_error(
                "method", "not_allowed", "Store credit is only given for a return whose resolution is store credit."
            )
        )
    note = (note or "").strip()
    if len(note) > 300:
        errors.append(field_error("note", "max_length", "At most 300 characters."))
    paid, amount_error = (refund.amount_due, None) if amount is None else _amount(amount, due=refund.amount_due)
    if amount_error:
        errors.insert(0, amount_error)
    if errors:
        raise ReturnError("The refund has invalid fields.", errors=errors)
    now = timezone.now()
    changed = ReturnRefund.objects.filter(rma_id=rma.pk, status=RefundStatus.PENDING).update(
        status=RefundStatus.REFUNDED,
        amount=paid,
        method=chosen_method,
        note=note,
        refunded_at=now,
        refunded_by=actor[:100],
    )
    moved = Return.objects.filter(pk=rma.pk, status=ReturnStatus.INSPECTED).update(
        status=ReturnStatus.REFUNDED, updated_at=now
    )
    if changed != 1 or moved != 1:
        # cannot happen under the locks; refuse rather than pay twice
        raise ReturnError(f"Return {rma.number} changed state concurrently.", code="invalid_state")
    rma.refresh_from_db()
    refund.refresh_from_db()
    lowered = f" (lowered from {refund.amount_due})" if paid != refund.amount_due else ""
    order_note(
        order_id=rma.order_id,
        type="return_refunded",
        message=f"Return {rma.number} refunded: {paid} {refund.currency}{lowered}, {chosen_method.replace('_', ' ')}"
        + (f"; {note}" if note else ""),
        data={
            "return": str(rma.id),
            "number": rma.number,
            "amount": str(paid),
            "amount_due": str(refund.amount_due),
            "currency": refund.currency,
            "method": chosen_method,
        },
        actor=actor,
    )
    event_publish(tenant_id=rma.tenant_id, type="return.refunded", data=return_payload(rma))
    return refund
