"""Scans parsed on the server: GS1 element strings (with | as separator), GTINs with check digits, SKUs."""

from datetime import date

import pytest

from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token, tenant_with_key
from inventory.models import ProductBarcode
from inventory.scanning import Scan, ScanError, parse_scan, resolve_product
from inventory.tests import factories as inv


def test_gs1_128_with_pipe_separators_gives_gtin_lot_and_expiry():
    scan = parse_scan("0109501101530003|10LOT-7|17270331")

    assert scan == Scan(
        gtin="09501101530003",
        lot="LOT-7",
        expiry_date=date(2027, 3, 31),
        sscc="",
        raw="0109501101530003|10LOT-7|17270331",
        kind="gs1",
    )


def test_gs1_with_lot_before_expiry_and_symbology_prefix_is_read():
    scan = parse_scan("]C101095011015300031727033110A1B2")

    assert (scan.gtin, scan.lot, scan.expiry_date) == ("09501101530003", "A1B2", date(2027, 3, 31))


def test_gs1_with_group_separator_character_is_read():
    scan = parse_scan("0109501101530003" + "10L9\x1d" + "17261200")

    assert (scan.gtin, scan.lot, scan.expiry_date) == ("09501101530003", "L9", date(2026, 12, 31))


def test_gs1_human_readable_form_with_parentheses_is_read():
    scan = parse_scan("(01)09501101530003(17)270331(10)ABC")

    assert (scan.gtin, scan.lot, scan.expiry_date, scan.kind) == ("09501101530003", "ABC", date(2027, 3, 31), "gs1")


def test_sscc_is_read():
    scan = parse_scan("00376130321109103420")

    assert (scan.sscc, scan.gtin, scan.kind) == ("376130321109103420", "", "gs1")


@pytest.mark.parametrize(
    ("text", "gtin14"),
    [("96385074", "00000096385074"), ("036000291452", "00036000291452"), ("4006381333931", "04006381333931")],
)
def test_plain_gtins_are_normalised_to_gtin_14(text, gtin14):
    scan = parse_scan(text)

    assert (scan.gtin, scan.kind, scan.raw) == (gtin14, "gtin", text)


@pytest.mark.parametrize("text", ["4006381333932", "0109501101530004|10LOT", "036000291453"])
def test_a_bad_check_digit_is_refused(text):
    with pytest.raises(ScanError) as refused:
        parse_scan(text)

    assert refused.value.code == "bad_check_digit"


@pytest.mark.parametrize("text", ["TEE-RED-M", "01-03-2", "RECEIVING"])
def test_skus_and_location_codes_pass_through_as_typed(text):
    scan = parse_scan(f"  {text} ")

    assert scan == Scan(raw=text, kind="code")


def test_an_empty_scan_is_refused():
    with pytest.raises(ScanError):
        parse_scan("   ")


@pytest.mark.django_db
class TestResolveProduct:
    def test_a_gtin_12_label_finds_a_barcode_stored_as_gtin_13(self):
        tenant = TenantFactory()
        product = inv.product(tenant, "CAN-1", barcode="0036000291452")

        assert resolve_product(tenant.pk, parse_scan("036000291452")) == (product, 1)

    def test_a_gtin_13_label_finds_a_barcode_stored_as_gtin_14(self):
        tenant = TenantFactory()
        product = inv.product(tenant, "EAN-1", barcode="04006381333931")

        assert resolve_product(tenant.pk, parse_scan("4006381333931")) == (product, 1)

    def test_a_case_gtin_counts_its_eaches(self):
        tenant = TenantFactory()
        product = inv.product(tenant, "CAN-1", barcode="036000291452")
        ProductBarcode.objects.create(tenant=tenant, product=product, code="10036000291459", quantity=12)

        assert resolve_product(tenant.pk, parse_scan("0110036000291459|10L1")) == (product, 12)

    def test_a_sku_scan_finds_the_product(self):
        tenant = TenantFactory()
        product = inv.product(tenant, "TEE-RED-M")

        assert resolve_product(tenant.pk, parse_scan("TEE-RED-M")) == (product, 1)

    def test_another_tenants_barcode_is_unknown(self):
        tenant, other = TenantFactory(), TenantFactory()
        inv.product(other, "CAN-1", barcode="036000291452")

        with pytest.raises(ScanError) as refused:
            resolve_product(tenant.pk, parse_scan("036000291452"))
        assert refused.value.code == "unknown_product"

    def test_without_a_tenant_a_barcode_of_two_tenants_is_ambiguous(self):
        first, second = TenantFactory(), TenantFactory()
        inv.product(first, "A", barcode="036000291452")
        inv.product(second, "B", barcode="036000291452")

        with pytest.raises(ScanError) as refused:
            resolve_product(None, parse_scan("036000291452"))
        assert refused.value.code == "ambiguous"


@pytest.mark.django_db
class TestParseEndpoint:
    def test_staff_gets_the_parsed_fields_and_the_product(self, api_as):
        # acme is a tenant of ann's warehouse (row-level security lets staff see those).
        tenant = TenantFactory(slug="acme", default_warehouse_code="MAIN")
        product = inv.product(tenant, "CAN-1", barcode="036000291452")
        ProductBarcode.objects.create(tenant=tenant, product=product, code="10036000291459", quantity=12)
        _, token = staff_with_token(username="ann", warehouse=inv.warehouse("MAIN"))

        response = api_as(token).post(
            "/api/v1/scans/parse/", {"scan": "0110036000291459|10LOT-1|17270331", "tenant": "acme"}, format="json"
        )

        assert response.status_code == 200
        assert response.json() == {
            "raw": "0110036000291459|10LOT-1|17270331",
            "kind": "gs1",
            "gtin": "10036000291459",
            "lot": "LOT-1",
            "expiry_date": "2027-03-31",
            "sscc": "",
            "product": str(product.pk),
            "sku": "CAN-1",
            "units_per_scan": 12,
        }

    def test_a_bad_check_digit_is_422_on_the_scan_field(self, api_as):
        _, token = staff_with_token(username="ann")

        response = api_as(token).post("/api/v1/scans/parse/", {"scan": "4006381333932"}, format="json")

        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "scan"
        assert response.json()["errors"][0]["code"] == "bad_check_digit"

    def test_merchants_cannot_use_it(self, api_as):
        _, key = tenant_with_key()

        response = api_as(key).post("/api/v1/scans/parse/", {"scan": "4006381333931"}, format="json")

        assert response.status_code == 403
