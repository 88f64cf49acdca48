"""Pricing a fee when it is written: the card in effect that day, and the one INSERT of an activity.

A fee is priced from the rate card in effect that day (the merchant's own, else the operator's
default), and never changes afterwards: the database refuses it. Amounts are ``quantity *
unit_price`` rounded half-up to the cent, per row. An event that must be billed once carries a
``dedupe_key``: recording it again is a no-op (ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

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
    """The merchant's latest card that has begun by ``on``, else the default card of that day
    (``tenant_id`` None: the default card)."""
    own = (
        RateCard.objects.filter(tenant_id=tenant_id, effective_from__lte=on).order_by("-effective_from").first()
        if tenant_id is not None
        else None
    )
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
