"""Receiving: receipts into RECEIVING or storage, damaged units to quarantine, discrepancies, closing an ASN."""

from datetime import date

import pytest

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory import services
from inventory.models import (
    InboundDiscrepancy,
    InboundLine,
    InboundStatus,
    Receipt,
    ReceiptStatus,
    StockBalance,
    StockMovement,
)
from inventory.services.inbound import inbound_close
from inventory.tests import factories as inv

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    tenant = TenantFactory()
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE")
    mug = inv.product(tenant, "MUG")
    return tenant, wh, tee, mug


def _asn(tenant, wh, *lines):
    return services.inbound_create(
        tenant_id=tenant.pk, warehouse=wh, lines=[services.InboundLineInput(sku=s, quantity=q) for s, q in lines]
    )


def _on_hand(product, code):
    return sum(b.on_hand for b in StockBalance.objects.filter(product=product, location__code=code))


def _discrepancies(shipment):
    return sorted((d.product.sku, d.kind, d.quantity) for d in InboundDiscrepancy.objects.filter(shipment=shipment))


def test_receiving_without_a_location_puts_units_in_receiving_awaiting_put_away(
    setup, django_capture_on_commit_callbacks
):
    tenant, wh, tee, _ = setup
    asn = _asn(tenant, wh, ("TEE", 10))

    with django_capture_on_commit_callbacks() as callbacks:
        services.inbound_receive(
            shipment_id=asn.pk, lines=[services.ReceiptLineInput(sku="TEE", quantity=10, lot="L1")], actor="ann"
        )

    receipt = Receipt.objects.get(shipment=asn)
    assert (receipt.location.code, receipt.quantity, receipt.put_away_quantity, receipt.status) == (
        "RECEIVING",
        10,
        0,
        ReceiptStatus.AWAITING_PUT_AWAY,
    )
    assert (receipt.lot.code, receipt.received_by, receipt.put_away_at) == ("L1", "ann", None)
    assert _on_hand(tee, "RECEIVING") == 10
    assert callbacks == []  # nothing sellable yet: no re-allocation of backorders
    asn.refresh_from_db()
    assert asn.status == InboundStatus.RECEIVED
    assert services.ledger_differences() == []


def test_receiving_straight_into_storage_is_put_away_at_once_and_reallocates(setup, django_capture_on_commit_callbacks):
    tenant, wh, tee, _ = setup
    asn = _asn(tenant, wh, ("TEE", 10))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.inbound_receive(
            shipment_id=asn.pk, lines=[services.ReceiptLineInput(sku="TEE", quantity=4, location="01-02-1")]
        )

    receipt = Receipt.objects.get(shipment=asn)
    assert (receipt.status, receipt.put_away_quantity, receipt.put_away_at) == (
        ReceiptStatus.PUT_AWAY,
        4,
        receipt.received_at,
    )
    assert _on_hand(tee, "01-02-1") == 4
    assert len(callbacks) == 1  # orders.tasks.reallocate_backorders
    asn.refresh_from_db()
    assert asn.status == InboundStatus.PARTIALLY_RECEIVED


def test_damaged_units_go_to_quarantine_and_are_recorded(setup):
    tenant, wh, tee, _ = setup
    asn = _asn(tenant, wh, ("TEE", 10))

    services.inbound_receive(
        shipment_id=asn.pk, lines=[services.ReceiptLineInput(sku="TEE", quantity=8, damaged_quantity=2)]
    )

    line = InboundLine.objects.get(shipment=asn)
    assert (line.received_quantity, line.damaged_quantity) == (8, 2)
    assert (_on_hand(tee, "RECEIVING"), _on_hand(tee, "QUARANTINE")) == (8, 2)
    assert Receipt.objects.get(shipment=asn).quantity == 8
    assert _discrepancies(asn) == [("TEE", "damaged", 2)]
    asn.refresh_from_db()
    assert asn.status == InboundStatus.RECEIVED
    assert services.ledger_differences() == []


def test_units_beyond_the_asn_are_an_over_receipt_kept_in_one_row(setup):
    tenant, wh, _, _ = setup
    asn = _asn(tenant, wh, ("TEE", 10))

    services.inbound_receive(shipment_id=asn.pk, lines=[services.ReceiptLineInput(sku="TEE", quantity=7)])
    services.inbound_receive(shipment_id=asn.pk, lines=[services.ReceiptLineInput(sku="TEE", quantity=5)])
    services.inbound_receive(shipment_id=asn.pk, lines=[services.ReceiptLineInput(sku="TEE", quantity=1)])

    assert _discrepancies(asn) == [("TEE", "over", 3)]
    assert InboundLine.objects.get(shipment=asn).received_quantity == 13


def test_a_sku_not_on_the_asn_is_unexpected(setup):
    tenant, wh, _, mug = setup
    asn = _asn(tenant, wh, ("TEE", 10))

    services.inbound_receive(shipment_id=asn.pk, lines=[services.ReceiptLineInput(sku="MUG", quantity=3)])

    assert _discrepancies(asn) == [("MUG", "unexpected", 3)]
    assert _on_hand(mug, "RECEIVING") == 3


def test_closing_records_short_lines_and_marks_the_asn_received(setup):
    tenant, wh, _, _ = setup
    asn = _asn(tenant, wh, ("TEE", 10), ("MUG", 5))
    services.inbound_receive(
        shipment_id=asn.pk,
        lines=[
            services.ReceiptLineInput(sku="TEE", quantity=6, damaged_quantity=1),
            services.ReceiptLineInput(sku="MUG", quantity=5),
        ],
    )

    closed = inbound_close(shipment_id=asn.pk, actor="ann")

    assert closed.status == InboundStatus.RECEIVED
    assert _discrepancies(asn) == [("TEE", "damaged", 1), ("TEE", "short", 3)]
    assert InboundDiscrepancy.objects.get(kind="short").note == "10 expected, 7 arrived"


def test_closing_twice_is_refused_and_adds_nothing(setup):
    tenant, wh, _, _ = setup
    asn = _asn(tenant, wh, ("TEE", 10))
    inbound_close(shipment_id=asn.pk)

    with pytest.raises(services.InventoryError) as refused:
        inbound_close(shipment_id=asn.pk)

    assert refused.value.code == "duplicate"
    assert _discrepancies(asn) == [("TEE", "short", 10)]


def test_late_units_after_closing_make_the_shortfall_smaller(setup):
    tenant, wh, _, _ = setup
    asn = _asn(tenant, wh, ("TEE", 10))
    inbound_close(shipment_id=asn.pk)

    services.inbound_receive(shipment_id=asn.pk, lines=[services.ReceiptLineInput(sku="TEE", quantity=4)])

    assert _discrepancies(asn) == [("TEE", "short", 6)]


def test_a_lot_tracked_product_without_a_lot_is_refused_and_changes_nothing(setup):
    tenant, wh, _, _ = setup
    inv.product(tenant, "PILLS", lot_tracked=True, expiry_tracked=True)
    asn = _asn(tenant, wh, ("PILLS", 10))

    with pytest.raises(services.InventoryError) as refused:
        services.inbound_receive(shipment_id=asn.pk, lines=[services.ReceiptLineInput(sku="PILLS", quantity=10)])

    assert refused.value.field == "lines[0].lot"
    assert (StockMovement.objects.count(), Receipt.objects.count(), InboundDiscrepancy.objects.count()) == (0, 0, 0)


def test_lot_and_expiry_are_kept_on_the_receipt(setup):
    tenant, wh, _, _ = setup
    pills = inv.product(tenant, "PILLS", lot_tracked=True, expiry_tracked=True)
    asn = _asn(tenant, wh, ("PILLS", 10))

    services.inbound_receive(
        shipment_id=asn.pk,
        lines=[services.ReceiptLineInput(sku="PILLS", quantity=10, lot="B7", expiry_date=date(2027, 1, 31))],
    )

    receipt = Receipt.objects.get(shipment=asn)
    assert (receipt.product, receipt.lot.code, receipt.lot.expiry_date) == (pills, "B7", date(2027, 1, 31))


def test_a_virtual_or_unknown_location_is_refused_and_changes_nothing(setup):
    tenant, wh, _, _ = setup
    asn = _asn(tenant, wh, ("TEE", 10))

    for code in ("V-CUSTOMER", "99-99-9"):
        with pytest.raises(services.InventoryError) as refused:
            services.inbound_receive(
                shipment_id=asn.pk, lines=[services.ReceiptLineInput(sku="TEE", quantity=1, location=code)]
            )
        assert refused.value.code == "unknown_location"

    assert (StockMovement.objects.count(), Receipt.objects.count()) == (0, 0)
    assert InboundLine.objects.get(shipment=asn).received_quantity == 0
