"""Put-away: suggestions (pick face, then nearest empty location), confirmation by scan, moves, dock-to-stock."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory import services
from inventory.models import Location, PickFace, Receipt, ReceiptStatus, StockBalance, StockMovement
from inventory.services import putaway
from inventory.tests import factories as inv

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    tenant = TenantFactory()
    wh = inv.warehouse()  # 4 aisles x 10 bays x 2 levels; aisle pitch 3 m, bay width 1 m
    tee = inv.product(tenant, "TEE")
    return tenant, wh, tee


def _received(tenant, wh, product, quantity, lot=""):
    asn = services.inbound_create(
        tenant_id=tenant.pk, warehouse=wh, lines=[services.InboundLineInput(sku=product.sku, quantity=quantity)]
    )
    services.inbound_receive(
        shipment_id=asn.pk, lines=[services.ReceiptLineInput(sku=product.sku, quantity=quantity, lot=lot)]
    )
    return Receipt.objects.select_related("location__warehouse").get(shipment=asn)


def _face(tenant, product, wh, code, capacity=None):
    location = Location.objects.get(warehouse=wh, code=code)
    if capacity is not None:
        Location.objects.filter(pk=location.pk).update(capacity=capacity)
    PickFace.objects.create(tenant=tenant, product=product, location=location, min_quantity=2, max_quantity=20)
    return location


def _on_hand(product, code):
    return sum(b.on_hand for b in StockBalance.objects.filter(product=product, location__code=code))


class TestSuggest:
    def test_the_pick_face_comes_first_while_it_has_room(self, setup):
        tenant, wh, tee = setup
        _face(tenant, tee, wh, "02-05-1", capacity=20)
        inv.stock(tenant, tee, wh, "02-05-1", 12)
        receipt = _received(tenant, wh, tee, 8)

        assert putaway.putaway_suggest(receipt=receipt).code == "02-05-1"

    def test_a_full_pick_face_gives_the_nearest_empty_location(self, setup):
        tenant, wh, tee = setup
        _face(tenant, tee, wh, "02-05-1", capacity=20)
        inv.stock(tenant, tee, wh, "02-05-1", 12)
        inv.stock(tenant, inv.product(tenant, "MUG"), wh, "02-05-2", 1)  # same bay, upper level: occupied
        receipt = _received(tenant, wh, tee, 9)

        # 02-04-x and 02-06-x are 1 m away; 02-06-1 comes first in pick sequence (aisle 2 runs down).
        assert putaway.putaway_suggest(receipt=receipt).code == "02-06-1"

    def test_without_a_pick_face_the_location_already_holding_the_product_anchors_it(self, setup):
        tenant, wh, tee = setup
        inv.stock(tenant, tee, wh, "03-07-1", 5)
        inv.stock(tenant, inv.product(tenant, "MUG"), wh, "03-07-2", 1)
        receipt = _received(tenant, wh, tee, 4)

        # 03-06-x and 03-08-x are 1 m away; aisle 3 runs up, so 03-06-1 comes first.
        assert putaway.putaway_suggest(receipt=receipt).code == "03-06-1"

    def test_a_new_product_goes_to_the_first_empty_location_in_pick_sequence(self, setup):
        tenant, wh, tee = setup
        inv.stock(tenant, inv.product(tenant, "MUG"), wh, "01-01-1", 1)
        receipt = _received(tenant, wh, tee, 4)

        assert putaway.putaway_suggest(receipt=receipt).code == "01-01-2"

    def test_another_products_pick_face_is_not_suggested_even_when_empty(self, setup):
        tenant, wh, tee = setup
        _face(tenant, inv.product(tenant, "MUG"), wh, "01-01-1")
        receipt = _received(tenant, wh, tee, 4)

        assert putaway.putaway_suggest(receipt=receipt).code == "01-01-2"


class TestConfirm:
    def test_confirming_moves_the_units_and_completes_the_receipt(self, setup, django_capture_on_commit_callbacks):
        tenant, wh, tee = setup
        receipt = _received(tenant, wh, tee, 10, lot="L1")

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            done = putaway.putaway_confirm(receipt_id=receipt.pk, location_barcode="01-03-1", quantity=10, actor="ann")

        assert (done.status, done.put_away_quantity) == (ReceiptStatus.PUT_AWAY, 10)
        assert done.put_away_at is not None
        assert (_on_hand(tee, "RECEIVING"), _on_hand(tee, "01-03-1")) == (0, 10)
        movement = StockMovement.objects.get(reason="put_away")
        assert (movement.from_location.code, movement.to_location.code, movement.quantity, movement.actor) == (
            "RECEIVING",
            "01-03-1",
            10,
            "ann",
        )
        assert len(callbacks) == 1  # orders.tasks.reallocate_backorders: the units are sellable now
        assert services.ledger_differences() == []

    def test_a_partial_put_away_keeps_the_receipt_open(self, setup):
        tenant, wh, tee = setup
        receipt = _received(tenant, wh, tee, 10)

        first = putaway.putaway_confirm(receipt_id=receipt.pk, location_barcode="01-03-1", quantity=6)
        second = putaway.putaway_confirm(receipt_id=receipt.pk, location_barcode="01-04-1", quantity=4)

        assert (first.status, first.put_away_quantity, first.put_away_at) == (ReceiptStatus.AWAITING_PUT_AWAY, 6, None)
        assert (second.status, second.put_away_quantity) == (ReceiptStatus.PUT_AWAY, 10)
        assert (_on_hand(tee, "01-03-1"), _on_hand(tee, "01-04-1"), _on_hand(tee, "RECEIVING")) == (6, 4, 0)
        assert services.ledger_differences() == []

    @pytest.mark.parametrize("scan", ["99-01-1", "RECEIVING", "QUARANTINE", "V-CUSTOMER", ""])
    def test_a_wrong_scan_is_refused_and_changes_nothing(self, setup, scan):
        tenant, wh, tee = setup
        receipt = _received(tenant, wh, tee, 10)
        movements = StockMovement.objects.count()

        with pytest.raises(services.InventoryError) as refused:
            putaway.putaway_confirm(receipt_id=receipt.pk, location_barcode=scan, quantity=10)

        assert (refused.value.code, refused.value.field) == ("wrong_location", "location_barcode")
        receipt.refresh_from_db()
        assert (receipt.status, receipt.put_away_quantity) == (ReceiptStatus.AWAITING_PUT_AWAY, 0)
        assert StockMovement.objects.count() == movements
        assert _on_hand(tee, "RECEIVING") == 10

    def test_more_than_is_left_is_refused(self, setup):
        tenant, wh, tee = setup
        receipt = _received(tenant, wh, tee, 10)

        with pytest.raises(services.InventoryError) as refused:
            putaway.putaway_confirm(receipt_id=receipt.pk, location_barcode="01-03-1", quantity=11)

        assert refused.value.field == "quantity"
        assert _on_hand(tee, "RECEIVING") == 10

    def test_a_location_without_room_is_refused(self, setup):
        tenant, wh, tee = setup
        Location.objects.filter(warehouse=wh, code="01-03-1").update(capacity=5)
        receipt = _received(tenant, wh, tee, 10)

        with pytest.raises(services.InventoryError) as refused:
            putaway.putaway_confirm(receipt_id=receipt.pk, location_barcode="01-03-1", quantity=6)

        assert refused.value.code == "no_room"
        assert _on_hand(tee, "01-03-1") == 0

    def test_a_put_away_receipt_cannot_be_put_away_again(self, setup):
        tenant, wh, tee = setup
        receipt = _received(tenant, wh, tee, 2)
        putaway.putaway_confirm(receipt_id=receipt.pk, location_barcode="01-03-1", quantity=2)

        with pytest.raises(services.InventoryError) as refused:
            putaway.putaway_confirm(receipt_id=receipt.pk, location_barcode="01-03-1", quantity=1)

        assert refused.value.code == "already_put_away"
        assert _on_hand(tee, "01-03-1") == 2


class TestMove:
    def test_units_move_between_locations_oldest_lot_first(self, setup):
        tenant, wh, tee = setup
        inv.stock(tenant, tee, wh, "01-01-1", 3, lot="OLD")
        inv.stock(tenant, tee, wh, "01-01-1", 5, lot="NEW")

        movements = putaway.stock_move(
            product=tee, warehouse_id=wh.pk, from_code="01-01-1", to_code="02-01-1", quantity=4
        )

        assert [(m.lot.code, m.quantity, m.reason) for m in movements] == [("OLD", 3, "move"), ("NEW", 1, "move")]
        assert (_on_hand(tee, "01-01-1"), _on_hand(tee, "02-01-1")) == (4, 4)
        assert services.ledger_differences() == []

    def test_reserved_units_cannot_be_moved_away(self, setup):
        tenant, wh, tee = setup
        inv.stock(tenant, tee, wh, "01-01-1", 5)
        with transaction.atomic():
            services.stock_reserve(tenant_id=tenant.pk, warehouse_id=wh.pk, needs={tee.pk: 3})

        with pytest.raises(services.InsufficientStock):
            putaway.stock_move(product=tee, warehouse_id=wh.pk, from_code="01-01-1", to_code="02-01-1", quantity=3)

        balance = StockBalance.objects.get(product=tee, location__code="01-01-1")
        assert (balance.on_hand, balance.allocated) == (5, 3)
        assert _on_hand(tee, "02-01-1") == 0

    def test_a_named_lot_is_the_only_one_moved(self, setup):
        tenant, wh, tee = setup
        inv.stock(tenant, tee, wh, "01-01-1", 3, lot="OLD")
        inv.stock(tenant, tee, wh, "01-01-1", 5, lot="NEW")

        putaway.stock_move(
            product=tee, warehouse_id=wh.pk, from_code="01-01-1", to_code="02-01-1", quantity=5, lot="NEW"
        )

        assert list(
            StockBalance.objects.filter(product=tee, location__code="02-01-1").values_list("lot__code", "on_hand")
        ) == [("NEW", 5)]

    def test_a_virtual_target_is_refused(self, setup):
        tenant, wh, tee = setup
        inv.stock(tenant, tee, wh, "01-01-1", 3)

        with pytest.raises(services.InventoryError) as refused:
            putaway.stock_move(product=tee, warehouse_id=wh.pk, from_code="01-01-1", to_code="V-SCRAP", quantity=1)

        assert refused.value.field == "to_location"
        assert _on_hand(tee, "01-01-1") == 3


class TestDockToStock:
    def test_average_and_p90_are_exact_over_the_period(self, setup):
        tenant, wh, tee = setup
        now = timezone.now()
        minutes = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
        for value in minutes:
            receipt = _received(tenant, wh, tee, 1)
            Receipt.objects.filter(pk=receipt.pk).update(
                received_at=now - timedelta(hours=1, minutes=value),
                put_away_at=now - timedelta(hours=1),
                status=ReceiptStatus.PUT_AWAY,
                put_away_quantity=1,
            )
        old = _received(tenant, wh, tee, 1)  # completed 8 days ago: outside a 7-day window
        Receipt.objects.filter(pk=old.pk).update(
            received_at=now - timedelta(days=8, hours=5), put_away_at=now - timedelta(days=8), status="put_away"
        )
        _received(tenant, wh, tee, 1)  # still awaiting put-away: not counted

        figures = putaway.dock_to_stock(warehouse=wh, days=7, now=now)

        assert (figures.receipts, figures.average_seconds, figures.p90_seconds) == (10, 55 * 60.0, 90 * 60.0)

    def test_no_receipts_give_no_figures(self, setup):
        _, wh, _ = setup

        figures = putaway.dock_to_stock(warehouse=wh, days=7)

        assert (figures.receipts, figures.average_seconds, figures.p90_seconds) == (0, None, None)
