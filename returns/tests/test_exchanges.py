"""An exchange: the new order the shopper gets for the units sent back, held until they arrive
(or at once for a trusted shopper), and the return resolved by it."""

from decimal import Decimal

import pytest

from fulfillment.webhooks.models import OutboxEvent
from orders import services as orders
from orders.models import HoldReason, Order, OrderEvent
from orders.models import Status as OrderStatus
from orders.tests.factories import order as new_order
from returns import services
from returns.models import Resolution, Return, ReturnPolicy, ReturnRefund, ReturnStatus
from returns.tests.factories import ship

pytestmark = pytest.mark.django_db

WANTED = [{"sku": "TEE-RED-M", "quantity": 1}]


def policy(tenant, **fields) -> ReturnPolicy:
    values = {"resolutions": list(Resolution.values), "reasons": ["Too small"], **fields}
    return ReturnPolicy.objects.update_or_create(tenant=tenant, defaults=values)[0]


def exchange(shop, *, quantity=1, wanted=WANTED) -> Return:
    return services.return_create(
        tenant_id=shop.tenant.pk,
        order_id=shop.order.pk,
        lines=[{"sku": "TEE-RED-M", "quantity": quantity, "reason": "Too small"}],
        resolution=Resolution.EXCHANGE,
        exchange_lines=wanted,
        actor="api_key:abc",
    )


def receive(rma, quantity=1, grade="new") -> Return:
    return services.return_receive(
        return_id=rma.pk,
        lines=[{"sku": "TEE-RED-M", "quantity": quantity, "condition": grade, "disposition": "restock"}],
        actor="alice",
    )


def test_an_exchange_is_a_new_order_for_the_same_shopper_held_until_the_return_arrives(
    shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rma = exchange(shop, wanted=[{"sku": "TEE-RED-M", "quantity": 1}, {"sku": "MUG-BLUE", "quantity": 2}])

    new = rma.exchange_order
    new.refresh_from_db()
    assert new.external_id == f"SHOP-1-EX-{rma.number}"
    assert (new.tenant_id, new.warehouse_id, new.ship_to, new.currency) == (
        shop.tenant.pk,
        shop.wh.pk,
        shop.order.ship_to,
        shop.order.currency,
    )
    assert (new.payment_status, new.shipping_method) == ("paid", shop.order.shipping_method)
    assert list(new.lines.order_by("pk").values_list("sku", "quantity", "unit_price")) == [
        ("TEE-RED-M", 1, Decimal("0.00")),
        ("MUG-BLUE", 2, Decimal("0.00")),
    ]
    # Held, not allocated, although the allocation message ran on commit.
    assert (new.status, new.hold_reasons) == (OrderStatus.ON_HOLD, [HoldReason.MANUAL])
    assert not new.lines.filter(allocated_quantity__gt=0).exists()
    hold = OrderEvent.objects.get(order=new, to_status="on_hold")
    assert hold.message == f"Manual hold: Awaiting return {rma.number}"
    note = OrderEvent.objects.get(order=shop.order, type="exchange_created")
    assert note.message == (
        f"Exchange order {new.number} for return {rma.number}: 1 x TEE-RED-M, 2 x MUG-BLUE; "
        "it waits for the return to arrive"
    )
    created = OutboxEvent.objects.get(type="return.created")
    assert created.data["resolution"] == "exchange"
    assert created.data["exchange_order"] == {"id": str(new.pk), "number": new.number, "status": "on_hold"}
    assert created.data["refund"] is None
    assert not OutboxEvent.objects.filter(type="return.exchanged").exists()


def test_the_first_parcel_releases_the_exchange_order_which_allocates_and_ships(
    shop, django_capture_on_commit_callbacks
):
    rma = exchange(shop, quantity=2)

    with django_capture_on_commit_callbacks(execute=True):
        received = receive(rma, 1)

    new = Order.objects.get(pk=rma.exchange_order_id)
    assert received.status == ReturnStatus.RECEIVED
    assert (new.status, new.hold_reasons) == (OrderStatus.ALLOCATED, [])
    released = OrderEvent.objects.get(order=new, from_status="on_hold", to_status="received")
    assert (released.message, released.actor) == (f"Manual hold released: return {rma.number} received", "alice")
    announced = OutboxEvent.objects.get(type="return.exchanged")
    assert announced.data["id"] == str(rma.pk)
    assert announced.data["exchange_order"]["id"] == str(new.pk)
    assert announced.data["exchange_order"]["number"] == new.number
    assert ship(new).status == OrderStatus.SHIPPED


def test_the_return_is_exchanged_once_every_unit_is_in_and_no_refund_is_due(shop):
    rma = exchange(shop, quantity=2)
    receive(rma, 1)

    done = receive(rma, 1, grade="opened")

    assert done.status == ReturnStatus.EXCHANGED and done.inspected_at is not None
    assert not ReturnRefund.objects.filter(rma=rma).exists()
    # Released once, on the first parcel.
    assert OutboxEvent.objects.filter(type="return.exchanged").count() == 1
    with pytest.raises(services.ReturnError) as refused:
        services.return_refund(return_id=rma.pk, tenant_id=shop.tenant.pk, actor="ada")
    assert (refused.value.status, refused.value.errors[0]["code"]) == (409, "exchange")
    assert Return.objects.get(pk=rma.pk).status == ReturnStatus.EXCHANGED


def test_a_trusted_shopper_gets_the_exchange_order_at_once(shop, django_capture_on_commit_callbacks):
    policy(shop.tenant, exchange_before_receipt=True)

    with django_capture_on_commit_callbacks(execute=True):
        rma = exchange(shop)

    new = Order.objects.get(pk=rma.exchange_order_id)
    assert new.status == OrderStatus.ALLOCATED
    assert [e.type for e in OutboxEvent.objects.filter(type__startswith="return.").order_by("created_at")] == [
        "return.created",
        "return.exchanged",
    ]
    assert OutboxEvent.objects.get(type="return.exchanged").data["exchange_order"]["number"] == new.number
    receive(rma)
    assert OutboxEvent.objects.filter(type="return.exchanged").count() == 1
    assert Return.objects.get(pk=rma.pk).status == ReturnStatus.EXCHANGED


def test_a_hold_a_manager_put_after_releasing_early_is_not_lifted_by_the_return(shop):
    rma = exchange(shop)
    orders.order_release(order_id=rma.exchange_order_id, actor="manager", reason="good customer")
    orders.order_hold(order_id=rma.exchange_order_id, reason="address check", actor="manager")

    receive(rma)

    new = Order.objects.get(pk=rma.exchange_order_id)
    assert (new.status, new.hold_reasons) == (OrderStatus.ON_HOLD, [HoldReason.MANUAL])
    assert not OutboxEvent.objects.filter(type="return.exchanged").exists()


def test_closing_an_exchange_nothing_came_back_for_cancels_its_held_order(shop):
    rma = exchange(shop)

    services.return_close(return_id=rma.pk, tenant_id=shop.tenant.pk, note="never sent", actor="ada")

    new = Order.objects.get(pk=rma.exchange_order_id)
    assert new.status == OrderStatus.CANCELLED
    note = OrderEvent.objects.get(order=shop.order, type="return_closed")
    assert note.message == f"Return {rma.number} closed: never sent; exchange order {new.number} cancelled"


def test_closing_a_trusted_exchange_leaves_its_order_to_ship(shop, django_capture_on_commit_callbacks):
    policy(shop.tenant, exchange_before_receipt=True)
    with django_capture_on_commit_callbacks(execute=True):
        rma = exchange(shop)

    services.return_close(return_id=rma.pk, tenant_id=shop.tenant.pk, actor="ada")

    assert Order.objects.get(pk=rma.exchange_order_id).status == OrderStatus.ALLOCATED


def test_an_exchange_whose_order_id_is_taken_is_refused_and_nothing_changes(shop, monkeypatch):
    monkeypatch.setattr(services.rmas, "_new_number", lambda: "RMA-TAKEN000")
    new_order(shop.tenant, external_id="SHOP-1-EX-RMA-TAKEN000", lines=[("MUG-BLUE", 1)])
    before = (Return.objects.count(), Order.objects.count(), OutboxEvent.objects.count(), OrderEvent.objects.count())

    with pytest.raises(services.ReturnError) as refused:
        exchange(shop)

    assert refused.value.status == 409
    assert refused.value.errors[0]["field"] == "exchange_lines"
    after = (Return.objects.count(), Order.objects.count(), OutboxEvent.objects.count(), OrderEvent.objects.count())
    assert after == before


def test_a_long_external_id_is_shortened_to_fit_the_suffix(shop):
    long_id = "X" * 100
    order = Order(external_id=long_id)

    external_id = services.exchange_external_id(order, Return(number="RMA-ABCDEF12"))

    assert len(external_id) == 100 and external_id.endswith("-EX-RMA-ABCDEF12")
