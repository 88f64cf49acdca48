import pytest

from inventory.services import warehouse_update_address
from inventory.tests import factories as inv
from packing.tests.factories import packed_order
from packing.tests.pdf import pdf_page_count, pdf_text
from shipping.labels import LabelData, LabelPackage, label_data, label_pdf, label_zpl
from shipping.tests.factories import stocked_tenant

DATA = LabelData(
    carrier_name="Sandbox Carrier",
    service_name="Sandbox Express",
    tracking_number="SBX123456789012",
    order_number="0001042",
    ship_from=["Main warehouse", "Warehouse MAIN", "CA"],
    ship_to=["Ada Lovelace", "Caret ^FS Co~", "123 King St W", "Toronto ON M5H 1A1", "CA"],
    packages=[LabelPackage(number=1, count=2, weight_g=560), LabelPackage(number=2, count=2, weight_g=1250)],
)


def test_label_pdf_is_a_4x6_page_per_package_with_the_tracking_number():
    pdf = label_pdf(DATA)

    assert pdf.startswith(b"%PDF")
    assert b"/MediaBox [ 0 0 288 432 ]" in pdf
    assert pdf_page_count(pdf) == 2
    text = pdf_text(pdf)
    assert text.count("TRACKING # SBX123456789012") == 2
    assert {"Main warehouse", "Ada Lovelace", "Toronto ON M5H 1A1", "SANDBOX EXPRESS", "Order 0001042"} <= set(text)
    assert "Package 1 of 2   0.56 kg" in text
    assert "Package 2 of 2   1.25 kg" in text


def test_label_zpl_has_one_label_per_package_with_a_code128_barcode():
    zpl = label_zpl(DATA)

    assert zpl.count("^XA") == zpl.count("^XZ") == 2
    assert zpl.startswith("^XA\n^CI28\n^PW812\n^LL1218\n")
    assert zpl.count("^BY3^BCN,200,Y,N,N^FDSBX123456789012^FS") == 2
    assert "^FDAda Lovelace^FS" in zpl
    assert "^FDPackage 2 of 2   1.25 kg^FS" in zpl


def test_label_zpl_neutralises_command_characters_in_addresses():
    zpl = label_zpl(DATA)

    assert "^FDCaret  FS Co ^FS" in zpl
    assert "~" not in zpl


@pytest.fixture
def shipment():
    tenant = stocked_tenant(inv.warehouse())
    _, packed = packed_order(tenant, external_id="L1", lines=[("TEE", 1)])
    return packed


def _label(shipment):
    return label_data(
        shipment=shipment,
        packages=list(shipment.packages.all()),
        carrier_name="Sandbox Carrier",
        service_name="Sandbox Express",
        tracking_number="SBX000000000001",
    )


@pytest.mark.django_db
def test_the_label_ships_from_the_warehouse_address(shipment):
    warehouse_update_address(
        warehouse=shipment.warehouse,
        company_name="Demo Fulfillment Inc.",
        contact_name="Shipping Desk",
        address_line1="100 Logistics Dr",
        city="Mississauga",
        region="ON",
        postal_code="L5T2Z5",
        phone="905 555 0100",
    )

    data = _label(shipment)

    assert data.ship_from == [
        "Shipping Desk",
        "Demo Fulfillment Inc.",
        "100 Logistics Dr",
        "Mississauga ON L5T 2Z5",
        "CA",
        "+19055550100",
    ]
    assert set(data.ship_from) <= set(pdf_text(label_pdf(data)))
    zpl = label_zpl(data)
    assert "^FO30,188^A0N,22,22^FD+19055550100^FS" in zpl
    # The rule under FROM and everything below it move down to make room for six lines.
    assert "^FO30,228^GB752,3,3^FS" in zpl and "^FO30,150^GB752,3,3^FS" not in zpl
    assert "^FO30,248^A0N,26,26^FDSHIP TO^FS" in zpl


@pytest.mark.django_db
def test_the_label_ships_from_the_warehouse_name_until_its_address_is_complete(shipment):
    data = _label(shipment)

    assert data.ship_from == ["Warehouse MAIN", "Warehouse MAIN", "CA"]
    zpl = label_zpl(data)
    assert "^FO30,150^GB752,3,3^FS" in zpl and "^FO30,170^A0N,26,26^FDSHIP TO^FS" in zpl
