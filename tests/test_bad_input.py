"""Every bad order is answered with a problem document (4xx) and creates nothing."""

import json

import pytest

from fulfillment.tenancy.tests.factories import tenant_with_key
from fulfillment.webhooks.models import OutboxEvent
from inventory.tests import factories as inv
from orders.models import Order, OrderEvent, OrderLine
from orders.tests.factories import order_payload, ship_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api_as):
    tenant, key = tenant_with_key(slug="acme")
    inv.warehouse()
    inv.product(tenant, "TEE-RED-M")
    return api_as(key)


def _line(**overrides):
    return [{"sku": "TEE-RED-M", "quantity": 2, "unit_price": "19.99", **overrides}]


CASES = {
    "unknown sku": (order_payload(lines=_line(sku="NOPE")), 422, "lines[0].sku"),
    "zero quantity": (order_payload(lines=_line(quantity=0)), 422, "lines[0].quantity"),
    "negative quantity": (order_payload(lines=_line(quantity=-3)), 422, "lines[0].quantity"),
    "huge quantity": (order_payload(lines=_line(quantity=10**30)), 422, "lines[0].quantity"),
    "fractional quantity": (order_payload(lines=_line(quantity=1.5)), 422, "lines[0].quantity"),
    "text quantity": (order_payload(lines=_line(quantity="two")), 422, "lines[0].quantity"),
    "negative price": (order_payload(lines=_line(unit_price="-1.00")), 422, "lines[0].unit_price"),
    "no lines": (order_payload(lines=[]), 422, "lines"),
    "lines not a list": (order_payload(lines={"sku": "TEE-RED-M"}), 422, "lines"),
    "unknown shipping method": (order_payload(shipping_method="teleport"), 422, "shipping_method"),
    "unknown payment status": (order_payload(payment_status="maybe"), 422, "payment_status"),
    "bad currency": (order_payload(currency="dollars"), 422, "currency"),
    "country not iso": (order_payload(ship_to=ship_to(country="Canada")), 422, "ship_to.country"),
    "missing ship_to": ({k: v for k, v in order_payload().items() if k != "ship_to"}, 422, "ship_to"),
    "missing external_id": ({k: v for k, v in order_payload().items() if k != "external_id"}, 422, "external_id"),
    "nul byte": (order_payload(external_id="SHOP\x001"), 422, "external_id"),
    "unknown warehouse": (order_payload(warehouse="MOON"), 422, "warehouse"),
    "body is a list": ([order_payload()], 422, None),
}


@pytest.mark.parametrize("name", CASES)
def test_bad_order_is_a_problem_document_and_creates_nothing(client, name):
    body, status, field = CASES[name]
    response = client.post("/api/v1/orders/", body, format="json")
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    if field:
        assert field in [e["field"] for e in problem["errors"]]
    assert Order.objects.count() == OrderLine.objects.count() == OrderEvent.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def test_malformed_json_is_400_problem(client):
    response = client.post("/api/v1/orders/", data='{"external_id": ', content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert Order.objects.count() == 0


def test_deeply_nested_json_is_refused_without_500(client):
    body = json.dumps(order_payload(lines=[{"sku": "TEE-RED-M", "quantity": 1, "extra": [[[[[[[[[[1]]]]]]]]]]}]))
    nested = "[" * 5000 + "]" * 5000
    for data in (body, '{"external_id": ' + nested + "}"):
        response = client.post("/api/v1/orders/", data=data, content_type="application/json")
        assert response.status_code < 500


def test_duplicate_external_id_is_409_and_creates_nothing_more(client):
    first = client.post("/api/v1/orders/", order_payload(), format="json")
    assert first.status_code == 201
    again = client.post("/api/v1/orders/", order_payload(lines=_line(quantity=5)), format="json")
    assert again.status_code == 409
    assert again.json()["existing_order_id"] == first.json()["id"]
    assert Order.objects.count() == 1 and OrderLine.objects.get().quantity == 2


def test_anonymous_and_bad_keys_get_401(api):
    assert api.get("/api/v1/orders/").status_code == 401
    api.credentials(HTTP_AUTHORIZATION="Bearer fk_nothere_abc")
    response = api.get("/api/v1/orders/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_key_gets_401(api_as):
    from fulfillment.tenancy import services
    from fulfillment.tenancy.models import ApiKey

    tenant, key = tenant_with_key(slug="revoked")
    services.api_key_revoke(key=ApiKey.objects.get(tenant=tenant))
    assert api_as(key).get("/api/v1/orders/").status_code == 401
