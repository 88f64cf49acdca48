"""One order through all seven stages over the HTTP API, from product to a refunded return and an
exchange that ships."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from fulfillment.webhooks.models import OutboxEvent
from inventory.models import Warehouse
from orders.tests.factories import order_payload

pytestmark = pytest.mark.django_db(transaction=True)


def _ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def test_order_journey_from_product_to_refunded_return_and_shipped_exchange(api_as, settings):
    out = io.StringIO()
    call_command(
        "create_warehouse", "MAIN", "--name", "Main", "--aisles", "3", "--bays", "8", "--levels", "2", stdout=out
    )
    assert out.getvalue().strip().splitlines()[-1] == "MAIN"
    tenant, key = tenant_with_key(slug="acme")
    merchant = api_as(key)
    _, token = staff_with_token(username="floor", role="manager", warehouse=Warehouse.objects.get(code="MAIN"))
    staff = api_as(token)

    # 1. inventory: a product, an ASN, a receipt into a location
    product = _ok(
        merchant.post(
            "/api/v1/products/",
            {
                "sku": "TEE-RED-M",
                "name": "Red tee M",
                "barcodes": ["0012345678905"],
                "weight_g": 200,
                "length_mm": 300,
                "width_mm": 200,
                "height_mm": 20,
            },
            format="json",
        ),
        201,
    )
    asn = _ok(
        merchant.post(
            "/api/v1/inbound-shipments/",
            {"warehouse": "MAIN", "reference": "PO-1", "lines": [{"sku": "TEE-RED-M", "quantity": 10}]},
            format="json",
        ),
        201,
    )
    received = _ok(
        staff.post(
            f"/api/v1/inbound-shipments/{asn['id']}/receive/",
            {"lines": [{"sku": "TEE-RED-M", "quantity": 10, "location": "01-02-1"}]},
            format="json",
        )
    )
    assert received["status"] == "received"
    level = _ok(merchant.get("/api/v1/inventory/"))["results"][0]
    assert (level["sku"], level["on_hand"], level["available"]) == ("TEE-RED-M", 10, 10)

    # 2. orders: accepted, then allocated by the task that runs on commit
    created = _ok(merchant.post("/api/v1/orders/", order_payload(), format="json"), 201)
    order = _ok(merchant.get(f"/api/v1/orders/{created['id']}/"))
    assert order["status"] == "allocated"
    assert order["lines"][0]["allocated_quantity"] == 2

    # 3. picking: a wave, its pick list in route order, scans
    wave = _ok(
        staff.post("/api/v1/waves/", {"warehouse": "MAIN", "strategy": "batch", "max_orders": 10}, format="json"), 201
    )
    pick_list = _ok(staff.get(f"/api/v1/pick-lists/{wave['pick_lists'][0]['id']}/"))
    (task,) = pick_list["tasks"]
    assert (task["location"], task["sku"], task["quantity"]) == ("01-02-1", "TEE-RED-M", 2)
    wrong = staff.post(
        f"/api/v1/pick-lists/{pick_list['id']}/picks/",
        {"task": task["id"], "location_barcode": "01-01-1", "product_barcode": "0012345678905", "quantity": 2},
        format="json",
    )
    assert wrong.status_code == 422
    _ok(
        staff.post(
            f"/api/v1/pick-lists/{pick_list['id']}/picks/",
            {"task": task["id"], "location_barcode": "01-02-1", "product_barcode": "0012345678905", "quantity": 2},
            format="json",
        ),
        201,
    )
    assert _ok(merchant.get(f"/api/v1/orders/{created['id']}/"))["status"] == "picked"

    # 4-5. packing, then the label is bought on commit and the order ships
    shipment = _ok(staff.post(f"/api/v1/orders/{created['id']}/pack/", {}, format="json"), 201)
    slip = staff.get(f"/api/v1/orders/{created['id']}/packing-slip.pdf")
    assert slip.status_code == 200 and slip.content.startswith(b"%PDF")
    shipment = _ok(merchant.get(f"/api/v1/shipments/{shipment['id']}/"))
    assert shipment["tracking_number"] and shipment["carrier"] == "demo-post"
    label = staff.get(f"/api/v1/shipments/{shipment['id']}/label.pdf")
    assert label.status_code == 200 and label.content.startswith(b"%PDF")
    zpl = staff.get(f"/api/v1/shipments/{shipment['id']}/label.zpl")
    assert zpl.status_code == 200 and shipment["tracking_number"] in zpl.content.decode()
    order = _ok(merchant.get(f"/api/v1/orders/{created['id']}/"))
    assert order["status"] == "shipped" and order["promised_delivery_date"]

    # 6. delivery: the carrier pushes its scans (the rate-sheet carrier has no tracking to poll)
    for code in ("in_transit", "delivered"):
        _ok(
            staff.post(
                f"/api/v1/shipments/{shipment['id']}/tracking-events/",
                {"code": code, "occurred_at": timezone.now().isoformat(), "location": "Toronto ON"},
                format="json",
            ),
            201,
        )
    assert _ok(merchant.get(f"/api/v1/orders/{created['id']}/"))["status"] == "delivered"
    events = _ok(merchant.get(f"/api/v1/shipments/{shipment['id']}/"))["tracking_events"]
    assert events[-1]["code"] == "delivered"

    # 7. returns: an RMA, received and restocked
    rma = _ok(
        merchant.post(
            "/api/v1/returns/",
            {"order": created["id"], "lines": [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}]},
            format="json",
        ),
        201,
    )
    _ok(
        staff.post(
            f"/api/v1/returns/{rma['id']}/receive/",
            {"lines": [{"sku": "TEE-RED-M", "quantity": 1, "condition": "new", "disposition": "restock"}]},
            format="json",
        )
    )
    level = _ok(merchant.get("/api/v1/inventory/?sku=TEE-RED-M"))["results"][0]
    assert (level["on_hand"], level["allocated"], level["available"]) == (9, 0, 9)
    assert product["id"] == level["product"]
    # the merchant confirms the refund the policy computed; a second confirmation pays nothing
    refunded = _ok(merchant.post(f"/api/v1/returns/{rma['id']}/refund/", {}, format="json"))
    assert (refunded["status"], refunded["refund"]["status"]) == ("refunded", "refunded")
    assert refunded["refund"]["amount"] == refunded["refund"]["amount_due"]
    assert merchant.post(f"/api/v1/returns/{rma['id']}/refund/", {}, format="json").status_code == 409

    # 8. an exchange: the other unit for another one, a new order held until the return is in, then shipped
    exchange = _ok(
        merchant.post(
            "/api/v1/returns/",
            {
                "order": created["id"],
                "lines": [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too large"}],
                "resolution": "exchange",
                "exchange_lines": [{"sku": "TEE-RED-M", "quantity": 1}],
            },
            format="json",
        ),
        201,
    )
    new_order = exchange["exchange_order"]
    assert _ok(merchant.get(f"/api/v1/orders/{new_order['id']}/"))["status"] == "on_hold"
    _ok(
        staff.post(
            f"/api/v1/returns/{exchange['id']}/receive/",
            {"lines": [{"sku": "TEE-RED-M", "quantity": 1, "condition": "new", "disposition": "restock"}]},
            format="json",
        )
    )
    assert _ok(merchant.get(f"/api/v1/returns/{exchange['id']}/"))["status"] == "exchanged"
    assert _ok(merchant.get(f"/api/v1/orders/{created['id']}/"))["status"] == "returned"
    assert _ok(merchant.get(f"/api/v1/orders/{new_order['id']}/"))["status"] == "allocated"
    wave = _ok(
        staff.post("/api/v1/waves/", {"warehouse": "MAIN", "strategy": "batch", "max_orders": 10}, format="json"), 201
    )
    pick_list = _ok(staff.get(f"/api/v1/pick-lists/{wave['pick_lists'][0]['id']}/"))
    (task,) = pick_list["tasks"]
    _ok(
        staff.post(
            f"/api/v1/pick-lists/{pick_list['id']}/picks/",
            {
                "task": task["id"],
                "location_barcode": task["location"],
                "product_barcode": "0012345678905",
                "quantity": task["quantity"],
            },
            format="json",
        ),
        201,
    )
    _ok(staff.post(f"/api/v1/orders/{new_order['id']}/pack/", {}, format="json"), 201)
    assert _ok(merchant.get(f"/api/v1/orders/{new_order['id']}/"))["status"] == "shipped"

    types = set(OutboxEvent.objects.filter(tenant=tenant).values_list("type", flat=True))
    assert {
        "order.created",
        "order.allocated",
        "order.shipped",
        "order.delivered",
        "return.created",
        "return.received",
        "return.refunded",
        "return.exchanged",
    } <= types

    # 9. billing: the journey earned its fees as it ran; a manager invoices them, both download them
    today = timezone.localdate()
    invoice = _ok(
        staff.post(
            "/api/v1/invoices/",
            {"tenant": "acme", "period_start": str(today.replace(day=1)), "period_end": str(today)},
            format="json",
        ),
        201,
    )
    kinds = {line["kind"] for line in invoice["lines"]}
    assert {"receiving", "pick", "pack", "shipping", "return", "return_unit"} <= kinds, kinds
    fee_rows, url = [], f"/api/v1/fees/?invoice={invoice['id']}&limit=500"
    while url:
        page = _ok(merchant.get(url))
        fee_rows += page["results"]
        url = page["next"]
    assert len(fee_rows) == invoice["fees"]
    assert sum(Decimal(row["amount"]) for row in fee_rows) == Decimal(invoice["subtotal"])
    assert Decimal(invoice["total"]) == Decimal(invoice["subtotal"]) + Decimal(invoice["minimum_top_up"])
    assert merchant.get(invoice["pdf_url"])["Content-Type"] == "application/pdf"
    assert "invoice.issued" in set(OutboxEvent.objects.filter(tenant=tenant).values_list("type", flat=True))

    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == "ledger ok"
