"""requested_carrier / requested_service on orders: accepted by the order API, bulk (fast path and
serializer), the CSV import and PATCH (until the order is packed); bad codes are 422 naming the field
with nothing written; a backordered split keeps them."""

from __future__ import annotations

import pytest

from fulfillment.tenancy.tests.factories import tenant_with_key
from inventory.models import Product
from inventory.tests import factories as inv
from orders import services
from orders.models import Order, OrderEvent, Status
from orders.tests.factories import order, order_payload
from orders.tests.test_imports import URL as IMPORTS_URL
from orders.tests.test_imports import csv_bytes, line, upload

pytestmark = pytest.mark.django_db

BAD_CODE = {"code": "invalid", "message": "Use only lowercase letters, digits, _ and -."}


@pytest.fixture
def merchant(api_as):
    tenant, key = tenant_with_key(slug="acme")
    wh = inv.warehouse()
    inv.product(tenant, "TEE-RED-M")
    inv.product(tenant, "MUG-BLK")
    return tenant, wh, api_as(key)


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def _requested(body: dict) -> tuple[str, str]:
    return body["requested_carrier"], body["requested_service"]


def _stored() -> dict:
    return {o.external_id: (o.requested_carrier, o.requested_service) for o in Order.objects.all()}


def _field_errors(body: dict) -> list[dict]:
    return [e for e in body["errors"] if e["field"] in {"requested_carrier", "requested_service"}]


# -- the order API -------------------------------------------------------------------------


def test_create_stores_and_answers_the_requested_carrier_and_service(merchant):
    _tenant, _wh, client = merchant
    payload = order_payload(requested_carrier="fedex", requested_service="fedex_ground")

    response = client.post("/api/v1/orders/", payload, format="json")

    assert response.status_code == 201, response.content
    assert _requested(response.json()) == ("fedex", "fedex_ground")
    assert _stored() == {"SHOP-1001": ("fedex", "fedex_ground")}
    assert _requested(client.get(f"/api/v1/orders/{response.json()['id']}/").json()) == ("fedex", "fedex_ground")
    assert _requested(client.get("/api/v1/orders/").json()["results"][0]) == ("fedex", "fedex_ground")


def test_an_order_without_them_answers_empty_strings(merchant):
    _tenant, _wh, client = merchant

    response = client.post("/api/v1/orders/", order_payload(), format="json")

    assert response.status_code == 201
    assert _requested(response.json()) == ("", "")
    assert _stored() == {"SHOP-1001": ("", "")}


def test_a_requested_service_without_a_carrier_is_accepted(merchant):
    _tenant, _wh, client = merchant

    response = client.post("/api/v1/orders/", order_payload(requested_service="express"), format="json")

    assert response.status_code == 201, response.content
    assert _requested(response.json()) == ("", "express")


def test_codes_of_exactly_the_maximum_length_are_accepted(merchant):
    _tenant, _wh, client = merchant
    payload = order_payload(requested_carrier="c" * 40, requested_service="s" * 60)

    response = client.post("/api/v1/orders/", payload, format="json")

    assert response.status_code == 201, response.content
    assert _stored() == {"SHOP-1001": ("c" * 40, "s" * 60)}


@pytest.mark.parametrize("bad", ["FedEx", "fedex ground", "fedex.ground", "fédex", "ups;drop", "ups\nfedex"])
def test_a_requested_carrier_with_bad_characters_is_422_and_creates_nothing(merchant, bad):
    _tenant, _wh, client = merchant

    response = client.post("/api/v1/orders/", order_payload(requested_carrier=bad), format="json")

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert _field_errors(response.json()) == [{"field": "requested_carrier", **BAD_CODE}]
    assert Order.objects.count() == 0
    assert OrderEvent.objects.count() == 0


def test_a_requested_service_with_bad_characters_is_422_and_creates_nothing(merchant):
    _tenant, _wh, client = merchant
    payload = order_payload(requested_carrier="ups", requested_service="UPS/Ground")

    response = client.post("/api/v1/orders/", payload, format="json")

    assert response.status_code == 422
    assert _field_errors(response.json()) == [{"field": "requested_service", **BAD_CODE}]
    assert Order.objects.count() == 0


def test_codes_over_the_maximum_length_are_422_naming_each_field(merchant):
    _tenant, _wh, client = merchant
    payload = order_payload(requested_carrier="c" * 41, requested_service="s" * 61)

    response = client.post("/api/v1/orders/", payload, format="json")

    assert response.status_code == 422
    assert _field_errors(response.json()) == [
        {
            "field": "requested_carrier",
            "code": "max_length",
            "message": "Ensure this field has no more than 40 characters.",
        },
        {
            "field": "requested_service",
            "code": "max_length",
            "message": "Ensure this field has no more than 60 characters.",
        },
    ]
    assert Order.objects.count() == 0


def test_the_service_refuses_bad_codes_from_a_direct_caller_and_creates_nothing(merchant):
    tenant, _wh, _client = merchant

    with pytest.raises(services.OrderError) as refused:
        order(tenant, external_id="D1", lines=[("TEE-RED-M", 1)], requested_carrier="FedEx", requested_service="x" * 61)

    assert refused.value.status == 422
    assert [(e["field"], e["code"]) for e in refused.value.errors] == [
        ("requested_carrier", "invalid"),
        ("requested_service", "max_length"),
    ]
    assert Order.objects.count() == 0


# -- bulk ----------------------------------------------------------------------------------


def test_bulk_stores_and_answers_them_on_the_fast_path_and_the_serializer_path(merchant):
    _tenant, _wh, client = merchant
    orders = [
        order_payload("B1", requested_carrier="canadapost", requested_service="canadapost_expedited_parcel"),
        # Padded: the fast path defers to the serializer, which trims.
        order_payload("B2", requested_carrier=" ups ", requested_service="ups_standard"),
        order_payload("B3", requested_service="same_day"),
        order_payload("B4"),
    ]

    response = client.post("/api/v1/orders/bulk/", {"orders": orders}, format="json")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 201, 201, 201]
    assert [_requested(r["order"]) for r in results] == [
        ("canadapost", "canadapost_expedited_parcel"),
        ("ups", "ups_standard"),
        ("", "same_day"),
        ("", ""),
    ]
    assert _stored() == {
        "B1": ("canadapost", "canadapost_expedited_parcel"),
        "B2": ("ups", "ups_standard"),
        "B3": ("", "same_day"),
        "B4": ("", ""),
    }


def test_bulk_refuses_a_bad_code_for_that_item_only(merchant):
    _tenant, _wh, client = merchant
    orders = [order_payload("B1", requested_carrier="fedex"), order_payload("B2", requested_carrier="Fed Ex")]

    response = client.post("/api/v1/orders/bulk/", {"orders": orders}, format="json")

    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 422]
    assert results[1]["errors"] == [{"field": "requested_carrier", **BAD_CODE}]
    assert _stored() == {"B1": ("fedex", "")}


# -- PATCH ---------------------------------------------------------------------------------


def _picked(tenant, wh, *, external_id="P1", **fields) -> Order:
    """An order allocated, picked in full and in ``picked``."""
    inv.stock(tenant, Product.objects.get(sku="TEE-RED-M"), wh, "01-01-1", 5)
    created = order(tenant, external_id=external_id, lines=[("TEE-RED-M", 2)], **fields)
    services.order_allocate(order_id=created.pk)
    services.order_mark_picking(order_id=created.pk, actor="test")
    for allocation in created.lines.get().allocations.all():
        services.allocation_pick(allocation_id=allocation.pk, quantity=allocation.quantity, actor="test")
    services.order_mark_picked(order_id=created.pk, actor="test")
    created.refresh_from_db()
    assert created.status == Status.PICKED
    return created


def test_patch_sets_and_clears_them_with_a_timeline_entry(merchant):
    _tenant, _wh, client = merchant
    created = client.post("/api/v1/orders/", order_payload(), format="json").json()
    url = f"/api/v1/orders/{created['id']}/"

    response = client.patch(url, {"requested_carrier": "ups", "requested_service": "ups_ground"}, format="json")

    assert response.status_code == 200, response.content
    assert _requested(response.json()) == ("ups", "ups_ground")
    assert _stored() == {"SHOP-1001": ("ups", "ups_ground")}
    assert OrderEvent.objects.filter(type="updated", message="Updated: requested_carrier, requested_service").count()

    response = client.patch(url, {"requested_carrier": ""}, format="json")

    assert _requested(response.json()) == ("", "ups_ground")
    assert _stored() == {"SHOP-1001": ("", "ups_ground")}


def test_patch_changes_them_while_the_order_is_picked(merchant):
    tenant, wh, client = merchant
    picked = _picked(tenant, wh, requested_carrier="fedex", requested_service="fedex_ground")
    holds = picked.hold_reasons

    response = client.patch(
        f"/api/v1/orders/{picked.pk}/",
        {"requested_carrier": "ups", "requested_service": "express"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert _requested(response.json()) == ("ups", "express")
    after = Order.objects.get(pk=picked.pk)
    assert (after.requested_carrier, after.requested_service) == ("ups", "express")
    assert (after.status, after.hold_reasons) == (Status.PICKED, holds)
    assert after.lines.get().allocated_quantity == 2


def test_patch_changes_them_while_the_order_is_picking(merchant):
    tenant, wh, client = merchant
    inv.stock(tenant, Product.objects.get(sku="TEE-RED-M"), wh, "01-01-1", 5)
    created = order(tenant, external_id="P1", lines=[("TEE-RED-M", 2)])
    services.order_allocate(order_id=created.pk)
    services.order_mark_picking(order_id=created.pk, actor="test")

    response = client.patch(f"/api/v1/orders/{created.pk}/", {"requested_service": "same_day"}, format="json")

    assert response.status_code == 200, response.content
    assert Order.objects.get(pk=created.pk).requested_service == "same_day"
    assert Order.objects.get(pk=created.pk).status == Status.PICKING


def test_patch_is_refused_once_the_order_is_packed_and_changes_nothing(merchant):
    tenant, wh, client = merchant
    picked = _picked(tenant, wh, requested_carrier="fedex", requested_service="fedex_ground")
    services.order_mark_packed(order_id=picked.pk, actor="test")
    before = Order.objects.get(pk=picked.pk)
    events = OrderEvent.objects.filter(order=picked).count()

    response = client.patch(f"/api/v1/orders/{picked.pk}/", {"requested_carrier": "ups"}, format="json")

    assert response.status_code == 409
    assert response.json()["detail"] == "An order in packed can no longer change its requested carrier or service."
    after = Order.objects.get(pk=picked.pk)
    assert (after.requested_carrier, after.requested_service, after.status, after.updated_at) == (
        "fedex",
        "fedex_ground",
        Status.PACKED,
        before.updated_at,
    )
    assert OrderEvent.objects.filter(order=picked).count() == events


def test_patch_of_other_fields_with_them_while_picked_is_refused_and_changes_nothing(merchant):
    tenant, wh, client = merchant
    picked = _picked(tenant, wh)
    before = Order.objects.get(pk=picked.pk)
    events = OrderEvent.objects.filter(order=picked).count()

    response = client.patch(
        f"/api/v1/orders/{picked.pk}/", {"requested_carrier": "ups", "gift_message": "Enjoy"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["detail"] == (
        "An order in picked can no longer be changed, except its requested_carrier and requested_service."
    )
    after = Order.objects.get(pk=picked.pk)
    assert (after.requested_carrier, after.gift_message, after.updated_at) == ("", "", before.updated_at)
    assert OrderEvent.objects.filter(order=picked).count() == events


def test_patch_with_a_bad_code_is_422_and_changes_nothing(merchant):
    _tenant, _wh, client = merchant
    created = client.post("/api/v1/orders/", order_payload(requested_carrier="fedex"), format="json").json()
    before = Order.objects.get()
    events = OrderEvent.objects.count()

    response = client.patch(
        f"/api/v1/orders/{created['id']}/",
        {"requested_carrier": "UPS", "requested_service": "ups ground"},
        format="json",
    )

    assert response.status_code == 422
    assert _field_errors(response.json()) == [
        {"field": "requested_carrier", **BAD_CODE},
        {"field": "requested_service", **BAD_CODE},
    ]
    after = Order.objects.get()
    assert (after.requested_carrier, after.requested_service, after.updated_at) == ("fedex", "", before.updated_at)
    assert OrderEvent.objects.count() == events


def test_patch_of_them_alone_leaves_an_order_on_hold_as_it_is(merchant):
    _tenant, _wh, client = merchant
    created = client.post("/api/v1/orders/", order_payload(payment_status="pending"), format="json").json()
    assert (created["status"], created["hold_reasons"]) == ("on_hold", ["payment_pending"])

    response = client.patch(f"/api/v1/orders/{created['id']}/", {"requested_carrier": "ups"}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["hold_reasons"]) == ("on_hold", ["payment_pending"])
    assert response.json()["requested_carrier"] == "ups"


# -- the CSV import ------------------------------------------------------------------------


def test_the_csv_import_reads_optional_requested_carrier_and_service_columns(merchant, run_tasks):
    _tenant, _wh, client = merchant
    rows = [
        line("SHOP-1", requested_carrier="fedex", requested_service="fedex_ground"),
        line("SHOP-1", sku="MUG-BLK"),  # a later row may leave them empty
        line("SHOP-2", requested_service="express"),
        line("SHOP-3"),
    ]

    job_id = run_tasks(lambda: upload(client, csv_bytes(rows))).json()["id"]

    job = client.get(f"{IMPORTS_URL}{job_id}/").json()
    assert (job["created"], job["failed"], job["errors"]) == (3, 0, [])
    assert _stored() == {"SHOP-1": ("fedex", "fedex_ground"), "SHOP-2": ("", "express"), "SHOP-3": ("", "")}


def test_the_csv_import_refuses_a_bad_code_as_a_row_error(merchant, run_tasks):
    _tenant, _wh, client = merchant
    rows = [line("SHOP-1"), line("SHOP-2", requested_carrier="Canada Post")]

    job_id = run_tasks(lambda: upload(client, csv_bytes(rows))).json()["id"]

    job = client.get(f"{IMPORTS_URL}{job_id}/").json()
    assert (job["created"], job["failed"]) == (1, 1)
    assert job["errors"] == [{"row": 3, "field": "requested_carrier", "message": BAD_CODE["message"]}]
    assert list(Order.objects.values_list("external_id", flat=True)) == ["SHOP-1"]


# -- splits and the schema -----------------------------------------------------------------


def test_the_backordered_split_keeps_the_requested_carrier_and_service(merchant, django_capture_on_commit_callbacks):
    tenant, wh, _ = merchant
    tenant.allow_partial_shipments = True
    tenant.save(update_fields=["allow_partial_shipments"])
    inv.stock(tenant, Product.objects.get(sku="TEE-RED-M"), wh, "01-01-1", 1)
    with django_capture_on_commit_callbacks(execute=True):
        created = order(
            tenant, external_id="S1", lines=[("TEE-RED-M", 3)], requested_carrier="ups", requested_service="express"
        )

    split = Order.objects.get(parent=created)

    assert (split.requested_carrier, split.requested_service) == ("ups", "express")


def _max_length(schema: dict) -> int:
    # An allow_blank field with a pattern is rendered as oneOf [the pattern, the empty string].
    return max(part.get("maxLength", 0) for part in [schema, *schema.get("oneOf", [])])


def test_the_schema_documents_both_fields_on_create_patch_and_the_answer(client):
    schemas = client.get("/api/schema/", headers={"Accept": "application/json"}).json()["components"]["schemas"]

    for name in ("OrderCreateRequest", "PatchedOrderPatchRequest", "Order"):
        carrier, service = (schemas[name]["properties"][f"requested_{f}"] for f in ("carrier", "service"))
        assert "`carrier_id`" in carrier["description"], name
        assert "`fedex_ground`" in service["description"], name
        assert (_max_length(carrier), _max_length(service)) == (40, 60), name
    patch = schemas["PatchedOrderPatchRequest"]["properties"]
    assert "until the order is packed" in patch["requested_carrier"]["description"]
