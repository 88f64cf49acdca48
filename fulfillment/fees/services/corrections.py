"""Corrections: a new signed row with a reason, never a change to the row it corrects."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from fulfillment.fees.models import Fee, FeeKind, SourceType
from fulfillment.fees.services.pricing import FeeError, card_for, money

MAX_CORRECTION = Decimal("1000000000")


def fee_left(original: Fee) -> Decimal:
    """What is left of a fee after the corrections of it (the row is locked by the caller)."""
    return original.amount + (Fee.objects.filter(corrects_id=original.pk).aggregate(total=Sum("amount"))["total"] or 0)


def correction_row(original: Fee, *, amount, quantity, unit_price, cost, reason: str, actor: str) -> Fee:
    """A new row that corrects ``original``: its kind, currency, reference, warehouse and card, now."""
    return Fee(
        tenant_id=original.tenant_id,
        kind=original.kind,
        quantity=quantity,
        unit_price=unit_price,
        amount=amount,
        currency=original.currency,
        cost=cost,
        source_type=SourceType.FEE,
        source_id=str(original.pk),
        source_ref=original.source_ref,
        warehouse_code=original.warehouse_code,
        occurred_at=timezone.now(),
        rate_card=original.rate_card,
        corrects=original,
        reason=reason[:200],
        actor=actor[:100],
    )


@transaction.atomic
def fee_correct(*, tenant_id, amount: Decimal, reason: str, actor: str, corrects_id=None) -> Fee:
    """A correction: a new signed row with a reason, never a change to the row it corrects.

    With ``corrects_id`` it is booked under that fee's kind, currency and source (and may not
    credit more than what is left of it); without, as an ``adjustment`` in the card's currency.
    """
    reason = (reason or "").strip()
    if not reason:
        raise FeeError("a correction needs a reason", field="reason", code="required")
    amount = Decimal(amount)
    if abs(amount) > MAX_CORRECTION:
        raise FeeError(f"a correction is at most {MAX_CORRECTION:,}", field="amount", code="too_large")
    if amount != money(amount):
        raise FeeError("an amount has at most two decimals", field="amount", code="invalid")
    if amount == 0:
        raise FeeError("a correction of zero changes nothing", field="amount", code="invalid")
    now = timezone.now()
    if corrects_id is None:
        card = card_for(tenant_id=tenant_id, on=timezone.localdate(now))
        return Fee.objects.create(
            tenant_id=tenant_id,
            kind=FeeKind.ADJUSTMENT,
            quantity=Decimal(1),
            unit_price=amount,
            amount=amount,
            currency=card.currency,
            source_type=SourceType.MANUAL,
            occurred_at=now,
            rate_card=card.label,
            reason=reason[:200],
            actor=actor[:100],
        )
    # The corrected row, locked so that two corrections of it cannot both pass the limit below.
    original = Fee.objects.select_for_update().filter(tenant_id=tenant_id, pk=corrects_id).first()
    if original is None or original.corrects_id is not None:
        raise FeeError("no such fee to correct", field="corrects", code="not_found")
    left = fee_left(original)
    if (left >= 0 and (left + amount) < 0) or (left < 0 and (left + amount) > 0):
        raise FeeError(
            f"the fee has {left} {original.currency} left; a correction may not take it past zero",
            field="amount",
            code="over_correction",
        )
    correction = correction_row(
        original, amount=amount, quantity=Decimal(0), unit_price=Decimal(0), cost=None, reason=reason, actor=actor
    )
    correction.save(force_insert=True)
    return correction
