"""Shipping test helpers: a tenant with stock in MAIN, and shipments packed (and labelled) through the services."""

from __future__ import annotations

import importlib

from django.apps import apps

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.tests import factories as inv
from packing.tests.factories import packed_order
from shipping.models import CarrierAccount, CarrierService

_generic_migration = importlib.import_module("shipping.migrations.0006_generic_account")


def ensure_default_carrier() -> None:
    """Run the generic account's data migration (a no-op when the account exists)."""
    _generic_migration.create_generic(apps, None)


def stocked_tenant(warehouse, *, tenant=None, quantity: int = 50):
    """A tenant with TEE (200x150x50 mm, 250 g) and MUG (120x100x100 mm, 400 g) in stock at 01-01-1/01-02-1."""
    tenant = tenant or TenantFactory()
    tee = inv.product(tenant, "TEE", name="Red tee", length_mm=200, width_mm=150, height_mm=50, weight_g=250)
    mug = inv.product(tenant, "MUG", name="White mug", length_mm=120, width_mm=100, height_mm=100, weight_g=400)
    inv.stock(tenant, tee, warehouse, "01-01-1", quantity)
    inv.stock(tenant, mug, warehouse, "01-02-1", quantity)
    return tenant


def shipped(capture, tenant, *, external_id: str, lines=(("TEE", 2),), **fields):
    """Pack an order and run what packing enqueued (the label purchase): (order, shipment) refreshed."""
    with capture(execute=True):
        order, shipment = packed_order(tenant, external_id=external_id, lines=list(lines), **fields)
    order.refresh_from_db()
    shipment.refresh_from_db()
    return order, shipment


def carrier(
    code: str, *, standard_rate: str, days: int = 5, country: str = "CA", level: str = "standard"
) -> CarrierAccount:
    """Another generic (rate-sheet) account: one service at a flat rate per parcel to ``country``."""
    created = CarrierAccount.objects.create(carrier_name="generic", carrier_id=code, display_name=f"Carrier {code}")
    CarrierService.objects.create(
        account=created,
        service_code=level,
        service_name=f"{code} {level}",
        level=level,
        transit_days=days,
        currency="CAD",
        zones=[{"country_codes": [country], "rate": standard_rate}],
    )
    return created
