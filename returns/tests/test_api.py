import pytest

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory.models import StockMovement
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders.tests.factories import order
from returns.models import Return, ReturnStatus
from returns.tests.factories import shipped_order

pytestmark = pytest.mark.django_db

URL = "/api/v1/returns/"
BODY_LINES = [{"sku": "TEE-RED-M", "quantity": 2, "reason": "too small"}]
RECEIPT = {"lines": [{"sku": "TEE-RED-M", "quantity": 2, "condition": "new", "disposition": "restock"}]}


def _create(client, order_id, lines=BODY_LINES):
    return client.post(URL, {"order": str(order_id), "lines": lines}, format="json")


def _fields(response):
    return [(e["field"], e["code"]) for e in response.json()["errors"]]


def test_merchant_opens_a_return_for_its_shipped_order(shop, api_as):
    response = _create(api_as(shop.key), shop.order.pk)

    assert response.status_code == 201
    body = response.json()
    rma = Return.objects.get()
    assert body == {
        "id": str(rma.id),
        "number": rma.number,
        "order": str(shop.order.pk),
        "order_number": shop.order.number,
        "warehouse": "MAIN",
        "status": "requested",
        "resolution": "refund",
        "source": "api",
        "lines": [
            {
                "sku": "TEE-RED-M",
                "quantity": 2,
                "reason": "too small",
                "received_quantity": 0,
                "condition": "",
                "disposition": "",
            }
        ],
        "receipts": [],
        "exchange_lines": [],
        "label_url": None,
        "tracking_number": None,
        "refund": None,
        "exchange_order": None,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "received_at": None,
        "inspected_at": None,
        "closed_at": None,
    }


def test_other_tenants_order_is_the_same_field_error_as_a_missing_one(shop, api_as):
    _, stranger_key = tenant_with_key(slug="stranger")
    client = api_as(stranger_key)

    foreign = _create(client, shop.order.pk)
    missing = _create(client, "00000000-0000-0000-0000-000000000000")

    assert foreign.status_code == missing.status_code == 422
    assert foreign.json() == missing.json()
    assert foreign.json()["errors"] == [{"field": "order", "code": "not_found", "message": "Order not found."}]
    assert Return.objects.count() == 0


def test_return_of_an_order_not_yet_shipped_is_a_conflict(shop, api_as):
    open_order = order(shop.tenant, external_id="SHOP-2", lines=[("TEE-RED-M", 1)])

    response = _create(api_as(shop.key), open_order.pk, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "x"}])

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert Return.objects.count() == 0


def test_bad_lines_answer_422_with_field_paths(shop, api_as):
    client = api_as(shop.key)

    not_on_order = _create(client, shop.order.pk, [{"sku": "NOPE", "quantity": 1, "reason": "x"}])
    too_many = _create(client, shop.order.pk, [{"sku": "MUG-BLUE", "quantity": 3, "reason": "x"}])
    zero = _create(client, shop.order.pk, [{"sku": "MUG-BLUE", "quantity": 0, "reason": "x"}])
    no_lines = _create(client, shop.order.pk, [])
    bad_id = client.post(URL, {"order": "42", "lines": BODY_LINES}, format="json")

    assert _fields(not_on_order) == [("lines[0].sku", "not_in_order")]
    assert _fields(too_many) == [("lines[0].quantity", "exceeds_returnable")]
    assert _fields(zero) == [("lines[0].quantity", "min_value")]
    assert _fields(no_lines) == [("lines", "empty")]
    assert _fields(bad_id) == [("order", "invalid")]
    assert {r.status_code for r in (not_on_order, too_many, zero, no_lines, bad_id)} == {422}
    assert Return.objects.count() == 0


def test_staff_cannot_open_a_return(shop, api_as):
    _, token = staff_with_token(username="alice", warehouse=shop.wh)

    response = _create(api_as(token), shop.order.pk)

    assert response.status_code == 403
    assert Return.objects.count() == 0


def test_list_excludes_other_tenant_and_other_tenant_gets_404(shop, api_as):
    _create(api_as(shop.key), shop.order.pk)
    stranger, stranger_key = tenant_with_key(slug="stranger")
    inv.stock(stranger, inv.product(stranger, "CAP-1"), shop.wh, "04-01-1", 1)
    theirs = shipped_order(stranger, external_id="S-1", lines=[("CAP-1", 1)])
    _create(api_as(stranger_key), theirs.pk, [{"sku": "CAP-1", "quantity": 1, "reason": "x"}])
    mine = Return.objects.get(order=shop.order)

    listed = api_as(shop.key).get(URL)
    foreign = api_as(stranger_key).get(f"{URL}{mine.pk}/")

    assert [r["id"] for r in listed.json()["results"]] == [str(mine.pk)]
    assert foreign.status_code == 404
    assert api_as(shop.key).get(f"{URL}{mine.pk}/").json()["number"] == mine.number


def test_list_filters_by_status_and_order(shop, api_as):
    client = api_as(shop.key)
    _create(client, shop.order.pk)

    assert len(client.get(URL, {"status": "requested"}).json()["results"]) == 1
    assert client.get(URL, {"status": "received"}).json()["results"] == []
    assert client.get(URL, {"order": "00000000-0000-0000-0000-000000000000"}).json()["results"] == []


def test_staff_of_the_warehouse_receive_the_return(shop, api_as, django_capture_on_commit_callbacks):
    rma_id = _create(api_as(shop.key), shop.order.pk).json()["id"]
    _, token = staff_with_token(username="alice", role="associate", warehouse=shop.wh)
    client = api_as(token)

    assert [r["id"] for r in client.get(URL).json()["results"]] == [rma_id]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}{rma_id}/receive/", RECEIPT, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "inspected" and body["received_at"] is not None
    assert body["lines"][0] == {
        "sku": "TEE-RED-M",
        "quantity": 2,
        "reason": "too small",
        "received_quantity": 2,
        "condition": "new",
        "disposition": "restock",
    }
    assert StockMovement.objects.filter(actor="alice", reason="restock").count() == 1


def test_receiving_a_return_already_in_full_is_a_conflict_and_changes_nothing(shop, api_as):
    rma_id = _create(api_as(shop.key), shop.order.pk).json()["id"]
    _, token = staff_with_token(username="alice", warehouse=shop.wh)
    client = api_as(token)
    assert client.post(f"{URL}{rma_id}/receive/", RECEIPT, format="json").status_code == 200
    movements = StockMovement.objects.count()

    again = client.post(f"{URL}{rma_id}/receive/", RECEIPT, format="json")

    assert again.status_code == 409
    assert StockMovement.objects.count() == movements


def test_bad_receipt_line_is_422_and_changes_nothing(shop, api_as):
    rma_id = _create(api_as(shop.key), shop.order.pk).json()["id"]
    _, token = staff_with_token(username="alice", warehouse=shop.wh)
    movements = StockMovement.objects.count()

    response = api_as(token).post(
        f"{URL}{rma_id}/receive/",
        {"lines": [{"sku": "TEE-RED-M", "quantity": 3, "condition": "new", "disposition": "restock"}]},
        format="json",
    )
    bad_choice = api_as(token).post(
        f"{URL}{rma_id}/receive/",
        {"lines": [{"sku": "TEE-RED-M", "quantity": 1, "condition": "new", "disposition": "resell"}]},
        format="json",
    )

    assert response.status_code == 422
    assert _fields(response) == [("lines[0].quantity", "exceeds_returned")]
    assert _fields(bad_choice) == [("lines[0].disposition", "invalid_choice")]
    assert StockMovement.objects.count() == movements
    assert Return.objects.get().status == ReturnStatus.REQUESTED


def test_merchant_cannot_receive_and_staff_of_another_warehouse_gets_404(shop, api_as):
    rma_id = _create(api_as(shop.key), shop.order.pk).json()["id"]
    east = inv.warehouse("EAST", aisles=1, bays=1, levels=1)
    _, outsider = staff_with_token(username="bob", warehouse=east)

    by_merchant = api_as(shop.key).post(f"{URL}{rma_id}/receive/", RECEIPT, format="json")
    by_outsider = api_as(outsider).post(f"{URL}{rma_id}/receive/", RECEIPT, format="json")

    assert by_merchant.status_code == 403
    assert by_outsider.status_code == 404
    assert api_as(outsider).get(URL).json()["results"] == []
    assert Return.objects.get().status == ReturnStatus.REQUESTED


def test_create_with_the_same_idempotency_key_returns_the_first_answer(shop, api_as):
    client = api_as(shop.key)
    body = {"order": str(shop.order.pk), "lines": BODY_LINES}

    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    replay = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == replay.status_code == 201
    assert replay.json()["id"] == first.json()["id"]
    assert Return.objects.count() == 1


def test_a_return_in_two_parcels_is_received_twice_each_unit_graded(shop, api_as):
    rma_id = _create(api_as(shop.key), shop.order.pk).json()["id"]
    _, token = staff_with_token(username="alice", warehouse=shop.wh)
    client = api_as(token)
    one = {"sku": "TEE-RED-M", "quantity": 1, "condition": "opened", "disposition": "restock"}

    first = client.post(f"{URL}{rma_id}/receive/", {"lines": [one]}, format="json")
    too_many = client.post(f"{URL}{rma_id}/receive/", {"lines": [{**one, "quantity": 2}]}, format="json")
    second = client.post(
        f"{URL}{rma_id}/receive/",
        {"lines": [{**one, "condition": "damaged", "disposition": "quarantine", "note": "torn seam"}]},
        format="json",
    )
    third = client.post(f"{URL}{rma_id}/receive/", {"lines": [one]}, format="json")

    assert first.status_code == 200 and first.json()["status"] == "received"
    assert first.json()["lines"][0]["received_quantity"] == 1
    assert too_many.status_code == 422 and _fields(too_many) == [("lines[0].quantity", "exceeds_returned")]
    assert "Only 1 x TEE-RED-M are still expected" in too_many.json()["errors"][0]["message"]
    body = second.json()
    assert body["lines"][0]["received_quantity"] == 2
    assert [(r["quantity"], r["condition"], r["disposition"], r["note"]) for r in body["receipts"]] == [
        (1, "opened", "restock", ""),
        (1, "damaged", "quarantine", "torn seam"),
    ]
    assert third.status_code == 409
    assert StockMovement.objects.filter(reason="return").count() == 2
    assert ledger_differences() == []


def test_a_condition_that_is_not_a_grade_is_refused(shop, api_as):
    rma_id = _create(api_as(shop.key), shop.order.pk).json()["id"]
    _, token = staff_with_token(username="alice", warehouse=shop.wh)
    movements = StockMovement.objects.count()

    answer = api_as(token).post(
        f"{URL}{rma_id}/receive/",
        {"lines": [{"sku": "TEE-RED-M", "quantity": 1, "condition": "so-so", "disposition": "restock"}]},
        format="json",
    )

    assert answer.status_code == 422 and _fields(answer) == [("lines[0].condition", "invalid_choice")]
    assert StockMovement.objects.count() == movements
