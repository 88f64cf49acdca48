"""POST /api/v1/products/import/: dry-run preview, all or nothing, updates of existing SKUs."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory.models import Product, ProductBarcode
from inventory.tests.factories import product, warehouse

pytestmark = pytest.mark.django_db

HEADER = (
    "sku,name,barcodes,weight_g,length_mm,width_mm,height_mm,lot_tracked,expiry_tracked,"
    "reorder_point,min_shelf_life_days,abc_class\n"
)
GOOD = HEADER + (
    "TEE-1,Red tee,4006381333931 14006381333938:12,250,200,150,50,false,false,10,0,A\n"
    "MILK-1,Milk,INT-MILK,1000,100,100,200,yes,yes,5,7,b\n"
)


def upload(client, text: str, *, dry_run: bool = False):
    url = "/api/v1/products/import/" + ("?dry_run=1" if dry_run else "")
    return client.post(url, {"file": SimpleUploadedFile("products.csv", text.encode(), "text/csv")}, format="multipart")


def snapshot():
    return (
        sorted(Product.objects.values_list("sku", "name", "weight_g", "abc_class")),
        sorted(ProductBarcode.objects.values_list("code", "quantity")),
    )


def test_dry_run_previews_a_good_file_and_writes_nothing(api_as):
    tenant, key = tenant_with_key()
    product(tenant, "TEE-1")
    before = snapshot()
    response = upload(api_as(key), GOOD, dry_run=True)
    assert response.status_code == 200, response.content
    assert response.json() == {"valid": True, "created": 1, "updated": 1, "errors": []}
    assert snapshot() == before


def test_import_creates_products_with_every_column(api_as):
    tenant, key = tenant_with_key()
    response = upload(api_as(key), GOOD)
    assert response.status_code == 200
    assert response.json() == {"valid": True, "created": 2, "updated": 0, "errors": []}
    tee = Product.objects.get(tenant=tenant, sku="TEE-1")
    assert (tee.name, tee.weight_g, tee.length_mm, tee.width_mm, tee.height_mm) == ("Red tee", 250, 200, 150, 50)
    assert (tee.lot_tracked, tee.expiry_tracked, tee.reorder_point, tee.abc_class) == (False, False, 10, "A")
    assert dict(tee.barcode_set.values_list("code", "quantity")) == {"4006381333931": 1, "14006381333938": 12}
    milk = Product.objects.get(tenant=tenant, sku="MILK-1")
    assert (milk.lot_tracked, milk.expiry_tracked, milk.min_shelf_life_days, milk.abc_class) == (True, True, 7, "B")
    assert list(milk.barcode_set.values_list("code", flat=True)) == ["INT-MILK"]


def test_import_updates_existing_skus_and_keeps_blank_cells(api_as):
    tenant, key = tenant_with_key()
    item = product(tenant, "TEE-1", barcode="036000291452", reorder_point=3)
    text = "sku,name,barcodes,weight_g\nTEE-1,,4006381333931,999\n"
    response = upload(api_as(key), text)
    assert response.json() == {"valid": True, "created": 0, "updated": 1, "errors": []}
    item.refresh_from_db()
    assert (item.name, item.weight_g, item.reorder_point) == ("Product TEE-1", 999, 3)
    assert list(item.barcode_set.values_list("code", flat=True)) == ["4006381333931"]


def test_a_file_with_one_bad_row_writes_nothing_and_lists_every_error(api_as):
    tenant, key = tenant_with_key()
    product(tenant, "TEE-1")
    before = snapshot()
    text = GOOD + "BAD-1,Bad,4006381333930,heavy,,,,maybe,,,,D\n"
    response = upload(api_as(key), text)
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [
        (4, "weight_g"),
        (4, "lot_tracked"),
        (4, "abc_class"),
        (4, "barcodes"),
    ]
    assert "wrong check digit" in errors[3]["message"]
    assert snapshot() == before


def test_dry_run_of_a_bad_file_answers_the_same_errors_with_200(api_as):
    _, key = tenant_with_key()
    text = HEADER + "NEW-1,,,,,,,,,,,\n"
    response = upload(api_as(key), text, dry_run=True)
    assert response.status_code == 200
    assert response.json() == {
        "valid": False,
        "created": 1,
        "updated": 0,
        "errors": [{"row": 2, "field": "name", "message": "a new product needs a name"}],
    }
    assert Product.objects.count() == 0


def test_duplicate_skus_and_barcodes_in_one_file_are_refused(api_as):
    tenant, key = tenant_with_key()
    product(tenant, "OTHER", barcode="4006381333931")
    text = "sku,name,barcodes\nA,A,INT-1\nA,A again,\nB,B,4006381333931\n"
    response = upload(api_as(key), text)
    assert response.status_code == 422
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(3, "sku"), (4, "barcodes")]
    assert response.json()["errors"][1]["message"] == "barcode 4006381333931 belongs to OTHER"
    assert list(Product.objects.values_list("sku", flat=True)) == ["OTHER"]


def test_a_barcode_may_move_between_two_products_of_the_same_file(api_as):
    tenant, key = tenant_with_key()
    first = product(tenant, "A", barcode="4006381333931")
    second = product(tenant, "B")
    response = upload(api_as(key), "sku,barcodes\nB,4006381333931\nA,\n")
    assert response.status_code == 200, response.content
    assert list(second.barcode_set.values_list("code", flat=True)) == ["4006381333931"]
    assert not first.barcode_set.exists()


def test_formula_cells_are_never_echoed_unneutralised(api_as):
    _, key = tenant_with_key()
    text = 'sku,name,weight_g,abc_class\n=cmd|calc,X,+1+1,@SUM(A1)\nA,A,-5,"=1"\n'
    response = upload(api_as(key), text, dry_run=True)
    messages = [e["message"] for e in response.json()["errors"]]
    assert len(messages) == 5
    for message in messages:
        assert not message.startswith(("=", "+", "-", "@"))
        for raw in ("=cmd|calc", "+1+1", "@SUM(A1)", "-5", "=1"):
            if raw in message:
                assert f"'{raw}" in message


def test_unknown_columns_are_refused_with_422(api_as):
    _, key = tenant_with_key()
    response = upload(api_as(key), "sku,colour\nA,red\n")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"
    assert "colour" in response.json()["errors"][0]["message"]
    assert Product.objects.count() == 0


def test_a_request_without_a_file_is_422(api_as):
    _, key = tenant_with_key()
    response = api_as(key).post("/api/v1/products/import/", {}, format="multipart")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"


def test_a_file_that_is_not_utf8_is_422(api_as):
    _, key = tenant_with_key()
    response = api_as(key).post(
        "/api/v1/products/import/",
        {"file": SimpleUploadedFile("p.csv", b"sku,name\n\xff\xfe,x\n", "text/csv")},
        format="multipart",
    )
    assert response.status_code == 422
    assert Product.objects.count() == 0


def test_import_only_touches_the_callers_tenant(api_as):
    other, _ = tenant_with_key()
    theirs = product(other, "TEE-1", name="Theirs")
    tenant, key = tenant_with_key()
    response = upload(api_as(key), "sku,name\nTEE-1,Mine\n")
    assert response.json()["created"] == 1
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"
    assert Product.objects.get(tenant=tenant, sku="TEE-1").name == "Mine"


def test_staff_cannot_import(api_as):
    _, token = staff_with_token(username="mgr", warehouse=warehouse())
    response = upload(api_as(token), GOOD)
    assert response.status_code == 403
    assert Product.objects.count() == 0


def test_an_import_repeated_with_the_same_idempotency_key_is_replayed(api_as):
    _, key = tenant_with_key()
    client = api_as(key)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_IDEMPOTENCY_KEY="import-1")
    text = "sku,name\nA,A\n"
    first = client.post(
        "/api/v1/products/import/",
        {"file": SimpleUploadedFile("p.csv", text.encode(), "text/csv")},
        format="multipart",
    )
    assert first.json() == {"valid": True, "created": 1, "updated": 0, "errors": []}
    Product.objects.all().delete()  # a real second run would now create A again
    second = client.post(
        "/api/v1/products/import/",
        {"file": SimpleUploadedFile("p.csv", text.encode(), "text/csv")},
        format="multipart",
    )
    assert second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    assert Product.objects.count() == 0
