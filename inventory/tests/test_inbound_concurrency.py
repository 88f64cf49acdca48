"""PostgreSQL: concurrent receipts into the same lot and location add up, and the ledger stays balanced."""

import pytest

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory import services
from inventory.models import InboundLine, Lot, Receipt, StockBalance
from inventory.services import putaway
from inventory.tests import factories as inv
from tests.threads import run_together

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_concurrent_receipts_into_one_new_lot_and_location_sum_up():
    tenant = TenantFactory()
    wh = inv.warehouse()
    inv.product(tenant, "TEE")
    # A first receipt into storage, alone: loads the Celery task registry before threads race to (see report).
    inv.stock(tenant, inv.product(tenant, "MUG"), wh, "04-01-1", 1)
    own = [
        services.inbound_create(
            tenant_id=tenant.pk, warehouse=wh, lines=[services.InboundLineInput(sku="TEE", quantity=3)]
        )
        for _ in range(12)
    ]
    shared = services.inbound_create(
        tenant_id=tenant.pk, warehouse=wh, lines=[services.InboundLineInput(sku="TEE", quantity=8)]
    )

    def receive(shipment, location, quantity):
        def work():
            services.inbound_receive(
                shipment_id=shipment.pk,
                lines=[services.ReceiptLineInput(sku="TEE", quantity=quantity, location=location, lot="LOT-1")],
            )

        return work

    jobs = [receive(asn, "01-01-1", 3) for asn in own] + [receive(shared, "", 2) for _ in range(6)]
    errors = run_together(jobs)

    assert errors == []
    assert Lot.objects.filter(tenant=tenant, code="LOT-1").count() == 1
    storage = StockBalance.objects.get(location__warehouse=wh, location__code="01-01-1", product__sku="TEE")
    receiving = StockBalance.objects.get(location__warehouse=wh, location__code="RECEIVING")
    assert (storage.on_hand, receiving.on_hand) == (36, 12)
    assert Receipt.objects.filter(product__sku="TEE").count() == 18
    assert InboundLine.objects.get(shipment=shared).received_quantity == 12
    assert services.ledger_differences() == []


def test_concurrent_put_aways_into_one_location_sum_up():
    tenant = TenantFactory()
    wh = inv.warehouse()
    inv.product(tenant, "TEE")
    receipts = []
    for _ in range(8):
        asn = services.inbound_create(
            tenant_id=tenant.pk, warehouse=wh, lines=[services.InboundLineInput(sku="TEE", quantity=5)]
        )
        services.inbound_receive(
            shipment_id=asn.pk, lines=[services.ReceiptLineInput(sku="TEE", quantity=5, lot="LOT-1")]
        )
        receipts.append(Receipt.objects.get(shipment=asn))

    def put(receipt):
        return lambda: putaway.putaway_confirm(receipt_id=receipt.pk, location_barcode="02-02-2", quantity=5)

    # Each receipt twice at once: the second confirmation of the same receipt must be refused.
    errors = run_together([put(r) for r in receipts] * 2)

    assert len(errors) == 8
    assert all(isinstance(e, services.InventoryError) for e in errors)
    storage = StockBalance.objects.get(location__warehouse=wh, location__code="02-02-2")
    receiving = StockBalance.objects.get(location__warehouse=wh, location__code="RECEIVING")
    assert (storage.on_hand, receiving.on_hand) == (40, 0)
    assert list(Receipt.objects.values_list("status", flat=True).distinct()) == ["put_away"]
    assert services.ledger_differences() == []


def test_receipts_put_aways_and_moves_on_one_lot_at_once_keep_the_ledger_balanced():
    tenant = TenantFactory()
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE")
    inv.stock(tenant, tee, wh, "01-01-1", 20, lot="LOT-1")
    waiting = []
    for _ in range(6):
        asn = services.inbound_create(
            tenant_id=tenant.pk, warehouse=wh, lines=[services.InboundLineInput(sku="TEE", quantity=4)]
        )
        services.inbound_receive(
            shipment_id=asn.pk, lines=[services.ReceiptLineInput(sku="TEE", quantity=4, lot="LOT-1")]
        )
        waiting.append(Receipt.objects.get(shipment=asn))
    fresh = [
        services.inbound_create(
            tenant_id=tenant.pk, warehouse=wh, lines=[services.InboundLineInput(sku="TEE", quantity=3)]
        )
        for _ in range(6)
    ]

    def receive(asn):
        return lambda: services.inbound_receive(
            shipment_id=asn.pk,
            lines=[services.ReceiptLineInput(sku="TEE", quantity=3, location="01-01-1", lot="LOT-1")],
        )

    def put(receipt):
        return lambda: putaway.putaway_confirm(receipt_id=receipt.pk, location_barcode="01-01-1", quantity=4)

    def move():
        return putaway.stock_move(
            product=tee, warehouse_id=wh.pk, from_code="01-01-1", to_code="02-01-1", quantity=2, lot="LOT-1"
        )

    errors = run_together([receive(a) for a in fresh] + [put(r) for r in waiting] + [move] * 6)

    assert errors == []
    balances = {
        b.location.code: b.on_hand
        for b in StockBalance.objects.filter(product=tee, location__warehouse=wh).select_related("location")
    }
    # 20 + 6 receipts x 3 + 6 put-aways x 4 - 6 moves x 2 at 01-01-1; 12 moved to 02-01-1; RECEIVING emptied.
    assert (balances["01-01-1"], balances["02-01-1"], balances["RECEIVING"]) == (50, 12, 0)
    assert services.ledger_differences() == []
