"""Issue 4 order processing: partial shipments, manual holds, bulk intake."""

import pytest

from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token, tenant_with_key
from fulfillment.webhooks.models import OutboxEvent
from inventory.models import StockBalance
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders import services
from orders.api.serializers import OrderListSerializer
from orders.models import HoldReason, Order, OrderEvent, Status
from orders.tests.factories import order, order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    tenant = TenantFactory()
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE-RED-M", barcode="0012345678905")
    mug = inv.product(tenant, "MUG-1")
    return tenant, wh, tee, mug


def _allocated(product):
    return sum(StockBalance.objects.filter(product=product).values_list("allocated", flat=True))


# -- partial shipments ------------------------------------------------------------------------


def test_ship_complete_tenant_backorders_the_whole_order_when_one_line_is_short(
    setup, django_capture_on_commit_callbacks
):
    tenant, wh, tee, mug = setup
    inv.stock(tenant, tee, wh, "01-01-1", 5)
    with django_capture_on_commit_callbacks(execute=True):
        created = order(tenant, external_id="S1", lines=[("TEE-RED-M", 2), ("MUG-1", 1)])
    created.refresh_from_db()
    assert created.status == Status.BACKORDERED
    assert _allocated(tee) == 0
    assert not Order.objects.filter(parent=created).exists()


def test_partial_shipment_tenant_splits_the_order_into_allocated_and_backordered_parts(
    setup, django_capture_on_commit_callbacks
):
    tenant, wh, tee, mug = setup
    tenant.allow_partial_shipments = True
    tenant.save()
    inv.stock(tenant, tee, wh, "01-01-1", 3)
    with django_capture_on_commit_callbacks(execute=True):
        created = order(tenant, external_id="S2", lines=[("TEE-RED-M", 5), ("MUG-1", 1)])
    created.refresh_from_db()
    assert created.status == Status.ALLOCATED
    assert [(line.sku, line.quantity, line.allocated_quantity) for line in created.lines.all()] == [("TEE-RED-M", 3, 3)]
    split = Order.objects.get(parent=created)
    assert split.status == Status.BACKORDERED
    assert split.external_id == "S2"
    assert split.number == f"{created.number}-2"
    assert split.created_at == created.created_at
    assert sorted((line.sku, line.quantity, line.backordered_quantity) for line in split.lines.all()) == [
        ("MUG-1", 1, 1),
        ("TEE-RED-M", 2, 2),
    ]
    assert _allocated(tee) == 3
    assert OrderEvent.objects.filter(order=created, type="split").exists()
    assert OutboxEvent.objects.filter(type="order.backordered", data__id=str(split.pk)).exists()
    # The split is allocated in its turn when the rest arrives.
    with django_capture_on_commit_callbacks(execute=True):
        inv.stock(tenant, tee, wh, "01-02-1", 2)
        inv.stock(tenant, mug, wh, "01-03-1", 1)
    split.refresh_from_db()
    assert split.status == Status.ALLOCATED
    assert ledger_differences() == []


def test_partial_shipment_tenant_with_nothing_in_stock_waits_unsplit(setup, django_capture_on_commit_callbacks):
    tenant, wh, tee, mug = setup
    tenant.allow_partial_shipments = True
    tenant.save()
    with django_capture_on_commit_callbacks(execute=True):
        created = order(tenant, external_id="S3", lines=[("TEE-RED-M", 5)])
    created.refresh_from_db()
    assert created.status == Status.BACKORDERED
    assert not Order.objects.filter(parent=created).exists()


def test_a_new_order_may_reuse_no_external_id_of_a_split(setup, django_capture_on_commit_callbacks):
    tenant, wh, tee, mug = setup
    tenant.allow_partial_shipments = True
    tenant.save()
    inv.stock(tenant, tee, wh, "01-01-1", 1)
    with django_capture_on_commit_callbacks(execute=True):
        order(tenant, external_id="S4", lines=[("TEE-RED-M", 2)])
    with pytest.raises(services.DuplicateOrder):
        order(tenant, external_id="S4", lines=[("TEE-RED-M", 1)])


# -- manual holds -----------------------------------------------------------------------------


def test_manual_hold_releases_stock_and_release_allocates_again(setup, django_capture_on_commit_callbacks):
    tenant, wh, tee, mug = setup
    inv.stock(tenant, tee, wh, "01-01-1", 5)
    with django_capture_on_commit_callbacks(execute=True):
        created = order(tenant, external_id="H1", lines=[("TEE-RED-M", 2)])
    with django_capture_on_commit_callbacks(execute=True):
        services.order_hold(order_id=created.pk, reason="fraud check", actor="manager")
    created.refresh_from_db()
    assert created.status == Status.ON_HOLD
    assert created.hold_reasons == [HoldReason.MANUAL]
    assert _allocated(tee) == 0
    assert OrderEvent.objects.filter(order=created, message="Manual hold: fraud check").exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_release(order_id=created.pk, actor="manager", reason="cleared")
    created.refresh_from_db()
    assert created.status == Status.ALLOCATED
    assert _allocated(tee) == 2


def test_releasing_a_manual_hold_keeps_a_payment_hold(setup, django_capture_on_commit_callbacks):
    tenant, wh, tee, mug = setup
    with django_capture_on_commit_callbacks(execute=True):
        created = order(tenant, external_id="H2", lines=[("TEE-RED-M", 1)], payment_status="pending")
        services.order_hold(order_id=created.pk, reason="call shopper")
    services.order_release(order_id=created.pk)
    created.refresh_from_db()
    assert created.status == Status.ON_HOLD
    assert created.hold_reasons == [HoldReason.PAYMENT_PENDING]


def test_hold_needs_a_reason_and_an_order_not_yet_picking(setup):
    tenant, wh, tee, mug = setup
    created = order(tenant, external_id="H3", lines=[("TEE-RED-M", 1)])
    with pytest.raises(services.OrderError):
        services.order_hold(order_id=created.pk, reason="  ")
    Order.objects.filter(pk=created.pk).update(status=Status.SHIPPED)
    with pytest.raises(services.InvalidTransition):
        services.order_hold(order_id=created.pk, reason="late")
    assert Order.objects.get(pk=created.pk).status == Status.SHIPPED


def test_only_managers_hold_and_release_through_the_api(setup, api_as):
    tenant, wh, tee, mug = setup
    created = order(tenant, external_id="H4", lines=[("TEE-RED-M", 1)])
    _, associate = staff_with_token(username="assoc", role="associate", warehouse=wh)
    _, manager = staff_with_token(username="boss", role="manager", warehouse=wh)
    url = f"/api/v1/orders/{created.pk}/hold/"
    assert api_as(associate).post(url, {"reason": "x"}, format="json").status_code == 403
    answer = api_as(manager).post(url, {"reason": "address check"}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "on_hold"
    again = api_as(manager).post(f"/api/v1/orders/{created.pk}/release/", {}, format="json")
    assert again.status_code == 200
    assert again.json()["status"] in {"received", "backordered", "allocated"}
    refused = api_as(manager).post(f"/api/v1/orders/{created.pk}/release/", {}, format="json")
    assert refused.status_code == 409


# -- bulk intake --------------------------------------------------------------------------------


def test_bulk_answers_match_the_order_api_and_repeats_point_at_the_first(setup, api_as):
    tenant, key = tenant_with_key()
    inv.warehouse("BULK")
    inv.product(tenant, "TEE-RED-M")
    items = [
        order_payload("B-1"),
        order_payload("B-2", lines=[{"sku": "NOPE", "quantity": 1}]),
        order_payload("B-1"),
        order_payload("B-3", payment_status="pending"),
        {"external_id": "B-4", "lines": "nope"},
        None,
    ]
    answer = api_as(key).post("/api/v1/orders/bulk/", {"orders": items}, format="json")
    assert answer.status_code == 200, answer.content
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [201, 422, 409, 201, 422, 422]
    assert results[1]["errors"][0]["field"] == "lines[0].sku"
    first = results[0]["order"]
    assert results[2]["existing_order_id"] == first["id"]
    stored = OrderListSerializer(Order.objects.get(pk=first["id"])).data
    assert first == dict(stored)
    held = Order.objects.get(pk=results[3]["order"]["id"])
    assert held.status == Status.ON_HOLD and held.hold_reasons == [HoldReason.PAYMENT_PENDING]
    assert results[3]["order"] == dict(OrderListSerializer(held).data)
    assert Order.objects.filter(tenant=tenant).count() == 2
    assert OutboxEvent.objects.filter(type="order.created").count() == 2
    assert OutboxEvent.objects.filter(type="order.on_hold").count() == 1


# -- cancellation after picking -----------------------------------------------------------------


def test_cancel_after_picking_leaves_units_in_packing_with_a_put_back_task(setup, django_capture_on_commit_callbacks):
    from inventory.models import MoveTask, MoveTaskKind
    from inventory.services import move_task_complete
    from orders.models import OrderAllocation

    tenant, wh, tee, mug = setup
    inv.stock(tenant, tee, wh, "01-01-1", 5)
    with django_capture_on_commit_callbacks(execute=True):
        created = order(tenant, external_id="C1", lines=[("TEE-RED-M", 2)])
    services.order_mark_picking(order_id=created.pk)
    allocation = OrderAllocation.objects.get(line__order=created)
    services.allocation_pick(allocation_id=allocation.pk, quantity=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(order_id=created.pk, reason="shopper changed mind")
    task = MoveTask.objects.get(kind=MoveTaskKind.PUT_BACK)
    assert (task.from_location.code, task.to_location.code, task.quantity) == ("PACKING", "01-01-1", 2)
    shelf = StockBalance.objects.get(product=tee, location__code="01-01-1")
    assert (shelf.on_hand, shelf.allocated) == (3, 0)
    assert OrderEvent.objects.filter(order=created, type="put_back").exists()
    move_task_complete(
        task_id=task.pk, from_location_barcode="PACKING", to_location_barcode="01-01-1", quantity=2, actor="assoc"
    )
    shelf.refresh_from_db()
    assert shelf.on_hand == 5
    assert ledger_differences() == []


# -- re-allocation order -------------------------------------------------------------------------


def test_arriving_stock_goes_to_backorders_by_priority_then_first_ordered(setup, django_capture_on_commit_callbacks):
    tenant, wh, tee, mug = setup
    with django_capture_on_commit_callbacks(execute=True):
        first_express = order(tenant, external_id="F1", lines=[("TEE-RED-M", 2)], shipping_method="express")
        standard = order(tenant, external_id="F2", lines=[("TEE-RED-M", 2)], shipping_method="standard")
        later_express = order(tenant, external_id="F3", lines=[("TEE-RED-M", 2)], shipping_method="express")
    for created in (first_express, standard, later_express):
        created.refresh_from_db()
        assert created.status == Status.BACKORDERED
    with django_capture_on_commit_callbacks(execute=True):
        inv.stock(tenant, tee, wh, "01-01-1", 2)
    statuses = {o.external_id: o.status for o in Order.objects.filter(tenant=tenant)}
    assert statuses == {"F1": Status.ALLOCATED, "F2": Status.BACKORDERED, "F3": Status.BACKORDERED}
    with django_capture_on_commit_callbacks(execute=True):
        inv.stock(tenant, tee, wh, "01-02-1", 2)
    statuses = {o.external_id: o.status for o in Order.objects.filter(tenant=tenant)}
    assert statuses == {"F1": Status.ALLOCATED, "F2": Status.BACKORDERED, "F3": Status.ALLOCATED}


# -- shopper e-mails ------------------------------------------------------------------------------


def test_a_tenant_with_shopper_emails_sends_one_confirmation_per_new_order(
    setup, django_capture_on_commit_callbacks, mailoutbox
):
    tenant, wh, tee, mug = setup
    tenant.shopper_emails = True
    tenant.email_from = "shop@example.com"
    tenant.save()
    with django_capture_on_commit_callbacks(execute=True):
        order(tenant, external_id="E1", lines=[("TEE-RED-M", 1)])
    assert [m.to for m in mailoutbox] == [["Ada Lovelace <ada@example.com>"]]
    assert "E1" in mailoutbox[0].subject
    other = TenantFactory()
    inv.product(other, "TEE-RED-M")
    with django_capture_on_commit_callbacks(execute=True):
        order(other, external_id="E2", lines=[("TEE-RED-M", 1)])
    assert len(mailoutbox) == 1


def test_a_new_order_cannot_take_units_an_earlier_backorder_of_its_priority_waits_for(
    setup, django_capture_on_commit_callbacks
):
    tenant, wh, tee, mug = setup
    with django_capture_on_commit_callbacks(execute=True):
        order(tenant, external_id="Q1", lines=[("TEE-RED-M", 2)], shipping_method="express")
    # Stock arrives, but the re-allocation message has not run yet when a later order comes in.
    with django_capture_on_commit_callbacks(execute=False):
        inv.stock(tenant, tee, wh, "01-01-1", 2)
    with django_capture_on_commit_callbacks(execute=True):
        order(tenant, external_id="Q2", lines=[("TEE-RED-M", 1)], shipping_method="express")
        order(tenant, external_id="Q3", lines=[("TEE-RED-M", 1)], shipping_method="same_day")
    statuses = {o.external_id: o.status for o in Order.objects.filter(tenant=tenant)}
    # The same-day order outranks the waiting express one; the later express order waits its turn.
    assert statuses == {"Q1": Status.BACKORDERED, "Q2": Status.BACKORDERED, "Q3": Status.ALLOCATED}
    # One more unit completes the first express order; the later one still waits for the next.
    with django_capture_on_commit_callbacks(execute=True):
        inv.stock(tenant, tee, wh, "01-02-1", 1)
    statuses = {o.external_id: o.status for o in Order.objects.filter(tenant=tenant)}
    assert statuses == {"Q1": Status.ALLOCATED, "Q2": Status.BACKORDERED, "Q3": Status.ALLOCATED}
    with django_capture_on_commit_callbacks(execute=True):
        inv.stock(tenant, tee, wh, "01-03-1", 1)
    assert Order.objects.get(tenant=tenant, external_id="Q2").status == Status.ALLOCATED


def test_a_backorder_that_stock_cannot_cover_does_not_stop_smaller_orders_behind_it(
    setup, django_capture_on_commit_callbacks
):
    tenant, wh, tee, mug = setup
    with django_capture_on_commit_callbacks(execute=True):
        big = order(tenant, external_id="BIG", lines=[("TEE-RED-M", 500)])
        inv.stock(tenant, tee, wh, "01-01-1", 3)
        small = order(tenant, external_id="SMALL", lines=[("TEE-RED-M", 1)])
    big.refresh_from_db()
    small.refresh_from_db()
    assert (big.status, small.status) == (Status.BACKORDERED, Status.ALLOCATED)


def test_a_backorder_short_of_another_product_holds_back_nothing_from_later_orders(
    setup, django_capture_on_commit_callbacks
):
    tenant, wh, tee, mug = setup
    inv.stock(tenant, tee, wh, "01-01-1", 1)
    with django_capture_on_commit_callbacks(execute=True):
        order(tenant, external_id="Q1", lines=[("TEE-RED-M", 1), ("MUG-1", 1)])
        # Q1 cannot ship until mugs arrive, so the tee it also wants is not kept for it.
        order(tenant, external_id="Q2", lines=[("TEE-RED-M", 1)])
    statuses = {o.external_id: o.status for o in Order.objects.filter(tenant=tenant)}
    assert statuses == {"Q1": Status.BACKORDERED, "Q2": Status.ALLOCATED}


def test_a_backorder_that_stock_now_covers_keeps_every_product_it_needs_from_later_orders(
    setup, django_capture_on_commit_callbacks
):
    tenant, wh, tee, mug = setup
    with django_capture_on_commit_callbacks(execute=True):
        order(tenant, external_id="Q1", lines=[("TEE-RED-M", 1), ("MUG-1", 2)])
    # Both products arrive before the re-allocation message runs; later orders wait behind Q1.
    with django_capture_on_commit_callbacks(execute=False):
        inv.stock(tenant, tee, wh, "01-01-1", 1)
        inv.stock(tenant, mug, wh, "01-02-1", 2)
    with django_capture_on_commit_callbacks(execute=True):
        order(tenant, external_id="Q2", lines=[("TEE-RED-M", 1)])
        order(tenant, external_id="Q3", lines=[("MUG-1", 1)])
    statuses = {o.external_id: o.status for o in Order.objects.filter(tenant=tenant)}
    assert statuses == {"Q1": Status.BACKORDERED, "Q2": Status.BACKORDERED, "Q3": Status.BACKORDERED}
    with django_capture_on_commit_callbacks(execute=True):
        services.reallocate_backorders(warehouse_id=wh.pk, product_ids=[tee.pk, mug.pk])
    assert Order.objects.get(tenant=tenant, external_id="Q1").status == Status.ALLOCATED


def test_a_later_order_with_two_lines_of_a_product_leaves_a_covered_backorder_its_units(
    setup, django_capture_on_commit_callbacks
):
    tenant, wh, tee, mug = setup
    with django_capture_on_commit_callbacks(execute=True):
        order(tenant, external_id="Q1", lines=[("TEE-RED-M", 2)])
    # Three tees arrive before the re-allocation message runs: enough for Q1, one to spare.
    with django_capture_on_commit_callbacks(execute=False):
        inv.stock(tenant, tee, wh, "01-01-1", 3)
    with django_capture_on_commit_callbacks(execute=True):
        order(tenant, external_id="Q2", lines=[("TEE-RED-M", 1), ("TEE-RED-M", 1)])
    statuses = {o.external_id: o.status for o in Order.objects.filter(tenant=tenant)}
    # Q2 wants two and only one is spare: Q1 keeps its two, whatever the shape of Q2's lines.
    assert statuses == {"Q1": Status.BACKORDERED, "Q2": Status.BACKORDERED}
    assert _allocated(tee) == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.reallocate_backorders(warehouse_id=wh.pk, product_ids=[tee.pk])
    statuses = {o.external_id: o.status for o in Order.objects.filter(tenant=tenant)}
    assert statuses == {"Q1": Status.ALLOCATED, "Q2": Status.BACKORDERED}
