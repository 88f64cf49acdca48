import pytest

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory.tests import factories as inv
from orders.models import Order
from orders.tests.factories import order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def merchant(api_as):
    tenant, key = tenant_with_key(slug="acme")
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE-RED-M", barcode="0012345678905")
    return tenant, wh, tee, api_as(key)


def test_create_order_answers_201_with_number_priority_and_promise(merchant, django_capture_on_commit_callbacks):
    tenant, wh, tee, client = merchant
    inv.stock(tenant, tee, wh, "01-01-1", 5)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/orders/", order_payload(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "received"  # the answer is written before allocation runs on commit
    assert body["number"] and body["priority"] == 10 and body["ship_by"] and body["promised_delivery_date"]
    detail = client.get(f"/api/v1/orders/{body['id']}/").json()
    assert detail["status"] == "allocated"
    assert detail["lines"][0]["allocated_quantity"] == 2


def test_duplicate_external_id_is_409_with_existing_id(merchant):
    tenant, wh, _tee, client = merchant
    first = client.post("/api/v1/orders/", order_payload(), format="json").json()
    response = client.post("/api/v1/orders/", order_payload(), format="json")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["existing_order_id"] == first["id"]
    assert Order.objects.count() == 1


def test_unknown_sku_is_422_with_field_path_and_creates_nothing(merchant):
    _, _, _, client = merchant
    response = client.post(
        "/api/v1/orders/",
        order_payload(lines=[{"sku": "TEE-RED-M", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]),
        format="json",
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "lines[1].sku", "code": "unknown_sku", "message": "unknown SKU NOPE"}
    ]
    assert Order.objects.count() == 0


def test_staff_token_cannot_create_orders_but_sees_them(merchant, api_as):
    tenant, wh, _tee, client = merchant
    created = client.post("/api/v1/orders/", order_payload(), format="json").json()
    _, token = staff_with_token(username="mgr", warehouse=wh)
    staff = api_as(token)
    assert staff.post("/api/v1/orders/", order_payload("X2"), format="json").status_code == 403
    assert staff.get(f"/api/v1/orders/{created['id']}/").status_code == 200
