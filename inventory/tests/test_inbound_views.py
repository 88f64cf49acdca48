"""Handheld pages: receive by scanning (GS1 fills lot and expiry; case GTINs count N), put away by scan, move."""

from datetime import date

import pytest
from django.test import Client

from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory import services
from inventory.models import InboundLine, ProductBarcode, Receipt, ReceiptStatus, StockBalance, StockMovement
from inventory.tests import factories as inv

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    tenant = TenantFactory(name="Acme")
    wh = inv.warehouse()
    user, _ = staff_with_token(username="ann", role="associate", warehouse=wh)
    pills = inv.product(tenant, "PILLS", barcode="09501101530003", lot_tracked=True, expiry_tracked=True)
    can = inv.product(tenant, "CAN", barcode="036000291452")
    ProductBarcode.objects.create(tenant=tenant, product=can, code="10036000291459", quantity=12)
    asn = services.inbound_create(
        tenant_id=tenant.pk,
        warehouse=wh,
        reference="PO-7",
        lines=[services.InboundLineInput(sku="PILLS", quantity=20), services.InboundLineInput(sku="CAN", quantity=30)],
    )
    client = Client()
    client.force_login(user)
    return {"tenant": tenant, "wh": wh, "client": client, "asn": asn, "pills": pills, "can": can}


def _balance(product, code):
    return sum(b.on_hand for b in StockBalance.objects.filter(product=product, location__code=code))


def test_the_receive_list_shows_open_asns_of_my_warehouses(world):
    other = inv.warehouse("FAR")
    far = services.inbound_create(
        tenant_id=world["tenant"].pk, warehouse=other, lines=[services.InboundLineInput(sku="CAN", quantity=1)]
    )

    page = world["client"].get("/handheld/receive/").content.decode()

    assert f'data-shipment="{world["asn"].pk}"' in page
    assert str(far.pk) not in page


def test_a_gs1_scan_fills_lot_and_expiry_and_confirm_receives_into_receiving(world):
    url = f"/handheld/receive/{world['asn'].pk}/"
    client = world["client"]

    assert client.post(url, {"scan": "0109501101530003|10B-42|17270630"}).status_code == 302
    client.post(url, {"scan": "0109501101530003|10B-42|17270630"})
    page = client.get(url).content.decode()
    assert 'id="receive-count">2<' in page and "lot B-42 · expiry 2027-06-30" in page
    assert client.post(url, {"action": "confirm", "quantity": "2", "damaged": "1"}).status_code == 302

    receipt = Receipt.objects.get()
    assert (receipt.product, receipt.quantity, receipt.lot.code, receipt.lot.expiry_date, receipt.location.code) == (
        world["pills"],
        2,
        "B-42",
        date(2027, 6, 30),
        "RECEIVING",
    )
    line = InboundLine.objects.get(shipment=world["asn"], product=world["pills"])
    assert (line.received_quantity, line.damaged_quantity) == (2, 1)
    assert _balance(world["pills"], "QUARANTINE") == 1


def test_a_case_gtin_scan_counts_its_eaches(world):
    url = f"/handheld/receive/{world['asn'].pk}/"
    client = world["client"]

    client.post(url, {"scan": "10036000291459"})
    client.post(url, {"scan": "10036000291459"})
    client.post(url, {"scan": "036000291452"})
    client.post(url, {"action": "confirm", "quantity": "25", "damaged": "0"})

    assert _balance(world["can"], "RECEIVING") == 25
    assert InboundLine.objects.get(shipment=world["asn"], product=world["can"]).received_quantity == 25


def test_the_count_after_scans_is_shown(world):
    url = f"/handheld/receive/{world['asn'].pk}/"
    client = world["client"]
    client.post(url, {"scan": "10036000291459"})
    client.post(url, {"scan": "036000291452"})

    page = client.get(url).content.decode()

    assert 'id="receive-count">13<' in page


def test_a_lot_tracked_product_scanned_by_gtin_asks_for_lot_and_expiry(world):
    url = f"/handheld/receive/{world['asn'].pk}/"
    client = world["client"]
    client.post(url, {"scan": "09501101530003"})

    page = client.get(url).content.decode()
    client.post(url, {"action": "confirm", "quantity": "1", "lot": "T-1", "expiry_date": "2027-02-28"})

    assert 'name="lot"' in page and 'name="expiry_date"' in page
    assert Receipt.objects.get().lot.code == "T-1"


def test_a_bad_check_digit_is_refused_with_data_error_and_changes_nothing(world):
    response = world["client"].post(f"/handheld/receive/{world['asn'].pk}/", {"scan": "4006381333932"})

    assert response.status_code == 422
    assert 'data-error="1"' in response.content.decode()
    assert StockMovement.objects.count() == 0


def test_another_product_while_counting_is_refused(world):
    url = f"/handheld/receive/{world['asn'].pk}/"
    world["client"].post(url, {"scan": "036000291452"})

    response = world["client"].post(url, {"scan": "09501101530003"})

    assert response.status_code == 422
    assert "confirm or cancel CAN first" in response.content.decode()
    assert 'id="receive-count">1<' in world["client"].get(url).content.decode()


def test_put_away_shows_the_suggestion_and_a_scan_of_it_completes_the_receipt(world):
    services.inbound_receive(shipment_id=world["asn"].pk, lines=[services.ReceiptLineInput(sku="CAN", quantity=30)])
    client = world["client"]
    receipt = Receipt.objects.get()

    page = client.get("/handheld/putaway/").content.decode()
    assert 'id="suggested-location">01-01-1<' in page
    response = client.post("/handheld/putaway/", {"receipt": receipt.pk, "scan": "01-01-1"})

    assert response.status_code == 302
    receipt.refresh_from_db()
    assert receipt.status == ReceiptStatus.PUT_AWAY
    assert _balance(world["can"], "01-01-1") == 30
    assert "Nothing waits for put-away." in client.get("/handheld/putaway/").content.decode()
    assert services.ledger_differences() == []


def test_another_sellable_location_is_accepted_with_a_notice(world):
    services.inbound_receive(shipment_id=world["asn"].pk, lines=[services.ReceiptLineInput(sku="CAN", quantity=30)])
    client = world["client"]

    client.post("/handheld/putaway/", {"receipt": Receipt.objects.get().pk, "scan": "03-04-2"})

    page = client.get("/handheld/putaway/").content.decode()
    assert "Put away in 03-04-2 instead of the suggested 01-01-1." in page
    assert _balance(world["can"], "03-04-2") == 30


def test_a_wrong_put_away_scan_is_refused_with_data_error_and_changes_nothing(world):
    services.inbound_receive(shipment_id=world["asn"].pk, lines=[services.ReceiptLineInput(sku="CAN", quantity=30)])
    receipt = Receipt.objects.get()

    response = world["client"].post("/handheld/putaway/", {"receipt": receipt.pk, "scan": "QUARANTINE"})

    assert response.status_code == 422
    assert 'data-error="1"' in response.content.decode()
    receipt.refresh_from_db()
    assert (receipt.status, receipt.put_away_quantity) == (ReceiptStatus.AWAITING_PUT_AWAY, 0)
    assert _balance(world["can"], "RECEIVING") == 30


def test_a_move_scans_from_product_quantity_and_to(world):
    inv.stock(world["tenant"], world["can"], world["wh"], "01-01-1", 10, lot="L1")
    client = world["client"]

    for scan in ("01-01-1", "036000291452", "4", "02-02-2"):
        assert client.post("/handheld/move/", {"scan": scan}).status_code == 302

    assert (_balance(world["can"], "01-01-1"), _balance(world["can"], "02-02-2")) == (6, 4)
    assert "Moved 4 × CAN from 01-01-1 to 02-02-2." in client.get("/handheld/move/").content.decode()


def test_a_move_of_a_product_not_at_the_location_is_refused(world):
    client = world["client"]
    client.post("/handheld/move/", {"scan": "01-01-1"})

    response = client.post("/handheld/move/", {"scan": "036000291452"})

    assert response.status_code == 422
    assert "No product 036000291452 at 01-01-1." in response.content.decode()


def test_pages_are_for_staff_only(world):
    from django.contrib.auth import get_user_model

    outsider = get_user_model().objects.create_user("eve", password="x-pass-word-1")
    client = Client()
    client.force_login(outsider)

    assert client.get("/handheld/putaway/").status_code == 403
    assert Client().get("/handheld/receive/").status_code == 302
