from packing.tests.pdf import pdf_page_count, pdf_text
from shipping.labels import LabelData, LabelPackage, label_pdf, label_zpl

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
