"""Recording fees: every stage calls these in the transaction of the activity that earns them.

A fee is priced when it is written, from the rate card in effect that day (the merchant's own,
else the operator's default), and never changes afterwards: the database refuses it. Amounts are
``quantity * unit_price`` rounded half-up to the cent, per row. An event that must be billed once
(a pick, a package, a label, a storage day) carries a ``dedupe_key``: recording it again is a no-op,
so a task run twice or a retried transaction never bills twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import DatabaseError, transaction
from django.utils import timezone

from fulfillment.errors import FieldRefusal
from fulfillment.fees.models import DefaultRateCard, Fee, FeeKind, RateCard, SourceType

CENT = Decimal("0.01")
PRICE_STEP = Decimal("0.0001")
HUNDRED = Decimal(100)

# The card field that prices one unit of each kind (materials and shipping are cost plus markup).
UNIT_PRICE_FIELD = {
    FeeKind.STORAGE: "storage_per_m3_day",
    FeeKind.RECEIVING: "receiving_per_unit",
    FeeKind.PICK: "pick_per_order",
    FeeKind.PICK_EXTRA_UNIT: "pick_per_extra_unit",
    FeeKind.PACK: "pack_per_package",
    FeeKind.RETURN: "return_per_rma",
    FeeKind.RETURN_UNIT: "return_per_unit",
}
MARKUP_FIELD = {FeeKind.MATERIALS: "materials_markup_percent", FeeKind.SHIPPING: "shipping_markup_percent"}


MAX_CORRECTION = Decimal("1000000000")
logger = logging.getLogger(__name__)


class FeeError(FieldRefusal):
    code = "invalid"


def money(value: Decimal) -> Decimal:
    """Half-up to the cent (away from zero for negative corrections, as PostgreSQL's round does)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Card:
    """The prices in effect for a tenant on a day, and which card they come from."""

    prices: dict
    label: str  # "default@2026-01-01", "tenant@2026-12-01"; "none" when no card exists at all
    effective_from: date | None
    is_default: bool

    @property
    def currency(self) -> str:
        return self.prices["currency"]

    def price(self, kind: str) -> Decimal:
        return Decimal(self.prices[UNIT_PRICE_FIELD[kind]])

    def marked_up(self, kind: str, unit_cost: Decimal) -> Decimal:
        markup = Decimal(self.prices[MARKUP_FIELD[kind]])
        return (Decimal(unit_cost) * (HUNDRED + markup) / HUNDRED).quantize(PRICE_STEP, rounding=ROUND_HALF_UP)


def card_for(*, tenant_id, on: date) -> Card:
    """The merchant's latest card that has begun by ``on``, else the default card of that day."""
    own = RateCard.objects.filter(tenant_id=tenant_id, effective_from__lte=on).order_by("-effective_from").first()
    if own is not None:
        return Card(own.prices(), f"tenant@{own.effective_from}", own.effective_from, False)
    default = DefaultRateCard.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    if default is not None:
        return Card(default.prices(), f"default@{default.effective_from}", default.effective_from, True)
    zero = {name: Decimal(0) for name in DefaultRateCard.PRICE_FIELDS}
    zero["currency"] = "CAD"
    return Card(zero, "none", None, True)


@dataclass(frozen=True)
class FeeInput:
    kind: str
    quantity: Decimal | int
    source_type: str
    source_id: str = ""
    source_ref: str = ""
    dedupe_key: str | None = None
    unit_cost: Decimal | None = None  # materials and shipping: what one costs the operator
    currency: str = ""  # materials and shipping: the currency of unit_cost (default: the card's)


def _priced(*, tenant_id, card: Card, item: FeeInput, when: datetime, warehouse_code: str, actor: str) -> Fee:
    quantity = Decimal(item.quantity)
    cost = None
    currency = card.currency
    if item.kind in MARKUP_FIELD:
        unit_cost = Decimal(item.unit_cost or 0)
        unit_price = card.marked_up(item.kind, unit_cost)
        cost = money(unit_cost * quantity)
        currency = item.currency or card.currency
    else:
        unit_price = card.price(item.kind)
    return Fee(
        tenant_id=tenant_id,
        kind=item.kind,
        quantity=quantity,
        unit_price=unit_price,
        amount=money(quantity * unit_price),
        currency=currency,
        cost=cost,
        source_type=item.source_type,
        source_id=str(item.source_id)[:64],
        source_ref=item.source_ref[:100],
        warehouse_code=warehouse_code[:20],
        occurred_at=when,
        rate_card=card.label,
        dedupe_key=item.dedupe_key,
        actor=actor[:100],
    )


def fees_record(
    *, tenant_id, items: list[FeeInput], warehouse_code: str = "", actor: str = "", occurred_at: datetime | None = None
) -> None:
    """Price and write the fees of one activity, in the caller's transaction (one INSERT).

    Items with a quantity of zero earn nothing and are skipped; an item whose ``dedupe_key`` was
    recorded before is skipped by the database (ON CONFLICT DO NOTHING), whoever wrote it first.
    """
    items = [item for item in items if Decimal(item.quantity) != 0]
    if not items:
        return
    when = occurred_at or timezone.now()
    card = card_for(tenant_id=tenant_id, on=timezone.localdate(when))
    rows = [
        _priced(tenant_id=tenant_id, card=card, item=item, when=when, warehouse_code=warehouse_code, actor=actor)
        for item in items
    ]
    Fee.objects.bulk_create(rows, ignore_conflicts=True)


# -- the stages' activities -------------------------------------------------------------------------


def fees_for_receipt(
    *, tenant_id, shipment_id, reference: str, units: int, warehouse_code: str, actor: str = ""
) -> None:
    """Units received at the dock (good and damaged alike: both were handled), per receiving call."""
    fees_record(
        tenant_id=tenant_id,
        items=[FeeInput(FeeKind.RECEIVING, units, SourceType.RECEIPT, str(shipment_id), reference)],
        warehouse_code=warehouse_code,
        actor=actor,
    )


def fees_for_pick(*, tenant_id, order_id, order_number: str, units: int, warehouse_code: str, actor: str = "") -> None:
    """An order picked: one pick fee, and one per unit past the first; billed once per order."""
    fees_record(
        tenant_id=tenant_id,
        items=[
            FeeInput(FeeKind.PICK, 1, SourceType.ORDER, str(order_id), order_number, f"pick:{order_id}"),
            FeeInput(
                FeeKind.PICK_EXTRA_UNIT,
                max(units - 1, 0),
                SourceType.ORDER,
                str(order_id),
                order_number,
                f"pick_extra_unit:{order_id}",
            ),
        ],
        warehouse_code=warehouse_code,
        actor=actor,
    )


def fees_for_packages(
    *,
    tenant_id,
    shipment_id,
    reference: str,
    packages: int,
    boxes: list[tuple[str, Decimal]],
    warehouse_code: str,
    actor: str = "",
) -> None:
    """A shipment packed: the packing fee per package, and each package's box at cost plus markup.

    ``boxes``: (box code, what one costs the operator) per package that used a box of the catalog
    (a unit shipped in its own packaging uses none). Billed once per shipment and box code.
    """
    items = [
        FeeInput(
            FeeKind.PACK,
            packages,
            SourceType.SHIPMENT,
            str(shipment_id),
            reference,
            f"pack:{shipment_id}",
        )
    ]
    per_box: dict[str, tuple[int, Decimal]] = {}
    for code, cost in boxes:
        count, _ = per_box.get(code, (0, cost))
        per_box[code] = (count + 1, Decimal(cost))
    for code, (count, cost) in sorted(per_box.items()):
        if cost:
            items.append(
                FeeInput(
                    FeeKind.MATERIALS,
                    count,
                    SourceType.SHIPMENT,
                    str(shipment_id),
                    f"{reference} {code}".strip(),
                    f"materials:{shipment_id}:{code}",
                    unit_cost=cost,
                )
            )
    fees_record(tenant_id=tenant_id, items=items, warehouse_code=warehouse_code, actor=actor)


def fee_for_label(
    *,
    tenant_id,
    source_type: str,
    source_id,
    reference: str,
    label_key: str,
    charge: Decimal,
    currency: str,
    warehouse_code: str = "",
    actor: str = "",
) -> None:
    """A label bought (outbound or return): its charge plus the shipping markup; once per label.

    A label the carrier has charged for must be recorded whatever happens to its fee: the fee is
    written in a savepoint, and a database error there is logged and leaves the label recorded
    without its fee (rather than unrecorded, and charged again on the next attempt)."""
    try:
        with transaction.atomic():
            fees_record(
                tenant_id=tenant_id,
                items=[
                    FeeInput(
                        FeeKind.SHIPPING,
                        1,
                        source_type,
                        str(source_id),
                        reference,
                        f"shipping:{label_key}",
                        unit_cost=Decimal(charge),
                        currency=currency,
                    )
                ],
                warehouse_code=warehouse_code,
                actor=actor,
            )
    except DatabaseError:
        logger.exception("label %s (%s): its shipping fee could not be written", label_key, reference)


def fee_for_label_void(*, tenant_id, label_key: str, actor: str = "", reason: str = "label voided") -> None:
    """A voided label is credited: a new row that reverses what is left of the label's fee (after
    any correction of it); nothing when no fee was written or nothing is left."""
    original = Fee.objects.select_for_update().filter(tenant_id=tenant_id, dedupe_key=f"shipping:{label_key}").first()
    if original is None:
        return
    left = original.amount + sum((f.amount for f in Fee.objects.filter(corrects_id=original.pk)), Decimal(0))
    if not left:
        return
    reversal = _reversal(original, reason=reason, actor=actor, key=f"void:{label_key}")
    if left != original.amount:  # partly corrected before: credit the rest, no quantity
        reversal.quantity, reversal.amount, reversal.cost = Decimal(0), -left, None
    Fee.objects.bulk_create([reversal], ignore_conflicts=True)


def _reversal(original: Fee, *, reason: str, actor: str, key: str | None) -> Fee:
    return Fee(
        tenant_id=original.tenant_id,
        kind=original.kind,
        quantity=-original.quantity,
        unit_price=original.unit_price,
        amount=-original.amount,
        currency=original.currency,
        cost=-original.cost if original.cost is not None else None,
        source_type=original.source_type,
        source_id=original.source_id,
        source_ref=original.source_ref,
        warehouse_code=original.warehouse_code,
        occurred_at=timezone.now(),
        rate_card=original.rate_card,
        dedupe_key=key,
        corrects=original,
        reason=reason[:200],
        actor=actor[:100],
    )


def fees_for_return_receipt(
    *, tenant_id, return_id, rma_number: str, units: int, receipt_key: str, warehouse_code: str, actor: str = ""
) -> None:
    """A returned parcel received: the RMA fee once per return, and the units of this receipt."""
    fees_record(
        tenant_id=tenant_id,
        items=[
            FeeInput(FeeKind.RETURN, 1, SourceType.RETURN, str(return_id), rma_number, f"return:{return_id}"),
            FeeInput(
                FeeKind.RETURN_UNIT, units, SourceType.RETURN, str(return_id), rma_number, f"return_unit:{receipt_key}"
            ),
        ],
        warehouse_code=warehouse_code,
        actor=actor,
    )


# -- corrections --------------------------------------------------------------------------------------


@transaction.atomic
def fee_correct(*, tenant_id, amount: Decimal, reason: str, actor: str, corrects_id=None, currency: str = "") -> Fee:
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
        if currency and currency != card.currency:
            raise FeeError(
                f"adjustments are in the rate card's currency, {card.currency}", field="currency", code="invalid"
            )
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
    corrected = sum((f.amount for f in Fee.objects.filter(corrects_id=original.pk)), Decimal(0))
    left = original.amount + corrected
    if (left >= 0 and (left + amount) < 0) or (left < 0 and (left + amount) > 0):
        raise FeeError(
            f"the fee has {left} {original.currency} left; a correction may not take it past zero",
            field="amount",
            code="over_correction",
        )
    return Fee.objects.create(
        tenant_id=tenant_id,
        kind=original.kind,
        quantity=Decimal(0),
        unit_price=Decimal(0),
        amount=amount,
        currency=original.currency,
        source_type=SourceType.FEE,
        source_id=str(original.pk),
        source_ref=original.source_ref,
        warehouse_code=original.warehouse_code,
        occurred_at=now,
        rate_card=original.rate_card,
        corrects=original,
        reason=reason[:200],
        actor=actor[:100],
    )


# -- rate cards -----------------------------------------------------------------------------------------


# The largest price a card takes: far above any real 3PL price, and low enough that a fee of a
# million units at it still fits the ledger's amounts (14 digits), so no activity is ever refused
# for its fee.
MAX_PRICE = Decimal("10000")
MAX_PERCENT = Decimal("1000")
MAX_MINIMUM = Decimal("10000000")


def _check_card(prices: dict, *, effective_from: date, today: date) -> None:
    errors = []
    if effective_from < today:
        errors.append(
            {
                "field": "effective_from",
                "code": "in_the_past",
                "message": "a card applies from today or a later day; fees already written keep their prices",
            }
        )
    for name in DefaultRateCard.PRICE_FIELDS:
        if name == "currency":
            continue
        value = prices.get(name)
        if value is None:
            continue
        value = Decimal(value)
        limit = MAX_PERCENT if name.endswith("percent") else MAX_MINIMUM if name == "monthly_minimum" else MAX_PRICE
        if value < 0:
            errors.append({"field": name, "code": "negative", "message": "a price may not be negative"})
        elif value > limit:
            errors.append({"field": name, "code": "too_large", "message": f"at most {limit:,}"})
        elif value != value.quantize(
            Decimal("0.01") if name == "monthly_minimum" or name.endswith("percent") else PRICE_STEP
        ):
            errors.append({"field": name, "code": "invalid", "message": "too many decimal places"})
    currency = prices.get("currency")
    if currency is not None and not (len(currency) == 3 and currency.isalpha() and currency.isupper()):
        errors.append({"field": "currency", "code": "invalid", "message": "an ISO 4217 code, e.g. CAD"})
    if errors:
        raise FeeError(errors[0]["message"], errors=errors)


@transaction.atomic
def rate_card_set(*, tenant_id, prices: dict, effective_from: date | None = None, actor: str = "") -> RateCard:
    """A merchant's card from ``effective_from`` (default today): fields not given keep the values
    of the card in effect that day. A card already set for that day is replaced (fees it priced
    keep their prices, which are on their rows)."""
    today = timezone.localdate()
    effective_from = effective_from or today
    _check_card(prices, effective_from=effective_from, today=today)
    base = card_for(tenant_id=tenant_id, on=effective_from).prices
    values = {**base, **{k: v for k, v in prices.items() if k in DefaultRateCard.PRICE_FIELDS and v is not None}}
    card, _ = RateCard.objects.update_or_create(
        tenant_id=tenant_id, effective_from=effective_from, defaults={**values, "created_by": actor[:100]}
    )
    return card


@transaction.atomic
def default_rate_card_set(*, prices: dict, effective_from: date | None = None, actor: str = "") -> DefaultRateCard:
    """The operator's default card from ``effective_from``: it prices every merchant without its own."""
    today = timezone.localdate()
    effective_from = effective_from or today
    _check_card(prices, effective_from=effective_from, today=today)
    current = DefaultRateCard.objects.filter(effective_from__lte=effective_from).order_by("-effective_from").first()
    base = current.prices() if current else {}
    values = {**base, **{k: v for k, v in prices.items() if k in DefaultRateCard.PRICE_FIELDS and v is not None}}
    card, _ = DefaultRateCard.objects.update_or_create(
        effective_from=effective_from, defaults={**values, "created_by": actor[:100]}
    )
    return card


def storage_fees_sql(*, snapshot: str) -> str:
    """The storage fees of a day, as one INSERT ... SELECT: one row per row of ``snapshot``, an SQL
    relation with (tenant_id, warehouse_code, day, volume_m3, source_id), priced at the card in
    effect on ``day`` (the merchant's own, else the default). Billing runs it with its snapshot;
    the fee table is written only by this module. Parameters: %(now)s (recorded) and
    %(occurred_at)s (the start of the day, operator time). Once per tenant, warehouse
    and day (dedupe key), so a second run of the night adds nothing."""
    # Assembled from this module's SQL and the caller's relation name, never from input.
    return f"""INSERT INTO fees_fee
    (tenant_id, kind, quantity, unit_price, amount, currency, cost, source_type, source_id, source_ref,
     warehouse_code, occurred_at, recorded_at, rate_card, dedupe_key, reason, actor)
SELECT s.tenant_id, '{FeeKind.STORAGE.value}', s.volume_m3, c.price, round(s.volume_m3 * c.price, 2), c.currency,
       NULL, '{SourceType.STORAGE_DAY.value}', s.source_id, s.day::text, s.warehouse_code,
       %(occurred_at)s, %(now)s, c.label,
       'storage:' || s.warehouse_code || ':' || s.day::text, '', 'nightly storage'
FROM {snapshot} s
CROSS JOIN LATERAL (
    SELECT price, currency, label FROM (
        (SELECT r.storage_per_m3_day AS price, r.currency, 'tenant@' || r.effective_from::text AS label, 0 AS pref
         FROM fees_ratecard r WHERE r.tenant_id = s.tenant_id AND r.effective_from <= s.day
         ORDER BY r.effective_from DESC LIMIT 1)
        UNION ALL
        (SELECT d.storage_per_m3_day, d.currency, 'default@' || d.effective_from::text, 1
         FROM fees_defaultratecard d WHERE d.effective_from <= s.day
         ORDER BY d.effective_from DESC LIMIT 1)
    ) cards ORDER BY pref LIMIT 1
) c
WHERE s.volume_m3 > 0
ON CONFLICT DO NOTHING"""  # noqa: S608


__all__ = [
    "Card",
    "FeeError",
    "FeeInput",
    "FeeKind",
    "SourceType",
    "card_for",
    "default_rate_card_set",
    "fee_correct",
    "fee_for_label",
    "fee_for_label_void",
    "fees_for_packages",
    "fees_for_pick",
    "fees_for_receipt",
    "fees_for_return_receipt",
    "fees_record",
    "money",
    "rate_card_set",
    "storage_fees_sql",
]
