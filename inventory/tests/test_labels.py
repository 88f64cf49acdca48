"""Location and product labels as PDF, with Code 128 barcodes."""

import base64
import re
import zlib

import pytest

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory.tests import factories as inv

pytestmark = pytest.mark.django_db

_STREAM = re.compile(rb"<<(?P<dict>(?:(?!>>).)*?)>>\s*stream\r?\n(?P<data>.*?)\s*endstream", re.S)
_TEXT = re.compile(r"\((?P<text>(?:[^()\\]|\\.)*)\)\s*Tj")


def _pages(pdf: bytes) -> list[list[str]]:
    """The strings drawn on each page (reportlab writes one content stream per page)."""
    pages = []
    for match in _STREAM.finditer(pdf):
        header, data = match.group("dict"), match.group("data")
        if b"/ASCII85Decode" in header:
            data = base64.a85decode(data.strip(), adobe=True)
        if b"/FlateDecode" in header:
            data = zlib.decompress(data)
        pages.append([m.group("text") for m in _TEXT.finditer(data.decode("latin-1"))])
    return pages


@pytest.fixture
def world():
    wh = inv.warehouse(aisles=1, bays=2, levels=2)
    # acme is a tenant of the staff member's warehouse (row-level security lets staff see those).
    tenant, key = tenant_with_key(slug="acme", default_warehouse_code=wh.code)
    _, other_key = tenant_with_key(slug="globex")
    _, token = staff_with_token(username="ann", role="associate", warehouse=wh)
    return {"tenant": tenant, "key": key, "other_key": other_key, "wh": wh, "token": token}


def test_location_labels_of_chosen_codes_one_per_page(api_as, world):
    response = api_as(world["token"]).get("/api/v1/locations/labels.pdf?warehouse=MAIN&codes=01-02-1,01-01-2")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert _pages(response.content) == [["01-02-1"], ["01-01-2"]]


def test_location_labels_default_to_every_storage_location(api_as, world):
    response = api_as(world["token"]).get("/api/v1/locations/labels.pdf?warehouse=MAIN")

    assert _pages(response.content) == [["01-01-1"], ["01-01-2"], ["01-02-1"], ["01-02-2"]]


def test_an_unknown_location_code_is_422(api_as, world):
    response = api_as(world["token"]).get("/api/v1/locations/labels.pdf?warehouse=MAIN&codes=01-01-1,09-09-9")

    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "codes",
        "code": "unknown_location",
        "message": "unknown location(s): 09-09-9",
    }


def test_merchants_cannot_print_location_labels(api_as, world):
    assert api_as(world["key"]).get("/api/v1/locations/labels.pdf?warehouse=MAIN").status_code == 403


def test_a_product_label_shows_its_first_barcode_name_and_sku(api_as, world):
    product = inv.product(world["tenant"], "TEE-RED-M", barcode="036000291452", name="Red tee M")

    response = api_as(world["key"]).get(f"/api/v1/products/{product.pk}/label.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert _pages(response.content) == [["036000291452", "Red tee M", "TEE-RED-M"]]


def test_a_product_without_barcode_is_labelled_with_its_sku_and_staff_may_print_it(api_as, world):
    product = inv.product(world["tenant"], "MUG", name="Mug")

    response = api_as(world["token"]).get(f"/api/v1/products/{product.pk}/label.pdf")

    assert response.status_code == 200
    assert _pages(response.content) == [["MUG", "Mug", "MUG"]]


def test_another_tenants_product_label_is_404(api_as, world):
    product = inv.product(world["tenant"], "MUG")

    response = api_as(world["other_key"]).get(f"/api/v1/products/{product.pk}/label.pdf", HTTP_ACCEPT="application/pdf")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
