"""The nightly storage snapshot: the cubic volume each merchant holds, billed once per day."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from billing.models import StorageSnapshot
from billing.services import storage_snapshot_take
from billing.tests.factories import rate_card
from fulfillment.fees.models import Fee, FeeKind
from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.tests import factories as inv

pytestmark = pytest.mark.django_db


def test_storage_bills_the_volume_each_merchant_held_once_per_day():
    wh = inv.warehouse()
    acme, globex = TenantFactory(), TenantFactory()
    rate_card(acme, storage_per_m3_day=Decimal("2.5000"))
    tee = inv.product(acme, "TEE", length_mm=200, width_mm=150, height_mm=50)  # 0.0015 m3
    box = inv.product(acme, "BOX", length_mm=500, width_mm=400, height_mm=300)  # 0.06 m3
    inv.stock(acme, tee, wh, "01-01-1", 100)
    inv.stock(acme, box, wh, "01-02-1", 10)
    inv.stock(globex, inv.product(globex, "MUG", length_mm=100, width_mm=100, height_mm=100), wh, "01-03-1", 1000)
    with time_machine.travel(datetime(2026, 12, 4, 2, 5, tzinfo=UTC), tick=False):
        run = storage_snapshot_take()
        again = storage_snapshot_take()
    assert (run.day, run.snapshots, run.fees) == (date(2026, 12, 3), 2, 2)
    assert (again.snapshots, again.fees) == (0, 0)
    snap = StorageSnapshot.objects.get(tenant=acme)
    assert (snap.units, snap.volume_m3, snap.locations) == (110, Decimal("0.750000"), 2)
    [fee] = Fee.objects.filter(tenant=acme, kind=FeeKind.STORAGE)
    assert (fee.quantity, fee.unit_price, fee.amount, fee.source_ref) == (
        Decimal("0.750000"),
        Decimal("2.5000"),
        Decimal("1.88"),
        "2026-12-03",
    )
    assert fee.occurred_at == datetime(2026, 12, 3, tzinfo=UTC) and fee.rate_card == "tenant@2000-01-01"
    [other] = Fee.objects.filter(tenant=globex, kind=FeeKind.STORAGE)
    assert (other.quantity, other.unit_price, other.amount) == (Decimal("1.000000"), Decimal("0.6000"), Decimal("0.60"))


def test_units_shipped_out_are_not_stored():
    from inventory.models import MovementReason, StockBalance
    from inventory.services import stock_transfer

    wh = inv.warehouse()
    tenant = TenantFactory()
    tee = inv.product(tenant, "TEE")
    inv.stock(tenant, tee, wh, "01-01-1", 10)
    held = StockBalance.objects.get(tenant=tenant, product=tee, location__code="01-01-1")
    stock_transfer(
        tenant_id=tenant.pk,
        product_id=tee.pk,
        lot_id=held.lot_id,
        warehouse_id=wh.pk,
        source_code="01-01-1",
        target_code="V-CUSTOMER",
        quantity=4,
        reason=MovementReason.SHIPMENT,
    )
    with time_machine.travel(datetime(2026, 12, 4, 2, 5, tzinfo=UTC), tick=False):
        storage_snapshot_take()
    snap = StorageSnapshot.objects.get(tenant=tenant)
    assert (snap.units, snap.volume_m3, snap.locations) == (6, Decimal("0.009000"), 1)


def test_the_nightly_task_is_on_the_beat_and_bills_yesterday(settings):
    from billing.tasks import snapshot_storage
    from fulfillment.tenancy import rls

    entry = settings.CELERY_BEAT_SCHEDULE["storage-snapshot"]
    assert entry["task"] == "billing.tasks.snapshot_storage"
    wh = inv.warehouse()
    tenant = TenantFactory()
    inv.stock(tenant, inv.product(tenant, "TEE"), wh, "01-01-1", 10)
    with time_machine.travel(datetime(2026, 12, 4, 2, 5, tzinfo=UTC), tick=False), rls.use(rls.NONE):
        snapshot_storage.delay()  # a beat task enters the operator scope itself
    assert list(StorageSnapshot.objects.values_list("tenant_id", "day", "units")) == [
        (tenant.pk, date(2026, 12, 3), 10)
    ]


def test_units_without_dimensions_are_counted_and_named_on_the_managers_page():
    from billing.selectors import month_to_date
    from fulfillment.tenancy.models import Tenant

    wh = inv.warehouse()
    tenant = TenantFactory()
    inv.stock(tenant, inv.product(tenant, "TEE"), wh, "01-01-1", 10)
    inv.stock(tenant, inv.product(tenant, "BLANK", length_mm=0, width_mm=0, height_mm=0), wh, "01-02-1", 7)
    with time_machine.travel(datetime(2026, 12, 4, 2, 5, tzinfo=UTC), tick=False):
        storage_snapshot_take()
        [row] = month_to_date(tenants=Tenant.objects.filter(pk=tenant.pk))
    snap = StorageSnapshot.objects.get(tenant=tenant)
    assert (snap.units, snap.unsized_units, snap.volume_m3) == (17, 7, Decimal("0.015000"))
    assert row.unsized_units == 7
