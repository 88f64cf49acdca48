"""Replenishment services: demand history, suggestions and alerts, purchase orders, pick faces, move tasks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from fulfillment.tenancy.tests.factories import TenantFactory
from fulfillment.webhooks.models import OutboxEvent
from inventory import services
from inventory.models import (
    AlertKind,
    DemandDay,
    InboundShipment,
    MovementReason,
    MoveTask,
    MoveTaskKind,
    MoveTaskStatus,
    PickFace,
    Product,
    PurchaseOrderStatus,
    ReorderSuggestion,
    StockAlert,
    StockBalance,
    StockMovement,
    Supplier,
)
from inventory.services import replenishment as rep
from inventory.tests.factories import product, warehouse

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 31)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def receive(tenant, prod, wh, location: str, quantity: int, *, when: datetime | None = None, lot="", expiry=None):
    with mock.patch("django.utils.timezone.now", return_value=when or at(TODAY - timedelta(days=60))):
        shipment = services.inbound_create(
            tenant_id=tenant.pk, warehouse=wh, lines=[services.InboundLineInput(sku=prod.sku, quantity=quantity)]
        )
        services.inbound_receive(
            shipment_id=shipment.pk,
            lines=[
                services.ReceiptLineInput(
                    sku=prod.sku, quantity=quantity, location=location, lot=lot, expiry_date=expiry
                )
            ],
        )


def ship(tenant, prod, wh, quantity: int, day: date, *, location: str = "01-01-1", hour: int = 12):
    """Units leave the building to the customer on ``day`` (as order_mark_shipped does from PACKING)."""
    balance = StockBalance.objects.filter(product=prod, location__code=location, location__warehouse=wh).first()
    with mock.patch("django.utils.timezone.now", return_value=at(day, hour)):
        services.stock_transfer(
            tenant_id=tenant.pk,
            product_id=prod.pk,
            lot_id=balance.lot_id,
            warehouse_id=wh.pk,
            source_code=location,
            target_code="V-CUSTOMER",
            quantity=quantity,
            reason=MovementReason.SHIPMENT,
        )


def demand_rows():
    return sorted(
        (row.product.sku, row.warehouse.code, row.day, row.quantity)
        for row in DemandDay.objects.select_related("product", "warehouse")
    )


@pytest.fixture
def tenant():
    return TenantFactory()


@pytest.fixture
def wh():
    return warehouse("MAIN", aisles=3, bays=3, levels=1)


# -- demand history --------------------------------------------------------------------------


def test_demand_refresh_sums_shipped_units_per_product_warehouse_and_day(tenant, wh):
    # Given two products shipped on two days, a pick that is not a shipment, and a shipment too old
    tee, mug = product(tenant, "TEE"), product(tenant, "MUG")
    receive(tenant, tee, wh, "01-01-1", 100)
    receive(tenant, mug, wh, "01-01-1", 100)
    ship(tenant, tee, wh, 3, TODAY - timedelta(days=2), hour=1)
    ship(tenant, tee, wh, 2, TODAY - timedelta(days=2), hour=23)
    ship(tenant, tee, wh, 4, TODAY - timedelta(days=1))
    ship(tenant, mug, wh, 1, TODAY - timedelta(days=1))
    ship(tenant, mug, wh, 9, TODAY - timedelta(days=10))
    services.stock_transfer(
        tenant_id=tenant.pk,
        product_id=tee.pk,
        lot_id=StockBalance.objects.filter(product=tee, location__code="01-01-1").first().lot_id,
        warehouse_id=wh.pk,
        source_code="01-01-1",
        target_code="PACKING",
        quantity=5,
        reason=MovementReason.PICK,
    )

    # When demand is refreshed over the last 5 days
    written = rep.demand_refresh(days=5, today=TODAY)

    # Then one row per product and day with shipments, none for the pick or the old shipment
    assert written == 3
    assert demand_rows() == [
        ("MUG", "MAIN", TODAY - timedelta(days=1), 1),
        ("TEE", "MAIN", TODAY - timedelta(days=2), 5),
        ("TEE", "MAIN", TODAY - timedelta(days=1), 4),
    ]


def test_demand_refresh_run_twice_gives_the_same_rows(tenant, wh):
    tee = product(tenant, "TEE")
    receive(tenant, tee, wh, "01-01-1", 100)
    ship(tenant, tee, wh, 3, TODAY - timedelta(days=1))
    rep.demand_refresh(days=30, today=TODAY)
    first = demand_rows()

    # When it runs again after one more shipment the same day
    ship(tenant, tee, wh, 2, TODAY - timedelta(days=1), hour=15)
    rep.demand_refresh(days=30, today=TODAY)
    rep.demand_refresh(days=30, today=TODAY)

    assert first == [("TEE", "MAIN", TODAY - timedelta(days=1), 3)]
    assert demand_rows() == [("TEE", "MAIN", TODAY - timedelta(days=1), 5)]


def test_demand_is_kept_per_tenant(tenant, wh):
    other = TenantFactory()
    tee, other_tee = product(tenant, "TEE"), product(other, "TEE")
    receive(tenant, tee, wh, "01-01-1", 10)
    receive(other, other_tee, wh, "01-01-1", 10)
    ship(tenant, tee, wh, 3, TODAY - timedelta(days=1))
    ship(other, other_tee, wh, 7, TODAY - timedelta(days=1))

    rep.demand_refresh(days=30, today=TODAY)

    assert DemandDay.objects.get(tenant=tenant).quantity == 3
    assert DemandDay.objects.get(tenant=other).quantity == 7


# -- suggestions and alerts ------------------------------------------------------------------


def constant_demand(tenant, wh, *, sku="TEE", per_day=5, days=30, start_stock=170):
    prod = product(tenant, sku)
    receive(tenant, prod, wh, "01-01-1", start_stock)
    for offset in range(days, 0, -1):
        ship(tenant, prod, wh, per_day, TODAY - timedelta(days=offset))
    rep.demand_refresh(today=TODAY)
    return prod


def test_constant_demand_gives_exact_reorder_point_and_suggestion(tenant, wh):
    # Given 5 units shipped every day for 30 days and 20 left (default lead time 7 days)
    tee = constant_demand(tenant, wh)

    summary = rep.replenishment_run(today=TODAY)

    suggestion = ReorderSuggestion.objects.get(product=tee, warehouse=wh)
    assert summary.suggestions == 1
    assert suggestion.model == "mean"
    assert suggestion.daily_demand == Decimal("5.000")
    assert (suggestion.available, suggestion.inbound) == (20, 0)
    assert suggestion.safety_stock == 0
    assert suggestion.reorder_point == 35
    assert suggestion.days_of_cover == Decimal("4.0")
    assert suggestion.suggested_quantity == 50
    assert suggestion.forecast[0] == {"day": "2026-03-31", "quantity": 5.0}
    assert len(suggestion.forecast) == 28


def test_supplier_lead_time_sets_the_reorder_point(tenant, wh):
    tee = constant_demand(tenant, wh)
    tee.supplier = rep.supplier_create(tenant_id=tenant.pk, name="Acme", lead_time_days=3)
    tee.save(update_fields=["supplier"])

    rep.replenishment_run(today=TODAY)

    suggestion = ReorderSuggestion.objects.get(product=tee)
    # 3 days x 5 = 15 <= 20 available: not yet
    assert (suggestion.reorder_point, suggestion.suggested_quantity) == (15, 0)


def test_low_stock_alert_opens_once_with_one_webhook_and_resolves_when_stock_recovers(tenant, wh):
    tee = constant_demand(tenant, wh)

    # When the nightly run happens twice
    rep.replenishment_run(today=TODAY)
    rep.replenishment_run(today=TODAY)

    # Then one open alert and one outbox event
    alert = StockAlert.objects.get(product=tee, kind=AlertKind.LOW_STOCK)
    assert alert.resolved_at is None
    events = list(OutboxEvent.objects.filter(tenant=tenant, type="inventory.low_stock"))
    assert len(events) == 1
    assert events[0].data == {
        "product": str(tee.pk),
        "sku": "TEE",
        "warehouse": "MAIN",
        "available": 20,
        "inbound": 0,
        "reorder_point": 35,
        "suggested_quantity": 50,
        "days_of_cover": 4.0,
    }

    # When 100 units arrive and the run happens again
    receive(tenant, tee, wh, "01-02-1", 100, when=at(TODAY))
    summary = rep.replenishment_run(today=TODAY)

    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert summary.low_stock_resolved == 1
    assert OutboxEvent.objects.filter(type="inventory.low_stock").count() == 1
    assert ReorderSuggestion.objects.get(product=tee).suggested_quantity == 0


def test_inbound_stock_counts_towards_the_low_stock_position(tenant, wh):
    tee = constant_demand(tenant, wh)
    services.inbound_create(
        tenant_id=tenant.pk, warehouse=wh, lines=[services.InboundLineInput(sku="TEE", quantity=16)]
    )

    rep.replenishment_run(today=TODAY)

    suggestion = ReorderSuggestion.objects.get(product=tee)
    assert (suggestion.available, suggestion.inbound, suggestion.suggested_quantity) == (20, 16, 0)
    assert not StockAlert.objects.filter(product=tee).exists()


def test_a_merchant_reorder_point_raises_low_stock_without_any_demand(tenant, wh):
    mug = product(tenant, "MUG", reorder_point=10)
    receive(tenant, mug, wh, "01-01-1", 8)

    rep.replenishment_run(today=TODAY)

    suggestion = ReorderSuggestion.objects.get(product=mug)
    assert (suggestion.model, suggestion.reorder_point, suggestion.days_of_cover) == ("mean", 0, None)
    assert StockAlert.objects.filter(product=mug, kind=AlertKind.LOW_STOCK, resolved_at=None).count() == 1
    assert OutboxEvent.objects.filter(type="inventory.low_stock").count() == 1


def test_a_product_with_stock_and_no_demand_raises_nothing(tenant, wh):
    mug = product(tenant, "MUG")
    receive(tenant, mug, wh, "01-01-1", 8)

    rep.replenishment_run(today=TODAY)

    assert ReorderSuggestion.objects.get(product=mug).suggested_quantity == 0
    assert StockAlert.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def test_run_for_one_tenant_leaves_other_tenants_alone(tenant, wh):
    other = TenantFactory()
    constant_demand(tenant, wh)
    constant_demand(other, wh)

    rep.replenishment_run(tenant_id=tenant.pk, today=TODAY)

    assert list(ReorderSuggestion.objects.values_list("tenant_id", flat=True)) == [tenant.pk]
    assert list(StockAlert.objects.values_list("tenant_id", flat=True)) == [tenant.pk]


def test_expiring_lots_raise_a_dashboard_alert_without_webhook_and_resolve_when_gone(tenant, wh):
    # Given an expiry-tracked product with a lot expiring in 20 days and one in 60 days
    milk = product(tenant, "MILK", expiry_tracked=True, lot_tracked=True)
    receive(tenant, milk, wh, "01-01-1", 5, lot="L-SOON", expiry=TODAY + timedelta(days=20))
    receive(tenant, milk, wh, "01-02-1", 5, lot="L-LATER", expiry=TODAY + timedelta(days=60))

    summary = rep.replenishment_run(today=TODAY)

    alerts = list(StockAlert.objects.filter(kind=AlertKind.EXPIRING))
    assert summary.expiring_opened == 1
    assert [a.lot.code for a in alerts] == ["L-SOON"]
    assert alerts[0].message == "MILK lot L-SOON: 5 units expire 2026-04-20"
    assert OutboxEvent.objects.count() == 0

    # When the expiring units are written off and the run happens again
    _write_off(tenant, milk, wh, "01-01-1", 5)
    rep.replenishment_run(today=TODAY)

    alerts[0].refresh_from_db()
    assert alerts[0].resolved_at is not None
    assert StockAlert.objects.filter(kind=AlertKind.EXPIRING, resolved_at=None).count() == 0


def _write_off(tenant, prod, wh, location: str, quantity: int):
    balance = StockBalance.objects.get(product=prod, location__code=location)
    services.stock_transfer(
        tenant_id=tenant.pk,
        product_id=prod.pk,
        lot_id=balance.lot_id,
        warehouse_id=wh.pk,
        source_code=location,
        target_code="V-SCRAP",
        quantity=quantity,
        reason=MovementReason.DISPOSAL,
    )


def test_minimum_shelf_life_widens_the_expiry_window(tenant, wh):
    # Given a minimum shelf life of 50 days: the window is 64 days
    milk = product(tenant, "MILK", expiry_tracked=True, lot_tracked=True)
    Product.objects.filter(pk=milk.pk).update(min_shelf_life_days=50)
    receive(tenant, milk, wh, "01-01-1", 5, lot="L-SOON", expiry=TODAY + timedelta(days=20))
    receive(tenant, milk, wh, "01-02-1", 5, lot="L-LATER", expiry=TODAY + timedelta(days=60))
    receive(tenant, milk, wh, "01-03-1", 5, lot="L-FAR", expiry=TODAY + timedelta(days=65))

    rep.replenishment_run(today=TODAY)
    rep.replenishment_run(today=TODAY)

    codes = sorted(StockAlert.objects.filter(kind=AlertKind.EXPIRING).values_list("lot__code", flat=True))
    assert codes == ["L-LATER", "L-SOON"]


# -- suppliers and purchase orders -----------------------------------------------------------


def test_sending_a_purchase_order_creates_its_asn_once(tenant, wh):
    tee, mug = product(tenant, "TEE"), product(tenant, "MUG")
    supplier = rep.supplier_create(tenant_id=tenant.pk, name="Acme")
    po = rep.purchase_order_create(
        tenant_id=tenant.pk,
        supplier=supplier,
        warehouse=wh,
        lines=[rep.PurchaseLineInput("TEE", 10), rep.PurchaseLineInput("MUG", 4), rep.PurchaseLineInput("TEE", 2)],
    )
    assert (po.number, po.status) == ("PO-00001", PurchaseOrderStatus.DRAFT)

    sent = rep.purchase_order_send(purchase_order_id=po.pk, tenant_id=tenant.pk)

    assert sent.status == PurchaseOrderStatus.SENT
    assert sent.sent_at is not None
    asn = InboundShipment.objects.get()
    assert sent.inbound_shipment_id == asn.pk
    assert sorted((line.product.sku, line.quantity) for line in asn.lines.all()) == [("MUG", 4), ("TEE", 12)]
    assert asn.reference == "PO-00001 Acme"

    with pytest.raises(services.InventoryError) as refused:
        rep.purchase_order_send(purchase_order_id=po.pk, tenant_id=tenant.pk)
    assert refused.value.code == "not_draft"
    assert InboundShipment.objects.count() == 1
    assert {tee.pk, mug.pk} == set(asn.lines.values_list("product_id", flat=True))


def test_another_tenant_cannot_send_a_purchase_order(tenant, wh):
    product(tenant, "TEE")
    supplier = rep.supplier_create(tenant_id=tenant.pk, name="Acme")
    po = rep.purchase_order_create(
        tenant_id=tenant.pk, supplier=supplier, warehouse=wh, lines=[rep.PurchaseLineInput("TEE", 1)]
    )

    with pytest.raises(services.InventoryError) as refused:
        rep.purchase_order_send(purchase_order_id=po.pk, tenant_id=TenantFactory().pk)

    assert refused.value.code == "not_found"
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.DRAFT
    assert InboundShipment.objects.count() == 0


def test_suggestions_become_draft_purchase_orders_grouped_by_supplier(tenant, wh):
    acme = rep.supplier_create(tenant_id=tenant.pk, name="Acme")
    bolt = rep.supplier_create(tenant_id=tenant.pk, name="Bolt")
    tee = constant_demand(tenant, wh, sku="TEE")
    mug = constant_demand(tenant, wh, sku="MUG", per_day=2, start_stock=70)
    cap = constant_demand(tenant, wh, sku="CAP", per_day=1, start_stock=32)
    for prod, supplier in ((tee, acme), (mug, acme), (cap, bolt)):
        prod.supplier = supplier
        prod.save(update_fields=["supplier"])
    rep.replenishment_run(today=TODAY)
    ids = list(ReorderSuggestion.objects.order_by("product__sku").values_list("pk", flat=True))

    orders = rep.purchase_orders_from_suggestions(tenant_id=tenant.pk, suggestion_ids=ids)

    got = sorted(
        (po.supplier.name, po.status, sorted((line.product.sku, line.quantity) for line in po.lines.all()))
        for po in orders
    )
    # TEE: 20 left, rp 35 -> 50; MUG: 10 left, rp 14 -> 18; CAP: 2 left, rp 7 -> 12
    assert got == [
        ("Acme", "draft", [("MUG", 18), ("TEE", 50)]),
        ("Bolt", "draft", [("CAP", 12)]),
    ]


def test_suggestion_without_supplier_is_refused_and_creates_nothing(tenant, wh):
    constant_demand(tenant, wh)
    rep.replenishment_run(today=TODAY)
    suggestion = ReorderSuggestion.objects.get()

    with pytest.raises(services.InventoryError) as refused:
        rep.purchase_orders_from_suggestions(tenant_id=tenant.pk, suggestion_ids=[suggestion.pk])

    assert (refused.value.field, refused.value.code) == ("suggestions[0]", "no_supplier")
    assert Supplier.objects.count() == 0


# -- pick faces and move tasks ---------------------------------------------------------------


@pytest.fixture
def face_setup(tenant, wh):
    """A pick face at 01-01-1 (min 5, max 20) holding 2; storage holds an older lot (8) and a newer one (30)."""
    tee = product(tenant, "TEE", barcode="4006381333931")
    receive(tenant, tee, wh, "01-01-1", 2, lot="L-FACE", when=at(TODAY - timedelta(days=90)))
    receive(tenant, tee, wh, "02-01-1", 30, lot="L-NEW", when=at(TODAY - timedelta(days=10)))
    receive(tenant, tee, wh, "03-01-1", 8, lot="L-OLD", when=at(TODAY - timedelta(days=40)))
    face = rep.pick_face_create(
        tenant_id=tenant.pk,
        product=tee,
        location=wh.locations.get(code="01-01-1"),
        min_quantity=5,
        max_quantity=20,
    )
    return tee, face


def on_hand(prod, code: str) -> int:
    return sum(StockBalance.objects.filter(product=prod, location__code=code).values_list("on_hand", flat=True))


def test_pick_face_under_its_minimum_gets_one_task_from_the_oldest_lot(tenant, wh, face_setup):
    tee, face = face_setup

    created = rep.pick_faces_replenish()
    again = rep.pick_faces_replenish()

    task = MoveTask.objects.get()
    assert (created, again) == (1, 0)
    assert task.kind == MoveTaskKind.REPLENISHMENT
    assert (task.from_location.code, task.to_location.code, task.lot.code) == ("03-01-1", "01-01-1", "L-OLD")
    # min(max 20 - on hand 2, 8 unreserved at 03-01-1)
    assert task.quantity == 8
    assert task.status == MoveTaskStatus.OPEN


def test_reserved_units_are_not_taken_for_replenishment(tenant, wh, face_setup):
    tee, face = face_setup
    old = StockBalance.objects.get(product=tee, location__code="03-01-1")
    StockBalance.objects.filter(pk=old.pk).update(allocated=8)

    rep.pick_faces_replenish()

    task = MoveTask.objects.get()
    assert (task.from_location.code, task.lot.code, task.quantity) == ("02-01-1", "L-NEW", 18)


def test_pick_face_at_or_above_minimum_gets_no_task(tenant, wh, face_setup):
    tee, face = face_setup
    PickFace.objects.filter(pk=face.pk).update(min_quantity=2)

    assert rep.pick_faces_replenish() == 0
    assert MoveTask.objects.count() == 0


def test_completing_the_move_task_moves_stock_through_the_ledger(tenant, wh, face_setup):
    tee, face = face_setup
    rep.pick_faces_replenish()
    task = MoveTask.objects.get()

    done = rep.move_task_complete(
        task_id=task.pk,
        from_location_barcode="03-01-1",
        product_barcode="4006381333931",
        to_location_barcode="01-01-1",
        quantity=8,
        actor="ana",
    )

    assert (done.status, done.quantity, done.done_by) == (MoveTaskStatus.DONE, 8, "ana")
    assert (on_hand(tee, "01-01-1"), on_hand(tee, "03-01-1"), on_hand(tee, "02-01-1")) == (10, 0, 30)
    movement = StockMovement.objects.get(reason=MovementReason.REPLENISHMENT)
    assert (movement.from_location.code, movement.to_location.code, movement.quantity) == ("03-01-1", "01-01-1", 8)
    assert services.ledger_differences() == []
    # 10 >= min 5: nothing more to do
    assert rep.pick_faces_replenish() == 0


def test_completing_a_task_twice_is_refused(tenant, wh, face_setup):
    rep.pick_faces_replenish()
    task = MoveTask.objects.get()
    scans = {"from_location_barcode": "03-01-1", "to_location_barcode": "01-01-1", "quantity": 8}
    rep.move_task_complete(task_id=task.pk, **scans)

    with pytest.raises(services.InventoryError) as refused:
        rep.move_task_complete(task_id=task.pk, **scans)

    assert refused.value.code == "not_open"
    assert StockMovement.objects.filter(reason=MovementReason.REPLENISHMENT).count() == 1


@pytest.mark.parametrize(
    ("scans", "field"),
    [
        ({"from_location_barcode": "02-01-1", "to_location_barcode": "01-01-1"}, "from_location_barcode"),
        ({"from_location_barcode": "03-01-1", "to_location_barcode": "01-02-1"}, "to_location_barcode"),
        (
            {"from_location_barcode": "03-01-1", "to_location_barcode": "01-01-1", "product_barcode": "999"},
            "product_barcode",
        ),
        ({"from_location_barcode": "03-01-1", "to_location_barcode": "01-01-1", "quantity": 9}, "quantity"),
    ],
)
def test_wrong_scan_changes_nothing(tenant, wh, face_setup, scans, field):
    tee, face = face_setup
    rep.pick_faces_replenish()
    task = MoveTask.objects.get()
    movements = StockMovement.objects.count()
    balances = sorted(StockBalance.objects.values_list("pk", "on_hand", "allocated"))

    with pytest.raises(services.InventoryError) as refused:
        rep.move_task_complete(task_id=task.pk, **{"quantity": 8, **scans})

    assert refused.value.field == field
    task.refresh_from_db()
    assert (task.status, task.quantity) == (MoveTaskStatus.OPEN, 8)
    assert StockMovement.objects.count() == movements
    assert sorted(StockBalance.objects.values_list("pk", "on_hand", "allocated")) == balances


def test_units_reserved_after_the_task_was_created_are_not_moved(tenant, wh, face_setup):
    tee, face = face_setup
    rep.pick_faces_replenish()
    task = MoveTask.objects.get()
    StockBalance.objects.filter(product=tee, location__code="03-01-1").update(allocated=3)

    with pytest.raises(services.InsufficientStock):
        rep.move_task_complete(
            task_id=task.pk, from_location_barcode="03-01-1", to_location_barcode="01-01-1", quantity=8
        )

    task.refresh_from_db()
    assert task.status == MoveTaskStatus.OPEN
    assert on_hand(tee, "03-01-1") == 8


def test_deleting_a_pick_face_cancels_its_open_task(tenant, wh, face_setup):
    tee, face = face_setup
    rep.pick_faces_replenish()

    rep.pick_face_delete(pick_face_id=face.pk)

    assert PickFace.objects.count() == 0
    assert MoveTask.objects.get().status == MoveTaskStatus.CANCELLED


def test_nightly_task_refreshes_demand_and_suggestions(tenant, wh, django_capture_on_commit_callbacks):
    from inventory.tasks.replenishment import nightly_replenishment

    tee = product(tenant, "TEE")
    receive(tenant, tee, wh, "01-01-1", 10)
    ship(tenant, tee, wh, 4, timezone.now().date() - timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        result = nightly_replenishment.delay().get()

    assert result["demand_days"] == 1
    assert result["suggestions"] == 1
    assert ReorderSuggestion.objects.get(product=tee).daily_demand == Decimal("4.000")


def test_pick_face_task_is_registered_under_its_scheduled_name(
    tenant, wh, face_setup, django_capture_on_commit_callbacks
):
    from fulfillment.celery import app

    app.loader.import_default_modules()
    with django_capture_on_commit_callbacks(execute=True):
        created = app.tasks["inventory.tasks.replenish_pick_faces"].delay().get()

    assert created == 1
    assert MoveTask.objects.count() == 1


def test_a_suggestion_for_a_product_no_longer_stocked_is_removed(tenant, wh):
    gone = product(tenant, "GONE")
    ReorderSuggestion.objects.create(
        tenant=tenant,
        product=gone,
        warehouse=wh,
        computed_at=at(TODAY - timedelta(days=1)),
        model="mean",
        daily_demand=0,
        available=0,
        inbound=0,
        safety_stock=0,
        reorder_point=0,
        suggested_quantity=0,
    )
    constant_demand(tenant, wh)

    rep.replenishment_run(today=TODAY)

    assert list(ReorderSuggestion.objects.values_list("product__sku", flat=True)) == ["TEE"]


def test_a_product_with_a_reorder_point_and_no_stock_at_all_raises_a_low_stock_alert():
    from fulfillment.tenancy.tests.factories import TenantFactory
    from fulfillment.webhooks.models import OutboxEvent
    from inventory.models import AlertKind, StockAlert
    from inventory.services import replenishment as service
    from inventory.tests import factories as inv_factories

    tenant = TenantFactory(default_warehouse_code="MAIN")
    inv_factories.warehouse("MAIN")
    inv_factories.warehouse("WEST")
    product = inv_factories.product(tenant, "NEVER-STOCKED", reorder_point=5)
    service.replenishment_run()
    alert = StockAlert.objects.get(product=product)
    assert (alert.kind, alert.warehouse.code) == (AlertKind.LOW_STOCK, "MAIN")
    assert OutboxEvent.objects.filter(tenant=tenant, type="inventory.low_stock").count() == 1
