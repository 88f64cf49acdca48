"""Tenant B sees none of tenant A's objects: 404 on every detail endpoint, absent from every list."""

import pytest
from django.utils import timezone

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from fulfillment.webhooks.models import WebhookEndpoint
from fulfillment.webhooks.services import new_secret
from inventory import services as inventory
from inventory.tests import factories as inv
from orders.tests.factories import order_payload
from picking import services as picking

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(api_as, settings):
    """Tenant A with one of everything (product, ASN, order shipped and delivered, shipment, return, endpoint, insert rule)."""
    settings.SANDBOX_CARRIER_STEP_SECONDS = 0
    wh = inv.warehouse()
    tenant_a, key_a = tenant_with_key(slug="alice")
    tenant_b, key_b = tenant_with_key(slug="bob")
    _, token = staff_with_token(username="floor", warehouse=wh)
    a, b, staff = api_as(key_a), api_as(key_b), api_as(token)
    product = a.post("/api/v1/products/", {"sku": "TEE", "name": "Tee", "barcodes": ["0012345678905"]}, format="json")
    inv.product(tenant_b, "TEE")  # same SKU in B's catalog: no clash, no leak
    asn = a.post(
        "/api/v1/inbound-shipments/", {"warehouse": "MAIN", "lines": [{"sku": "TEE", "quantity": 5}]}, format="json"
    ).json()
    staff.post(
        f"/api/v1/inbound-shipments/{asn['id']}/receive/",
        {"lines": [{"sku": "TEE", "quantity": 5, "location": "01-01-1"}]},
        format="json",
    )
    order = a.post("/api/v1/orders/", order_payload(lines=[{"sku": "TEE", "quantity": 1}]), format="json").json()
    wave = picking.wave_build(warehouse=wh, strategy="discrete", max_orders=5)
    pick_list = wave.pick_lists.get()
    task = pick_list.tasks.get()
    picking.pick_confirm(
        pick_list=pick_list, task_id=task.pk, location_barcode="01-01-1", product_barcode="TEE", quantity=1
    )
    shipment = staff.post(f"/api/v1/orders/{order['id']}/pack/", {}, format="json").json()
    from shipping.tasks import poll_tracking

    poll_tracking.delay()
    rma = a.post(
        "/api/v1/returns/",
        {"order": order["id"], "lines": [{"sku": "TEE", "quantity": 1, "reason": "no"}]},
        format="json",
    ).json()
    endpoint = WebhookEndpoint.objects.create(
        tenant=tenant_a, url="https://hooks.example.com/a", events=[], secret=new_secret()
    )
    insert_rule = a.post("/api/v1/insert-rules/", {"sku": "TEE", "when": "first_order"}, format="json").json()
    fee = a.get("/api/v1/fees/").json()["results"][0]
    today = timezone.localdate()
    invoice = staff.post(
        "/api/v1/invoices/",
        {"tenant": "alice", "period_start": str(today.replace(day=1)), "period_end": str(today)},
        format="json",
    ).json()
    ids = {
        "fees": str(fee["id"]),
        "invoices": invoice["id"],
        "products": product.json()["id"],
        "insert-rules": insert_rule["id"],
        "inbound-shipments": asn["id"],
        "orders": order["id"],
        "shipments": shipment["id"],
        "returns": rma["id"],
        "webhook-endpoints": str(endpoint.pk),
    }
    assert inventory.ledger_differences() == []
    return a, b, ids


DETAIL_EXTRAS = {
    "orders": ["packing-slip.pdf"],
    "shipments": ["label.pdf", "label.zpl"],
    "webhook-endpoints": ["deliveries/"],
    "products": ["movements/"],
    "invoices": ["invoice.pdf", "invoice.csv"],
}


def test_owner_sees_each_object(world):
    a, _, ids = world
    for resource, object_id in ids.items():
        assert a.get(f"/api/v1/{resource}/{object_id}/").status_code == 200, resource
        for extra in DETAIL_EXTRAS.get(resource, []):
            assert a.get(f"/api/v1/{resource}/{object_id}/{extra}").status_code == 200, (resource, extra)


def test_other_tenant_gets_404_on_every_detail_endpoint(world):
    _, b, ids = world
    for resource, object_id in ids.items():
        response = b.get(f"/api/v1/{resource}/{object_id}/")
        assert response.status_code == 404, resource
        assert response["Content-Type"] == "application/problem+json"
        for extra in DETAIL_EXTRAS.get(resource, []):
            assert b.get(f"/api/v1/{resource}/{object_id}/{extra}").status_code == 404, (resource, extra)


def test_other_tenant_cannot_act_on_the_objects(world):
    _, b, ids = world
    assert b.patch(f"/api/v1/orders/{ids['orders']}/", {"payment_status": "paid"}, format="json").status_code == 404
    assert b.post(f"/api/v1/orders/{ids['orders']}/cancel/", {}, format="json").status_code == 404
    assert b.patch(f"/api/v1/products/{ids['products']}/", {"name": "mine"}, format="json").status_code == 404
    assert b.delete(f"/api/v1/webhook-endpoints/{ids['webhook-endpoints']}/").status_code == 404
    assert b.patch(f"/api/v1/insert-rules/{ids['insert-rules']}/", {"quantity": 5}, format="json").status_code == 404
    assert b.delete(f"/api/v1/insert-rules/{ids['insert-rules']}/").status_code == 404
    refused = b.post(
        "/api/v1/returns/",
        {"order": ids["orders"], "lines": [{"sku": "TEE", "quantity": 1, "reason": "x"}]},
        format="json",
    )
    # The same answer as for an order id that does not exist at all.
    missing = b.post(
        "/api/v1/returns/",
        {"order": "00000000-0000-0000-0000-000000000000", "lines": [{"sku": "TEE", "quantity": 1, "reason": "x"}]},
        format="json",
    )
    assert (refused.status_code, refused.json()["errors"]) == (missing.status_code, missing.json()["errors"])
    assert refused.status_code == 404  # the issue: another merchant's order is 404


def test_list_excludes_other_tenant(world):
    a, b, ids = world
    for resource in ids:
        theirs = b.get(f"/api/v1/{resource}/")
        assert theirs.status_code == 200, resource
        assert ids[resource] not in theirs.content.decode(), resource
        assert ids[resource] in a.get(f"/api/v1/{resource}/").content.decode(), resource
    b_levels = b.get("/api/v1/inventory/").json()["results"]
    assert [(r["sku"], r["on_hand"]) for r in b_levels] == []


def test_anonymous_and_bad_keys_get_401_everywhere(world, api, api_as):
    _, _, ids = world
    bad = api_as("fk_000000000000_not-a-real-key")
    paths = ["/api/v1/inventory/"] + [f"/api/v1/{r}/" for r in ids] + [f"/api/v1/{r}/{i}/" for r, i in ids.items()]
    for path in paths:
        for client in (api, bad):
            response = client.get(path)
            assert response.status_code == 401, (path, response.status_code)
            assert response["Content-Type"] == "application/problem+json"
