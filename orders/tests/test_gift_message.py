"""gift_message on orders: accepted by the order API, PATCH, bulk and the CSV import; too long is refused
with the field named and nothing written; shown on the manager and portal order pages."""

from __future__ import annotations

import pytest

from fulfillment.tenancy.services import merchant_user_create
from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory.models import Product
from inventory.tests import factories as inv
from orders.models import Order, OrderEvent
from orders.tests.factories import order, order_payload
from orders.tests.test_imports import URL as IMPORTS_URL
from orders.tests.test_imports import csv_bytes, line, upload

pytestmark = pytest.mark.django_db

MESSAGE = "Happy birthday, Ada!\nLove, Charles"
TOO_LONG = "x" * 501


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


def _gift_error(body: dict) -> list[dict]:
    return [e for e in body["errors"] if e["field"] == "gift_message"]


# -- the order API -------------------------------------------------------------------------


def test_create_stores_and_answers_the_gift_message(merchant):
    _tenant, _wh, client = merchant

    response = client.post("/api/v1/orders/", order_payload(gift_message=MESSAGE), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["gift_message"] == MESSAGE
    assert Order.objects.get().gift_message == MESSAGE
    assert client.get(f"/api/v1/orders/{response.json()['id']}/").json()["gift_message"] == MESSAGE
    assert client.get("/api/v1/orders/").json()["results"][0]["gift_message"] == MESSAGE


def test_an_order_without_a_gift_message_answers_an_empty_one(merchant):
    _tenant, _wh, client = merchant

    response = client.post("/api/v1/orders/", order_payload(), format="json")

    assert response.status_code == 201
    assert response.json()["gift_message"] == ""


def test_a_gift_message_of_exactly_500_characters_is_accepted(merchant):
    _tenant, _wh, client = merchant

    response = client.post("/api/v1/orders/", order_payload(gift_message="x" * 500), format="json")

    assert response.status_code == 201
    assert len(Order.objects.get().gift_message) == 500


def test_a_gift_message_over_500_characters_is_422_naming_the_field_and_creates_nothing(merchant):
    _tenant, _wh, client = merchant

    response = client.post("/api/v1/orders/", order_payload(gift_message=TOO_LONG), format="json")

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert _gift_error(response.json()) == [
        {"field": "gift_message", "code": "max_length", "message": "Ensure this field has no more than 500 characters."}
    ]
    assert Order.objects.count() == 0
    assert OrderEvent.objects.count() == 0


def test_patch_sets_and_clears_the_gift_message_with_a_timeline_entry(merchant):
    _tenant, _wh, client = merchant
    created = client.post("/api/v1/orders/", order_payload(), format="json").json()
    url = f"/api/v1/orders/{created['id']}/"

    response = client.patch(url, {"gift_message": MESSAGE}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["gift_message"] == MESSAGE
    assert Order.objects.get().gift_message == MESSAGE
    assert OrderEvent.objects.filter(type="updated", message="Updated: gift_message").count() == 1

    assert client.patch(url, {"gift_message": ""}, format="json").json()["gift_message"] == ""
    assert Order.objects.get().gift_message == ""


def test_patch_with_a_too_long_gift_message_is_422_and_changes_nothing(merchant):
    _tenant, _wh, client = merchant
    created = client.post("/api/v1/orders/", order_payload(gift_message=MESSAGE), format="json").json()
    before = Order.objects.get()
    events = OrderEvent.objects.count()

    response = client.patch(f"/api/v1/orders/{created['id']}/", {"gift_message": TOO_LONG}, format="json")

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["gift_message"]
    after = Order.objects.get()
    assert (after.gift_message, after.updated_at) == (MESSAGE, before.updated_at)
    assert OrderEvent.objects.count() == events


def test_a_staff_token_cannot_patch_the_gift_message(merchant, api_as):
    _tenant, wh, client = merchant
    created = client.post("/api/v1/orders/", order_payload(), format="json").json()
    _, token = staff_with_token(username="mgr", warehouse=wh)

    response = api_as(token).patch(f"/api/v1/orders/{created['id']}/", {"gift_message": "Hi"}, format="json")

    assert response.status_code == 403
    assert Order.objects.get().gift_message == ""


# -- bulk ----------------------------------------------------------------------------------


def test_bulk_accepts_gift_messages_on_the_fast_path_and_the_serializer_path(merchant):
    _tenant, _wh, client = merchant
    orders = [
        order_payload("B1", gift_message=MESSAGE),  # plain: the fast path
        order_payload("B2", gift_message="  Trimmed by the serializer  "),  # padded: the serializer
        order_payload("B3"),
    ]

    response = client.post("/api/v1/orders/bulk/", {"orders": orders}, format="json")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 201, 201]
    assert [r["order"]["gift_message"] for r in results] == [MESSAGE, "Trimmed by the serializer", ""]
    stored = dict(Order.objects.values_list("external_id", "gift_message"))
    assert stored == {"B1": MESSAGE, "B2": "Trimmed by the serializer", "B3": ""}


def test_bulk_refuses_a_too_long_gift_message_for_that_item_only(merchant):
    _tenant, _wh, client = merchant
    orders = [order_payload("B1"), order_payload("B2", gift_message=TOO_LONG)]

    response = client.post("/api/v1/orders/bulk/", {"orders": orders}, format="json")

    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 422]
    assert [e["field"] for e in results[1]["errors"]] == ["gift_message"]
    assert list(Order.objects.values_list("external_id", flat=True)) == ["B1"]


# -- the CSV import ------------------------------------------------------------------------


def test_the_csv_import_reads_an_optional_gift_message_column(merchant, run_tasks):
    _tenant, _wh, client = merchant
    rows = [
        line("SHOP-1", gift_message=MESSAGE),
        line("SHOP-1", sku="MUG-BLK", gift_message=""),  # a later row may leave it empty
        line("SHOP-2"),
    ]

    job_id = run_tasks(lambda: upload(client, csv_bytes(rows))).json()["id"]

    job = client.get(f"{IMPORTS_URL}{job_id}/").json()
    assert (job["created"], job["failed"], job["errors"]) == (2, 0, [])
    assert dict(Order.objects.values_list("external_id", "gift_message")) == {"SHOP-1": MESSAGE, "SHOP-2": ""}


def test_the_csv_import_refuses_a_too_long_gift_message_as_a_row_error(merchant, run_tasks):
    _tenant, _wh, client = merchant
    rows = [line("SHOP-1"), line("SHOP-2", gift_message=TOO_LONG)]

    job_id = run_tasks(lambda: upload(client, csv_bytes(rows))).json()["id"]

    job = client.get(f"{IMPORTS_URL}{job_id}/").json()
    assert (job["created"], job["failed"]) == (1, 1)
    assert job["errors"] == [
        {"row": 3, "field": "gift_message", "message": "Ensure this field has no more than 500 characters."}
    ]
    assert list(Order.objects.values_list("external_id", flat=True)) == ["SHOP-1"]


def test_gift_messages_that_differ_between_rows_of_one_order_are_refused(merchant, run_tasks):
    _tenant, _wh, client = merchant
    rows = [line("SHOP-1", gift_message="Hi"), line("SHOP-1", sku="MUG-BLK", gift_message="Hello")]

    job_id = run_tasks(lambda: upload(client, csv_bytes(rows))).json()["id"]

    job = client.get(f"{IMPORTS_URL}{job_id}/").json()
    assert job["failed"] == 1
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(2, None), (3, "gift_message")]
    assert Order.objects.count() == 0


# -- splits --------------------------------------------------------------------------------


def test_the_backordered_split_of_a_gift_order_keeps_the_gift_message(merchant, django_capture_on_commit_callbacks):
    tenant, wh, _ = merchant
    tenant.allow_partial_shipments = True
    tenant.save(update_fields=["allow_partial_shipments"])
    inv.stock(tenant, Product.objects.get(sku="TEE-RED-M"), wh, "01-01-1", 1)
    with django_capture_on_commit_callbacks(execute=True):
        created = order(tenant, external_id="G1", lines=[("TEE-RED-M", 3)], gift_message=MESSAGE)

    split = Order.objects.get(parent=created)

    assert split.gift_message == MESSAGE


# -- pages ---------------------------------------------------------------------------------


def test_the_manager_order_page_shows_the_gift_message(merchant, client):
    tenant, wh, _ = merchant
    created = order(tenant, external_id="G1", lines=[("TEE-RED-M", 1)], gift_message="Hi <b>Ada</b>\nLove")
    manager, _token = staff_with_token(username="mgr", warehouse=wh)
    client.force_login(manager)

    page = client.get(f"/orders/{created.pk}/").content.decode()

    assert 'id="gift-message"' in page
    assert "Hi &lt;b&gt;Ada&lt;/b&gt;<br>Love" in page


def test_the_portal_order_page_shows_the_gift_message_and_none_when_there_is_none(merchant, client):
    tenant, _wh, _ = merchant
    gift = order(tenant, external_id="G1", lines=[("TEE-RED-M", 1)], gift_message="Enjoy!")
    plain = order(tenant, external_id="G2", lines=[("TEE-RED-M", 1)])
    client.force_login(merchant_user_create(tenant=tenant, username="acme-web", password="pass-word-123"))

    assert "Enjoy!" in client.get(f"/portal/orders/{gift.pk}/").content.decode()
    assert 'id="gift-message"' not in client.get(f"/portal/orders/{plain.pk}/").content.decode()
