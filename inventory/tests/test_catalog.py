"""The catalog: GTIN check digits, case barcodes and the new product fields, through the service and the API."""

import pytest

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory import services
from inventory.models import Product, ProductBarcode
from inventory.services import catalog
from inventory.tests.factories import product, warehouse

pytestmark = pytest.mark.django_db

# Real GS1 examples: the last digit is the check digit.
VALID = ["96385074", "036000291452", "4006381333931", "10614141999993"]


@pytest.mark.parametrize("code", VALID)
def test_gtins_with_the_right_check_digit_are_valid(code):
    assert catalog.is_valid_gtin(code)
    assert catalog.barcode_problem(code) is None


@pytest.mark.parametrize("code", ["96385075", "036000291453", "4006381333930", "10614141999996"])
def test_gtins_with_a_wrong_check_digit_are_refused(code):
    problem = catalog.barcode_problem(code)
    assert problem is not None
    assert f"GTIN-{len(code)}" in problem
    assert f"expected {catalog.gtin_check_digit(code[:-1])}" in problem


def test_check_digit_is_computed_with_gs1_weights():
    assert catalog.gtin_check_digit("400638133393") == 1
    assert catalog.gtin_check_digit("1061414199999") == 3
    assert catalog.gtin_check_digit("9638507") == 4


@pytest.mark.parametrize("code", ["INT-0001", "ab.12/x", "123456789", "12345"])
def test_internal_codes_that_do_not_look_like_gtins_are_accepted(code):
    assert catalog.barcode_problem(code) is None


@pytest.mark.parametrize("code", ["has space", "=HYPERLINK()", "é123", "x" * 65])
def test_codes_with_unsafe_characters_are_refused(code):
    assert catalog.barcode_problem(code) is not None


def test_service_refuses_a_bad_check_digit_and_creates_nothing():
    tenant, _ = tenant_with_key()
    with pytest.raises(services.InventoryError) as exc:
        services.product_create(tenant_id=tenant.pk, sku="A", name="A", barcodes=["4006381333931", "4006381333930"])
    assert exc.value.field == "barcodes[1]"
    assert exc.value.code == "invalid_barcode"
    assert Product.objects.count() == 0
    assert ProductBarcode.objects.count() == 0


def test_service_stores_case_barcodes_with_their_quantity():
    tenant, _ = tenant_with_key()
    item = services.product_create(
        tenant_id=tenant.pk, sku="A", name="A", barcodes=["4006381333931", {"code": "14006381333938", "quantity": 12}]
    )
    assert dict(item.barcode_set.values_list("code", "quantity")) == {"4006381333931": 1, "14006381333938": 12}


def test_updating_a_case_quantity_changes_only_that_barcode():
    tenant, _ = tenant_with_key()
    item = services.product_create(
        tenant_id=tenant.pk, sku="A", name="A", barcodes=["4006381333931", {"code": "14006381333938", "quantity": 12}]
    )
    services.product_update(
        product=item, barcodes=["4006381333931", catalog.BarcodeInput("14006381333938", 24)], abc_class="A"
    )
    item.refresh_from_db()
    assert dict(item.barcode_set.values_list("code", "quantity")) == {"4006381333931": 1, "14006381333938": 24}
    assert item.abc_class == "A"


# -- API ---------------------------------------------------------------------------------------


def test_api_creates_a_product_with_case_barcodes_and_new_fields(api_as):
    _, key = tenant_with_key()
    body = {
        "sku": "TEE-RED-M",
        "name": "Red tee",
        "barcodes": ["4006381333931", {"code": "14006381333938", "quantity": 12}, "INT-7"],
        "min_shelf_life_days": 30,
        "abc_class": "A",
        "unit_value": "12.50",
    }
    response = api_as(key).post("/api/v1/products/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["barcodes"] == ["4006381333931", "14006381333938", "INT-7"]
    assert data["case_barcodes"] == [{"code": "14006381333938", "quantity": 12}]
    assert data["min_shelf_life_days"] == 30
    assert data["abc_class"] == "A"
    assert data["unit_value"] == "12.50"
    fetched = api_as(key).get(f"/api/v1/products/{data['id']}/").json()
    assert fetched["case_barcodes"] == [{"code": "14006381333938", "quantity": 12}]


def test_api_defaults_for_new_fields(api_as):
    _, key = tenant_with_key()
    data = api_as(key).post("/api/v1/products/", {"sku": "A", "name": "A"}, format="json").json()
    assert (data["min_shelf_life_days"], data["abc_class"], data["unit_value"], data["case_barcodes"]) == (
        0,
        "C",
        "0.00",
        [],
    )


def test_api_refuses_a_bad_check_digit_with_the_field_path_and_creates_nothing(api_as):
    _, key = tenant_with_key()
    response = api_as(key).post(
        "/api/v1/products/", {"sku": "A", "name": "A", "barcodes": ["INT-1", "036000291453"]}, format="json"
    )
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "barcodes[1]"
    assert "wrong check digit" in response.json()["errors"][0]["message"]
    assert Product.objects.count() == 0


def test_api_refuses_a_case_quantity_of_zero_and_changes_nothing(api_as):
    tenant, key = tenant_with_key()
    item = product(tenant, "A", barcode="4006381333931")
    response = api_as(key).patch(
        f"/api/v1/products/{item.pk}/",
        {"barcodes": [{"code": "14006381333938", "quantity": 0}], "abc_class": "B"},
        format="json",
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "barcodes[0].quantity"
    item.refresh_from_db()
    assert item.abc_class == "C"
    assert list(item.barcode_set.values_list("code", "quantity")) == [("4006381333931", 1)]


def test_api_refuses_a_malformed_barcode_object(api_as):
    _, key = tenant_with_key()
    response = api_as(key).post(
        "/api/v1/products/", {"sku": "A", "name": "A", "barcodes": [{"gtin": "4006381333931"}]}, format="json"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "barcodes[0]"
    assert Product.objects.count() == 0


def test_api_patch_updates_new_fields(api_as):
    tenant, key = tenant_with_key()
    item = product(tenant, "A")
    response = api_as(key).patch(
        f"/api/v1/products/{item.pk}/", {"unit_value": "3.10", "min_shelf_life_days": 10}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["unit_value"], response.json()["min_shelf_life_days"]) == ("3.10", 10)


def test_api_refuses_an_unknown_abc_class(api_as):
    tenant, key = tenant_with_key()
    item = product(tenant, "A")
    response = api_as(key).patch(f"/api/v1/products/{item.pk}/", {"abc_class": "D"}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "abc_class"
    item.refresh_from_db()
    assert item.abc_class == "C"


def test_other_tenant_gets_404(api_as):
    tenant, _ = tenant_with_key()
    _, other_key = tenant_with_key()
    item = product(tenant, "A")
    assert api_as(other_key).get(f"/api/v1/products/{item.pk}/").status_code == 404
    assert api_as(other_key).patch(f"/api/v1/products/{item.pk}/", {"name": "x"}, format="json").status_code == 404


def test_staff_cannot_edit_the_catalog(api_as):
    tenant, _ = tenant_with_key()
    _, token = staff_with_token(username="mgr", warehouse=warehouse())
    response = api_as(token).post("/api/v1/products/", {"sku": "A", "name": "A"}, format="json")
    assert response.status_code == 403
    assert Product.objects.count() == 0
