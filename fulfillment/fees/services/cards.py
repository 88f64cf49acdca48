"""Setting rate cards: a merchant's, and the operator's default, from a day on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from fulfillment.fees.models import DefaultRateCard, RateCard
from fulfillment.fees.services.pricing import PRICE_STEP, Card, FeeError, card_for

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


def _card_values(prices: dict, *, base: Card, effective_from: date, actor: str) -> dict:
    """Checked values of a card from ``effective_from``: the fields not given keep the values of
    ``base``, the card in effect that day."""
    _check_card(prices, effective_from=effective_from, today=timezone.localdate())
    given = {k: v for k, v in prices.items() if k in DefaultRateCard.PRICE_FIELDS and v is not None}
    return {**base.prices, **given, "created_by": actor[:100]}


@transaction.atomic
def rate_card_set(*, tenant_id, prices: dict, effective_from: date | None = None, actor: str = "") -> RateCard:
    """A merchant's card from ``effective_from`` (default today): fields not given keep the values
    of the card in effect that day. A card already set for that day is replaced (fees it priced
    keep their prices, which are on their rows)."""
    day = effective_from or timezone.localdate()
    values = _card_values(prices, base=card_for(tenant_id=tenant_id, on=day), effective_from=day, actor=actor)
    card, _ = RateCard.objects.update_or_create(tenant_id=tenant_id, effective_from=day, defaults=values)
    return card


@transaction.atomic
def default_rate_card_set(*, prices: dict, effective_from: date | None = None, actor: str = "") -> DefaultRateCard:
    """The operator's default card from ``effective_from``: it prices every merchant without its own."""
    day = effective_from or timezone.localdate()
    values = _card_values(prices, base=card_for(tenant_id=None, on=day), effective_from=day, actor=actor)
    card, _ = DefaultRateCard.objects.update_or_create(effective_from=day, defaults=values)
    return card
