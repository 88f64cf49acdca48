import pytest

from fulfillment.tenancy.tests.factories import tenant_with_key
from inventory.tests import factories as inv
from orders.models import Order
from orders.tests.factories import order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api_as):
    tenant, key = tenant_with_key(slug="acme")
    inv.warehouse()
    inv.product(tenant, "TEE-RED-M")
    return api_as(key)


def test_same_key_and_body_replays_the_first_answer(client):
    first = client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_same_key_with_another_body_is_409_and_creates_nothing(client):
    client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = client.post("/api/v1/orders/", order_payload("SHOP-2"), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 409
    assert other["Content-Type"] == "application/problem+json"
    assert Order.objects.count() == 1


def test_keys_are_per_tenant(client, api_as):
    tenant, key = tenant_with_key(slug="other")
    inv.product(tenant, "TEE-RED-M")
    client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    theirs = api_as(key).post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert theirs.status_code == 201
    assert Order.objects.count() == 2


def test_a_refused_request_is_replayed_too(client):
    bad = order_payload(lines=[{"sku": "NOPE", "quantity": 1}])
    first = client.post("/api/v1/orders/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    again = client.post("/api/v1/orders/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()
    assert again["Content-Type"] == "application/problem+json"
