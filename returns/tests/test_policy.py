"""The merchant's return policy: read and changed through the API, and what it refuses at return time."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from fulfillment.tenancy.tests.factories import staff_with_token
from packing.models import Shipment, ShipmentStatus
from returns.models import Return, ReturnPolicy

pytestmark = pytest.mark.django_db

URL = "/api/v1/return-policy/"


def _fields(response):
    return sorted((e["field"], e["code"]) for e in response.json()["errors"])


def _delivered(order, at):
    """The order's parcel, delivered at ``at``."""
    Shipment.objects.create(
        tenant_id=order.tenant_id,
        order=order,
        warehouse_id=order.warehouse_id,
        status=ShipmentStatus.DELIVERED,
        label_purchased_at=at - timedelta(days=2),
        delivered_at=at,
    )


def _return(client, order, sku="TEE-RED-M"):
    return client.post(
        "/api/v1/returns/",
        {"order": str(order.pk), "lines": [{"sku": sku, "quantity": 1, "reason": "Too small"}]},
        format="json",
    )


def test_a_merchant_without_a_policy_reads_the_defaults(shop, api_as):
    body = api_as(shop.key).get(URL).json()

    assert body["window_days"] == 30
    assert (body["restocking_fee_percent"], body["return_shipping_fee"]) == ("0.00", "0.00")
    assert body["resolutions"] == ["refund", "exchange", "store_credit"]
    assert "Too small" in body["reasons"] and body["free_exchanges"] is True
    assert ReturnPolicy.objects.count() == 0  # reading saves nothing


def test_put_changes_the_fields_given_and_keeps_the_others(shop, api_as):
    client = api_as(shop.key)

    answer = client.put(
        URL,
        {"window_days": 14, "restocking_fee_percent": "15", "non_returnable_skus": ["MUG-BLUE", " ", "mug-blue"]},
        format="json",
    )
    again = client.put(URL, {"return_shipping_fee": 7.95, "resolutions": ["exchange", "refund"]}, format="json")

    assert answer.status_code == 200
    body = again.json()
    assert (body["window_days"], body["restocking_fee_percent"], body["return_shipping_fee"]) == (14, "15.00", "7.95")
    assert body["non_returnable_skus"] == ["MUG-BLUE"]
    assert body["resolutions"] == ["refund", "exchange"]


def test_a_bad_policy_names_every_field_at_fault_and_saves_nothing(shop, api_as):
    client = api_as(shop.key)
    client.put(URL, {"window_days": 14}, format="json")

    answer = client.put(
        URL,
        {
            "window_days": 9000,
            "restocking_fee_percent": "120",
            "return_shipping_fee": "1.234",
            "resolutions": ["refund", "teleport"],
            "reasons": ["", "  "],
        },
        format="json",
    )

    assert answer.status_code == 422
    assert _fields(answer) == [
        ("reasons", "required"),
        ("resolutions", "invalid"),
        ("restocking_fee_percent", "out_of_range"),
        ("return_shipping_fee", "too_precise"),
        ("window_days", "out_of_range"),
    ]
    policy = ReturnPolicy.objects.get(tenant=shop.tenant)
    assert (policy.window_days, policy.restocking_fee_percent, policy.resolutions) == (14, 0, [
        "refund", "exchange", "store_credit"])  # fmt: skip


def test_no_resolution_at_all_is_refused(shop, api_as):
    answer = api_as(shop.key).put(URL, {"resolutions": []}, format="json")

    assert (answer.status_code, _fields(answer)) == (422, [("resolutions", "required")])


def test_staff_tokens_have_no_return_policy_of_their_own(shop, api_as):
    _, token = staff_with_token(username="mia", warehouse=shop.wh)

    assert api_as(token).get(URL).status_code == 403


def test_a_return_after_the_window_is_refused_and_nothing_is_opened(shop, api_as):
    client = api_as(shop.key)
    client.put(URL, {"window_days": 14}, format="json")
    delivered = timezone.now()
    _delivered(shop.order, delivered)

    with time_machine.travel(delivered + timedelta(days=14, hours=1)):
        late = _return(client, shop.order)
    with time_machine.travel(delivered + timedelta(days=13)):
        in_time = _return(client, shop.order)

    assert (late.status_code, _fields(late)) == (422, [("order", "outside_window")])
    assert "14 days after delivery" in late.json()["errors"][0]["message"]
    assert in_time.status_code == 201
    assert Return.objects.count() == 1


def test_a_non_returnable_sku_is_refused_and_nothing_is_opened(shop, api_as):
    client = api_as(shop.key)
    client.put(URL, {"non_returnable_skus": ["mug-blue"]}, format="json")

    refused = _return(client, shop.order, sku="MUG-BLUE")

    assert (refused.status_code, _fields(refused)) == (422, [("lines[0].sku", "non_returnable")])
    assert Return.objects.count() == 0
    assert _return(client, shop.order).status_code == 201  # the other SKU still comes back


def test_a_shipped_order_not_delivered_yet_may_be_returned_whatever_the_window(shop, api_as):
    client = api_as(shop.key)
    client.put(URL, {"window_days": 0}, format="json")

    assert _return(client, shop.order).status_code == 201
