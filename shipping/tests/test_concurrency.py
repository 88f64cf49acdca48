"""Two workers at once on one shipment (PostgreSQL, real threads): the label purchase, a pushed scan."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.webhooks.models import OutboxEvent
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders import services as orders_services
from orders.models import Order, OrderEvent, Status
from packing import services as packing_services
from packing.models import Box, Package, Shipment, ShipmentStatus
from packing.tests.factories import picked_order
from shipping import services
from shipping.models import LabelPurchase, TrackingEvent
from shipping.tests.factories import stocked_tenant
from tests.threads import race

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_concurrent_label_purchases_buy_one_label():
    tenant = stocked_tenant(inv.warehouse())
    picked = picked_order(tenant, external_id="RACE-2", lines=[("TEE", 1)])
    # Packed without packing's task message, so that only the two racing workers buy the label.
    orders_services.order_mark_packed(order_id=picked.pk, actor="test")
    box = Box.objects.get(code="BOX-S")
    shipment = Shipment.objects.create(tenant=tenant, order=picked, warehouse_id=picked.warehouse_id)
    Package.objects.create(
        tenant=tenant,
        shipment=shipment,
        number=1,
        box=box,
        weight_g=400,
        length_mm=box.length_mm,
        width_mm=box.width_mm,
        height_mm=box.height_mm,
        items=[{"sku": "TEE", "quantity": 1}],
    )

    def buy() -> str:
        return services.shipment_purchase_label(shipment_id=shipment.pk).result

    outcomes = race([buy, buy])

    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.LABEL_PURCHASED
    assert sorted(outcomes) == ["bought", "skipped"]
    assert LabelPurchase.objects.filter(shipment=shipment).count() == 1
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 1
    assert OrderEvent.objects.filter(order=picked, to_status="shipped").count() == 1
    assert Order.objects.get(pk=picked.pk).status == Status.SHIPPED
    assert ledger_differences() == []


def test_four_orders_sharing_products_in_opposite_line_order_get_their_labels_at_once(monkeypatch):
    """Labels bought and recorded at the same moment for orders (TEE, MUG) and (MUG, TEE): each gets
    one, and the ledger holds (the lock order itself: test_services' balances-key-order test)."""
    tenant = stocked_tenant(inv.warehouse())
    monkeypatch.setattr("packing.services.packs.enqueue", lambda *a, **k: None)  # only the racers buy
    shipments = []
    for n in range(4):
        lines = [("TEE", 1), ("MUG", 1)] if n % 2 == 0 else [("MUG", 1), ("TEE", 1)]
        picked = picked_order(tenant, external_id=f"CROSS-{n}", lines=lines)
        shipments.append(packing_services.order_pack(order_id=picked.pk, actor="test"))

    def buy(shipment_id):
        return lambda: services.shipment_purchase_label(shipment_id=shipment_id).result

    outcomes = race([buy(s.pk) for s in shipments])

    assert outcomes == ["bought"] * 4
    assert Order.objects.filter(status=Status.SHIPPED).count() == 4
    assert ledger_differences() == []


def test_the_same_scan_pushed_twice_at_once_is_stored_and_told_once():
    """A carrier's webhook retried while the first delivery is still being handled: one scan, one
    status change, one order delivery, one ``shipment.tracking_updated``."""
    tenant = stocked_tenant(inv.warehouse())
    picked = picked_order(tenant, external_id="RACE-T", lines=[("TEE", 1)])
    shipment = packing_services.order_pack(order_id=picked.pk, actor="test")
    services.shipment_purchase_label(shipment_id=shipment.pk)
    when = timezone.now() + timedelta(seconds=1)
    updates_before = OutboxEvent.objects.filter(type="shipment.tracking_updated").count()

    def push() -> int:
        return services.shipment_tracking_event_add(
            shipment_id=shipment.pk, code="delivered", description="Left at the door", occurred_at=when
        )

    outcomes = race([push, push])

    assert sorted(outcomes) == [0, 1]
    assert TrackingEvent.objects.filter(shipment=shipment, status="delivered").count() == 1
    assert OrderEvent.objects.filter(order=picked, to_status="delivered").count() == 1
    assert Order.objects.get(pk=picked.pk).status == Status.DELIVERED
    assert OutboxEvent.objects.filter(type="shipment.tracking_updated").count() == updates_before + 1
