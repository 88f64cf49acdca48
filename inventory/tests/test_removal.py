"""Removal strategy: FIFO by receipt, FEFO for expiry-tracked products, nothing expired or too short-dated."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory import services
from inventory.models import Product, StockBalance
from inventory.tests import factories as inv

pytestmark = pytest.mark.django_db


def _receive(tenant, wh, product, location, quantity, lot, expiry=None):
    shipment = services.inbound_create(
        tenant_id=tenant.pk, warehouse=wh, lines=[services.InboundLineInput(sku=product.sku, quantity=quantity)]
    )
    services.inbound_receive(
        shipment_id=shipment.pk,
        lines=[
            services.ReceiptLineInput(
                sku=product.sku, quantity=quantity, location=location, lot=lot, expiry_date=expiry
            )
        ],
    )


def _reserve(tenant, wh, product, quantity):
    with transaction.atomic():
        plan = services.stock_reserve(tenant_id=tenant.pk, warehouse_id=wh.pk, needs={product.pk: quantity})
    if plan is None:
        return None
    return [(StockBalance.objects.get(pk=r.balance_id).lot.code, r.quantity) for r in plan[product.pk]]


@pytest.fixture
def setup():
    tenant = TenantFactory()
    return tenant, inv.warehouse()


def test_fifo_takes_the_earliest_received_lot_first(setup):
    tenant, wh = setup
    tee = inv.product(tenant, "TEE")
    _receive(tenant, wh, tee, "02-01-1", 3, "OLD")
    _receive(tenant, wh, tee, "01-01-1", 3, "NEW")  # nearer the depot, but received later
    assert _reserve(tenant, wh, tee, 4) == [("OLD", 3), ("NEW", 1)]


def test_fefo_takes_the_earliest_expiry_first_whatever_the_receipt_order(setup):
    tenant, wh = setup
    milk = inv.product(tenant, "MILK", expiry_tracked=True, lot_tracked=True)
    today = timezone.localdate()
    _receive(tenant, wh, milk, "01-01-1", 2, "LATE", today + timedelta(days=40))
    _receive(tenant, wh, milk, "01-02-1", 2, "SOON", today + timedelta(days=10))
    assert _reserve(tenant, wh, milk, 3) == [("SOON", 2), ("LATE", 1)]


def test_expired_and_short_dated_lots_are_never_allocated(setup):
    tenant, wh = setup
    milk = inv.product(tenant, "MILK", expiry_tracked=True, lot_tracked=True)
    Product.objects.filter(pk=milk.pk).update(min_shelf_life_days=14)
    today = timezone.localdate()
    _receive(tenant, wh, milk, "01-01-1", 5, "EXPIRED", today - timedelta(days=1))
    _receive(tenant, wh, milk, "01-02-1", 5, "SHORT", today + timedelta(days=13))
    _receive(tenant, wh, milk, "01-03-1", 2, "GOOD", today + timedelta(days=14))
    assert _reserve(tenant, wh, milk, 3) is None  # all or nothing: only 2 units may ship
    assert _reserve(tenant, wh, milk, 2) == [("GOOD", 2)]
    assert sum(StockBalance.objects.filter(lot__code__in=["EXPIRED", "SHORT"]).values_list("allocated", flat=True)) == 0


def test_allocation_never_takes_another_tenants_stock(setup):
    tenant, wh = setup
    other = TenantFactory()
    mine = inv.product(tenant, "TEE")
    theirs = inv.product(other, "TEE")
    _receive(other, wh, theirs, "01-01-1", 10, "THEIRS")
    assert _reserve(tenant, wh, mine, 1) is None
