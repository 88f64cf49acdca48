"""Billing test helpers: the default rate card back after a transactional test, a card of one's own."""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal

from django.apps import apps

from fulfillment.fees.models import DefaultRateCard, RateCard

_fees_migration = importlib.import_module("fulfillment.fees.migrations.0001_initial")

CARD = {
    "storage_per_m3_day": Decimal("1.2000"),
    "receiving_per_unit": Decimal("0.3000"),
    "pick_per_order": Decimal("2.0000"),
    "pick_per_extra_unit": Decimal("0.4000"),
    "pack_per_package": Decimal("1.1000"),
    "materials_markup_percent": Decimal("20.00"),
    "shipping_markup_percent": Decimal("10.00"),
    "return_per_rma": Decimal("3.5000"),
    "return_per_unit": Decimal("0.6000"),
    "monthly_minimum": Decimal("0.00"),
    "currency": "CAD",
}


def ensure_default_rate_card() -> None:
    """The migration's default card (transactional tests empty every table afterwards)."""
    if not DefaultRateCard.objects.exists():
        _fees_migration.default_card(apps, None)


def rate_card(tenant, *, effective_from: date = date(2000, 1, 1), **prices) -> RateCard:
    """A card of the tenant's own, written directly (the service refuses past days)."""
    return RateCard.objects.create(tenant=tenant, effective_from=effective_from, **{**CARD, **prices})
