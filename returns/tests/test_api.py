from decimal import Decimal

import pytest

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from fulfillment.webhooks.models import OutboxEvent
from inventory.models import StockMovement
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders.models import Order
from orders.tests.factories import order
from returns.models import LabelStatus, Resolution, Return, ReturnLabel, ReturnPolicy, ReturnRefund, ReturnStatus
from returns.tests.factories import shipped_order
from shipping.models import CarrierAccount

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


def test_other_tenants_order_is_not_found_exactly_like_a_missing_one(shop, api_as):
    _, stranger_key = tenant_with_key(slug="stranger")
    client = api_as(stranger_key)

    foreign = _create(client, shop.order.pk)
    missing = _create(client, "00000000-0000-0000-0000-000000000000")

    assert foreign.status_code == missing.status_code == 404
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


# -- resolution, label, refund, exchange, close ----------------------------------------------


def _priced(shop):
    """A policy of fees (15 % restocking, 5.00 shipping) and a shipped order of 2 x TEE-RED-M at 19.99."""
    ReturnPolicy.objects.create(
        tenant=shop.tenant,
        restocking_fee_percent=Decimal("15"),
        return_shipping_fee=Decimal("5.00"),
        resolutions=list(Resolution.values),
        reasons=["Too small"],
    )
    return shipped_order(shop.tenant, external_id="SHOP-P", lines=[("TEE-RED-M", 2, Decimal("19.99"))])


def _inspected(shop, api_as, grade="opened") -> str:
    """A refund return of the priced order, every unit received: its id."""
    rma_id = _create(api_as(shop.key), _priced(shop).pk).json()["id"]
    _, token = staff_with_token(username="alice", warehouse=shop.wh)
    lines = [{"sku": "TEE-RED-M", "quantity": 2, "condition": grade, "disposition": "restock"}]
    assert api_as(token).post(f"{URL}{rma_id}/receive/", {"lines": lines}, format="json").status_code == 200
    return rma_id


def test_an_inspected_return_shows_the_refund_the_policy_computed(shop, api_as):
    rma_id = _inspected(shop, api_as)

    body = api_as(shop.key).get(f"{URL}{rma_id}/").json()

    assert body["status"] == "inspected" and body["inspected_at"] is not None
    refund = body["refund"]
    # 39.98 less 15 % of it (6.00 rounded half-up from 5.997) less 5.00 return shipping
    assert {k: refund[k] for k in ("amount_due", "amount", "currency", "status", "method")} == {
        "amount_due": "28.98",
        "amount": None,
        "currency": "CAD",
        "status": "pending",
        "method": "original_payment",
    }
    assert refund["breakdown"]["lines"][0]["restocking_fee"] == "6.00"
    assert refund["breakdown"]["return_shipping_fee"] == "5.00"


def test_the_merchant_confirms_a_lowered_refund_and_a_second_confirmation_is_a_conflict(shop, api_as):
    rma_id = _inspected(shop, api_as)
    client = api_as(shop.key)

    confirmed = client.post(f"{URL}{rma_id}/refund/", {"amount": "25.00", "note": "goodwill"}, format="json")
    again = client.post(f"{URL}{rma_id}/refund/", {}, format="json")

    assert confirmed.status_code == 200
    body = confirmed.json()
    assert body["status"] == "refunded"
    assert (body["refund"]["status"], body["refund"]["amount"], body["refund"]["note"]) == (
        "refunded",
        "25.00",
        "goodwill",
    )
    assert again.status_code == 409 and again["Content-Type"] == "application/problem+json"
    assert _fields(again) == [(None, "already_refunded")]
    event = OutboxEvent.objects.get(type="return.refunded")
    assert (event.data["refund"]["amount"], event.data["refund"]["currency"]) == ("25.00", "CAD")


def test_a_refund_above_the_amount_due_is_422_and_changes_nothing(shop, api_as):
    rma_id = _inspected(shop, api_as)
    client = api_as(shop.key)

    above = client.post(f"{URL}{rma_id}/refund/", {"amount": "28.99"}, format="json")
    negative = client.post(f"{URL}{rma_id}/refund/", {"amount": "-1"}, format="json")
    cents = client.post(f"{URL}{rma_id}/refund/", {"amount": "1.001"}, format="json")
    credit = client.post(f"{URL}{rma_id}/refund/", {"method": "store_credit"}, format="json")

    assert {r.status_code for r in (above, negative, cents, credit)} == {422}
    assert _fields(above) == [("amount", "exceeds_due")]
    assert _fields(negative) == [("amount", "negative")]
    assert _fields(cents) == [("amount", "max_decimal_places")]
    assert _fields(credit) == [("method", "not_allowed")]
    assert ReturnRefund.objects.get().status == "pending"
    assert Return.objects.get(pk=rma_id).status == ReturnStatus.INSPECTED
    assert not OutboxEvent.objects.filter(type="return.refunded").exists()


def test_a_refund_before_inspection_is_a_conflict(shop, api_as):
    rma_id = _create(api_as(shop.key), _priced(shop).pk).json()["id"]

    response = api_as(shop.key).post(f"{URL}{rma_id}/refund/", {}, format="json")

    assert response.status_code == 409
    assert _fields(response) == [(None, "not_inspected")]
    assert not ReturnRefund.objects.exists()


def test_only_the_merchant_refunds_and_closes_its_own_returns(shop, api_as):
    rma_id = _inspected(shop, api_as)
    _, stranger_key = tenant_with_key(slug="stranger")
    _, token = staff_with_token(username="carol", warehouse=shop.wh)

    by_stranger = api_as(stranger_key).post(f"{URL}{rma_id}/refund/", {}, format="json")
    by_staff = api_as(token).post(f"{URL}{rma_id}/refund/", {}, format="json")
    close_by_stranger = api_as(stranger_key).post(f"{URL}{rma_id}/close/", {}, format="json")
    close_by_staff = api_as(token).post(f"{URL}{rma_id}/close/", {}, format="json")

    assert (by_stranger.status_code, by_staff.status_code) == (404, 403)
    assert (close_by_stranger.status_code, close_by_staff.status_code) == (404, 403)
    assert ReturnRefund.objects.get().status == "pending"
    assert Return.objects.get(pk=rma_id).status == ReturnStatus.INSPECTED


def test_the_merchant_closes_a_return(shop, api_as):
    rma_id = _create(api_as(shop.key), shop.order.pk).json()["id"]
    client = api_as(shop.key)

    closed = client.post(f"{URL}{rma_id}/close/", {"note": "never sent"}, format="json")
    again = client.post(f"{URL}{rma_id}/close/", {}, format="json")

    assert closed.status_code == 200
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"] is not None
    assert again.status_code == 409


def test_an_exchange_by_api_answers_its_new_order(shop, api_as):
    response = api_as(shop.key).post(
        URL,
        {
            "order": str(shop.order.pk),
            "lines": BODY_LINES,
            "resolution": "exchange",
            "exchange_lines": [{"sku": "TEE-RED-M", "quantity": 2}],
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    rma = Return.objects.get()
    assert body["resolution"] == "exchange"
    assert body["exchange_lines"] == [{"sku": "TEE-RED-M", "quantity": 2}]
    assert body["exchange_order"] == {
        "id": str(rma.exchange_order_id),
        "number": rma.exchange_order.number,
        "status": "on_hold",
    }
    assert body["refund"] is None


def test_bad_resolution_and_exchange_lines_are_422(shop, api_as):
    client = api_as(shop.key)
    body = {"order": str(shop.order.pk), "lines": BODY_LINES}

    unknown = client.post(URL, {**body, "resolution": "cash"}, format="json")
    missing = client.post(URL, {**body, "resolution": "exchange"}, format="json")
    bad_sku = client.post(
        URL, {**body, "resolution": "exchange", "exchange_lines": [{"sku": "NOPE", "quantity": 1}]}, format="json"
    )
    not_exchange = client.post(URL, {**body, "exchange_lines": [{"sku": "MUG-BLUE", "quantity": 1}]}, format="json")

    assert _fields(unknown) == [("resolution", "invalid_choice")]
    assert _fields(missing) == [("exchange_lines", "required")]
    assert _fields(bad_sku) == [("exchange_lines[0].sku", "unknown_sku")]
    assert _fields(not_exchange) == [("exchange_lines", "not_allowed")]
    assert {r.status_code for r in (unknown, missing, bad_sku, not_exchange)} == {422}
    assert Return.objects.count() == 0 and Order.objects.count() == 1


def test_the_return_label_is_linked_and_served_as_pdf(shop, api_as):
    rma_id = _create(api_as(shop.key), shop.order.pk).json()["id"]
    client = api_as(shop.key)
    assert client.get(f"{URL}{rma_id}/label.pdf").status_code == 404
    ReturnLabel.objects.create(
        tenant=shop.tenant,
        rma_id=rma_id,
        account=CarrierAccount.objects.get(carrier_id="demo-post"),
        service_code="generic_standard",
        tracking_number="1Z999RET",
        label=b"%PDF-1.4 return label",
    )

    body = client.get(f"{URL}{rma_id}/").json()
    pdf = client.get(body["label_url"])
    _, stranger_key = tenant_with_key(slug="stranger")
    foreign = api_as(stranger_key).get(f"{URL}{rma_id}/label.pdf")

    assert body["label_url"] == f"http://testserver{URL}{rma_id}/label.pdf"
    assert body["tracking_number"] == "1Z999RET"
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content == b"%PDF-1.4 return label"
    assert foreign.status_code == 404
    ReturnLabel.objects.filter(rma_id=rma_id).update(status=LabelStatus.VOIDED)
    assert client.get(f"{URL}{rma_id}/").json()["label_url"] is None
    assert client.get(f"{URL}{rma_id}/label.pdf").status_code == 404


def test_staff_receiving_an_exchange_release_its_new_order(shop, api_as, django_capture_on_commit_callbacks):
    wanted = [{"sku": "MUG-BLUE", "quantity": 1}]
    body = {"order": str(shop.order.pk), "lines": BODY_LINES, "resolution": "exchange", "exchange_lines": wanted}
    rma_id = api_as(shop.key).post(URL, body, format="json").json()["id"]
    _, token = staff_with_token(username="alice", role="associate", warehouse=shop.wh)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(token).post(f"{URL}{rma_id}/receive/", RECEIPT, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "exchanged"
    # Released in the receipt's transaction; allocated once it commits.
    assert response.json()["exchange_order"]["status"] == "received"
    assert Return.objects.get(pk=rma_id).exchange_order.status == "allocated"
    assert [e.type for e in OutboxEvent.objects.filter(type__startswith="return.").order_by("created_at")] == [
        "return.created",
        "return.received",
        "return.exchanged",
    ]
