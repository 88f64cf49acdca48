"""Replenishment API: suppliers, purchase orders, reorder suggestions, pick faces, move tasks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory import services
from inventory.models import (
    InboundShipment,
    MoveTask,
    MoveTaskStatus,
    PickFace,
    PurchaseOrder,
    ReorderSuggestion,
    StockBalance,
    StockMovement,
)
from inventory.services import replenishment as rep
from inventory.tests.factories import product, stock, warehouse
from inventory.tests.test_replenishment import ship

pytestmark = pytest.mark.django_db


@pytest.fixture
def wh():
    return warehouse("MAIN", aisles=3, bays=3, levels=1)


@pytest.fixture
def merchant(api_as):
    tenant, raw = tenant_with_key()
    return tenant, api_as(raw)


@pytest.fixture
def outsider(api_as):
    tenant, raw = tenant_with_key()
    return tenant, api_as(raw)


@pytest.fixture
def manager(api_as, wh):
    _, raw = staff_with_token(username="mia", role="manager", warehouse=wh)
    return api_as(raw)


@pytest.fixture
def associate(api_as, wh):
    _, raw = staff_with_token(username="ari", role="associate", warehouse=wh)
    return api_as(raw)


def low_stock(tenant, wh, sku="TEE"):
    """5 units shipped each of the last 20 days, 20 left: suggestion 50 (reorder point 35)."""
    prod = product(tenant, sku)
    stock(tenant, prod, wh, "01-01-1", 120)
    today = timezone.now().date()
    for offset in range(20, 0, -1):
        ship(tenant, prod, wh, 5, today - timedelta(days=offset))
    rep.demand_refresh()
    rep.replenishment_run()
    return prod


# -- suppliers and purchase orders -----------------------------------------------------------


def test_merchant_creates_and_lists_suppliers(merchant, outsider):
    tenant, client = merchant
    _, other = outsider
    other.post("/api/v1/suppliers/", {"name": "Other Co"}, format="json")

    created = client.post("/api/v1/suppliers/", {"name": "Acme", "lead_time_days": 3}, format="json")
    listed = client.get("/api/v1/suppliers/")

    assert created.status_code == 201
    assert {k: created.data[k] for k in ("name", "email", "lead_time_days")} == {
        "name": "Acme",
        "email": "",
        "lead_time_days": 3,
    }
    assert [s["name"] for s in listed.data["results"]] == ["Acme"]


def test_duplicate_supplier_is_409(merchant):
    _, client = merchant
    client.post("/api/v1/suppliers/", {"name": "Acme"}, format="json")

    again = client.post("/api/v1/suppliers/", {"name": "Acme"}, format="json")

    assert again.status_code == 409


def test_bad_lead_time_is_422_with_the_field(merchant):
    _, client = merchant

    answer = client.post("/api/v1/suppliers/", {"name": "Acme", "lead_time_days": -1}, format="json")

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "lead_time_days"


def _po(client, tenant, wh):
    product(tenant, "TEE")
    supplier = client.post("/api/v1/suppliers/", {"name": "Acme"}, format="json").data
    return client.post(
        "/api/v1/purchase-orders/",
        {"supplier": supplier["id"], "warehouse": "main", "lines": [{"sku": "TEE", "quantity": 12}]},
        format="json",
    )


def test_purchase_order_is_created_as_draft(merchant, wh):
    tenant, client = merchant

    answer = _po(client, tenant, wh)

    assert answer.status_code == 201
    assert (answer.data["number"], answer.data["status"], answer.data["warehouse"]) == ("PO-00001", "draft", "MAIN")
    assert answer.data["lines"] == [{"sku": "TEE", "quantity": 12}]
    assert answer.data["inbound_shipment"] is None


def test_purchase_order_with_unknown_sku_is_422_and_creates_nothing(merchant, wh):
    tenant, client = merchant
    supplier = client.post("/api/v1/suppliers/", {"name": "Acme"}, format="json").data

    answer = client.post(
        "/api/v1/purchase-orders/",
        {"supplier": supplier["id"], "warehouse": "MAIN", "lines": [{"sku": "NOPE", "quantity": 1}]},
        format="json",
    )

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "lines[0].sku"
    assert PurchaseOrder.objects.count() == 0


def test_purchase_order_with_another_tenants_supplier_is_422(merchant, outsider, wh):
    tenant, client = merchant
    product(tenant, "TEE")
    foreign = outsider[1].post("/api/v1/suppliers/", {"name": "Other Co"}, format="json").data

    answer = client.post(
        "/api/v1/purchase-orders/",
        {"supplier": foreign["id"], "warehouse": "MAIN", "lines": [{"sku": "TEE", "quantity": 1}]},
        format="json",
    )

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "supplier"


def test_sending_a_purchase_order_creates_the_asn_and_twice_is_409(merchant, wh):
    tenant, client = merchant
    po = _po(client, tenant, wh).data

    sent = client.post(f"/api/v1/purchase-orders/{po['id']}/send/")
    again = client.post(f"/api/v1/purchase-orders/{po['id']}/send/")

    assert sent.status_code == 200
    assert sent.data["status"] == "sent"
    asn = InboundShipment.objects.get()
    assert str(sent.data["inbound_shipment"]) == str(asn.pk)
    assert [(line.product.sku, line.quantity) for line in asn.lines.all()] == [("TEE", 12)]
    assert again.status_code == 409
    assert InboundShipment.objects.count() == 1
    # The ASN is visible to the merchant like any other
    assert client.get(f"/api/v1/inbound-shipments/{asn.pk}/").status_code == 200


def test_other_tenant_gets_404_on_suppliers_and_purchase_orders(merchant, outsider, wh):
    tenant, client = merchant
    _, other = outsider
    po = _po(client, tenant, wh).data

    assert other.get(f"/api/v1/suppliers/{po['supplier']}/").status_code == 404
    assert other.get(f"/api/v1/purchase-orders/{po['id']}/").status_code == 404
    assert other.post(f"/api/v1/purchase-orders/{po['id']}/send/").status_code == 404
    assert other.get("/api/v1/purchase-orders/").data["results"] == []
    assert PurchaseOrder.objects.get().status == "draft"
    assert InboundShipment.objects.count() == 0


def test_staff_cannot_create_purchase_orders(manager):
    assert manager.get("/api/v1/purchase-orders/").status_code == 403
    assert manager.post("/api/v1/suppliers/", {"name": "Acme"}, format="json").status_code == 403


# -- reorder suggestions ---------------------------------------------------------------------


def test_merchant_lists_its_reorder_suggestions(merchant, outsider, wh):
    tenant, client = merchant
    low_stock(tenant, wh)
    low_stock(outsider[0], wh)

    answer = client.get("/api/v1/reorder-suggestions/")

    assert answer.status_code == 200
    [row] = answer.data["results"]
    assert {k: row[k] for k in ("sku", "warehouse", "model", "available", "reorder_point", "suggested_quantity")} == {
        "sku": "TEE",
        "warehouse": "MAIN",
        "model": "mean",
        "available": 20,
        "reorder_point": 35,
        "suggested_quantity": 50,
    }
    assert row["days_of_cover"] == "4.0"


def test_other_tenant_gets_404_on_a_suggestion(merchant, outsider, wh):
    tenant, client = merchant
    low_stock(tenant, wh)
    suggestion = ReorderSuggestion.objects.get()

    assert client.get(f"/api/v1/reorder-suggestions/{suggestion.pk}/").status_code == 200
    assert outsider[1].get(f"/api/v1/reorder-suggestions/{suggestion.pk}/").status_code == 404


def test_staff_see_suggestions_of_their_warehouses_only(merchant, manager, api_as, wh):
    tenant, _ = merchant
    low_stock(tenant, wh)
    elsewhere = warehouse("WEST", aisles=1, bays=1, levels=1)
    _, raw = staff_with_token(username="wes", role="manager", warehouse=elsewhere)

    assert len(manager.get("/api/v1/reorder-suggestions/").data["results"]) == 1
    assert api_as(raw).get("/api/v1/reorder-suggestions/").data["results"] == []


def test_chosen_suggestions_become_a_draft_purchase_order(merchant, outsider, wh):
    tenant, client = merchant
    tee = low_stock(tenant, wh)
    supplier = client.post("/api/v1/suppliers/", {"name": "Acme"}, format="json").data
    tee.supplier_id = supplier["id"]
    tee.save(update_fields=["supplier"])
    suggestion = ReorderSuggestion.objects.get()

    refused = outsider[1].post(
        "/api/v1/reorder-suggestions/purchase-order/", {"suggestions": [suggestion.pk]}, format="json"
    )
    answer = client.post("/api/v1/reorder-suggestions/purchase-order/", {"suggestions": [suggestion.pk]}, format="json")

    assert refused.status_code == 404
    assert answer.status_code == 201
    [po] = answer.data["purchase_orders"]
    assert (po["status"], po["supplier_name"], po["lines"]) == ("draft", "Acme", [{"sku": "TEE", "quantity": 50}])
    assert PurchaseOrder.objects.count() == 1


# -- pick faces and move tasks ---------------------------------------------------------------


@pytest.fixture
def face(merchant, wh):
    """Pick face 01-01-1 (min 5, max 20) empty; 30 units in storage at 02-01-1."""
    tenant, _ = merchant
    tee = product(tenant, "TEE", barcode="4006381333931")
    stock(tenant, tee, wh, "02-01-1", 30)
    return tenant, tee


def test_manager_adds_a_pick_face(manager, face):
    tenant, _ = face

    answer = manager.post(
        "/api/v1/pick-faces/",
        {
            "tenant": tenant.slug,
            "sku": "TEE",
            "warehouse": "MAIN",
            "location": "01-01-1",
            "min_quantity": 5,
            "max_quantity": 20,
        },
        format="json",
    )

    assert answer.status_code == 201
    assert {k: answer.data[k] for k in ("tenant", "sku", "location", "min_quantity", "max_quantity", "on_hand")} == {
        "tenant": tenant.slug,
        "sku": "TEE",
        "location": "01-01-1",
        "min_quantity": 5,
        "max_quantity": 20,
        "on_hand": 0,
    }
    assert manager.get("/api/v1/pick-faces/").data["results"][0]["id"] == answer.data["id"]


def test_pick_face_with_min_above_max_is_422_and_creates_nothing(manager, face):
    tenant, _ = face
    body = {"tenant": tenant.slug, "sku": "TEE", "warehouse": "MAIN", "location": "01-01-1"}

    answer = manager.post("/api/v1/pick-faces/", {**body, "min_quantity": 9, "max_quantity": 5}, format="json")

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "min_quantity"
    assert PickFace.objects.count() == 0


def test_associates_and_merchants_cannot_add_pick_faces(associate, merchant, face):
    tenant, _ = face
    body = {
        "tenant": tenant.slug,
        "sku": "TEE",
        "warehouse": "MAIN",
        "location": "01-01-1",
        "min_quantity": 5,
        "max_quantity": 20,
    }

    assert associate.post("/api/v1/pick-faces/", body, format="json").status_code == 403
    assert merchant[1].post("/api/v1/pick-faces/", body, format="json").status_code == 403
    assert PickFace.objects.count() == 0


def test_manager_removes_a_pick_face(manager, face, wh):
    tenant, tee = face
    pf = rep.pick_face_create(
        tenant_id=tenant.pk, product=tee, location=wh.locations.get(code="01-01-1"), min_quantity=1, max_quantity=5
    )

    answer = manager.delete(f"/api/v1/pick-faces/{pf.pk}/")

    assert answer.status_code == 204
    assert PickFace.objects.count() == 0


def _task(tenant, tee, wh) -> MoveTask:
    rep.pick_face_create(
        tenant_id=tenant.pk, product=tee, location=wh.locations.get(code="01-01-1"), min_quantity=5, max_quantity=20
    )
    rep.pick_faces_replenish()
    return MoveTask.objects.get()


def test_associate_lists_open_move_tasks(associate, face, wh):
    tenant, tee = face
    task = _task(tenant, tee, wh)

    answer = associate.get("/api/v1/move-tasks/?status=open")

    [row] = answer.data["results"]
    assert (row["id"], row["from_location"], row["to_location"], row["sku"], row["quantity"]) == (
        str(task.pk),
        "02-01-1",
        "01-01-1",
        "TEE",
        20,
    )
    assert associate.get("/api/v1/move-tasks/?status=done").data["results"] == []


def test_completing_a_move_task_moves_the_units(associate, face, wh):
    tenant, tee = face
    task = _task(tenant, tee, wh)

    answer = associate.post(
        f"/api/v1/move-tasks/{task.pk}/complete/",
        {"from_location_barcode": "02-01-1", "to_location_barcode": "01-01-1", "quantity": 20},
        format="json",
    )

    assert answer.status_code == 200
    assert (answer.data["status"], answer.data["done_by"]) == ("done", "ari")
    levels = {b.location.code: b.on_hand for b in StockBalance.objects.filter(product=tee, location__is_virtual=False)}
    assert levels == {"01-01-1": 20, "02-01-1": 10}
    assert services.ledger_differences() == []
    again = associate.post(
        f"/api/v1/move-tasks/{task.pk}/complete/",
        {"from_location_barcode": "02-01-1", "to_location_barcode": "01-01-1", "quantity": 20},
        format="json",
    )
    assert again.status_code == 409


def test_wrong_scan_is_422_and_changes_nothing(associate, face, wh):
    tenant, tee = face
    task = _task(tenant, tee, wh)
    movements = StockMovement.objects.count()

    answer = associate.post(
        f"/api/v1/move-tasks/{task.pk}/complete/",
        {"from_location_barcode": "03-01-1", "to_location_barcode": "01-01-1", "quantity": 20},
        format="json",
    )

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "from_location_barcode"
    task.refresh_from_db()
    assert task.status == MoveTaskStatus.OPEN
    assert StockMovement.objects.count() == movements


def test_staff_of_another_warehouse_gets_404_on_a_move_task(api_as, face, wh):
    tenant, tee = face
    task = _task(tenant, tee, wh)
    _, raw = staff_with_token(username="wes", role="associate", warehouse=warehouse("WEST", aisles=1, bays=1, levels=1))
    stranger = api_as(raw)

    answer = stranger.post(
        f"/api/v1/move-tasks/{task.pk}/complete/",
        {"from_location_barcode": "02-01-1", "to_location_barcode": "01-01-1", "quantity": 20},
        format="json",
    )

    assert answer.status_code == 404
    assert stranger.get("/api/v1/move-tasks/").data["results"] == []
    task.refresh_from_db()
    assert task.status == MoveTaskStatus.OPEN


def test_suggestions_filter_to_products_to_reorder(merchant, wh):
    tenant, client = merchant
    low_stock(tenant, wh)
    mug = product(tenant, "MUG")
    stock(tenant, mug, wh, "01-02-1", 5)
    rep.replenishment_run()

    everything = client.get("/api/v1/reorder-suggestions/")
    to_order = client.get("/api/v1/reorder-suggestions/?to_order=true")

    assert sorted(row["sku"] for row in everything.data["results"]) == ["MUG", "TEE"]
    assert [row["sku"] for row in to_order.data["results"]] == ["TEE"]
