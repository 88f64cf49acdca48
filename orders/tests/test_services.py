import pytest

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.models import StockBalance
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders import services
from orders.models import Order, OrderEvent, Status
from orders.tests.factories import order, ship_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    tenant = TenantFactory()
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE-RED-M", barcode="0012345678905")
    return tenant, wh, tee


def _available(product):
    return sum(
        b.on_hand - b.allocated for b in StockBalance.objects.filter(product=product, location__is_sellable=True)
    )


def test_order_with_stock_is_allocated_on_commit(setup, django_capture_on_commit_callbacks):
    tenant, wh, tee = setup
    inv.stock(tenant, tee, wh, "01-01-1", 5)
    with django_capture_on_commit_callbacks(execute=True):
        created = order(tenant, external_id="A1", lines=[("TEE-RED-M", 2)])
    created.refresh_from_db()
    assert created.status == Status.ALLOCATED
    assert created.lines.get().allocated_quantity == 2
    assert _available(tee) == 3
    assert list(OrderEvent.objects.filter(order=created).values_list("type", flat=True)) == [
        "created",
        "status_changed",
    ]


def test_order_without_stock_is_backordered_then_allocated_when_stock_arrives(
    setup, django_capture_on_commit_callbacks
):
    tenant, wh, tee = setup
    with django_capture_on_commit_callbacks(execute=True):
        created = order(tenant, external_id="A2", lines=[("TEE-RED-M", 4)])
    created.refresh_from_db()
    assert created.status == Status.BACKORDERED
    assert created.lines.get().backordered_quantity == 4
    with django_capture_on_commit_callbacks(execute=True):
        inv.stock(tenant, tee, wh, "01-02-1", 4)
    created.refresh_from_db()
    assert created.status == Status.ALLOCATED
    assert _available(tee) == 0


def test_pending_payment_holds_order_and_paid_patch_releases_it(setup, django_capture_on_commit_callbacks):
    tenant, wh, tee = setup
    inv.stock(tenant, tee, wh, "01-01-1", 5)
    with django_capture_on_commit_callbacks(execute=True):
        created = order(tenant, external_id="A3", lines=[("TEE-RED-M", 1)], payment_status="pending")
    created.refresh_from_db()
    assert (created.status, created.hold_reasons) == (Status.ON_HOLD, ["payment_pending"])
    with django_capture_on_commit_callbacks(execute=True):
        services.order_update(order_id=created.pk, tenant_id=tenant.pk, payment_status="paid")
    created.refresh_from_db()
    assert (created.status, created.hold_reasons) == (Status.ALLOCATED, [])


def test_invalid_address_holds_order_with_field_errors(setup, django_capture_on_commit_callbacks):
    tenant, wh, tee = setup
    with django_capture_on_commit_callbacks(execute=True):
        created = order(tenant, external_id="A4", lines=[("TEE-RED-M", 1)], ship_to=ship_to(postal_code="12345"))
    created.refresh_from_db()
    assert created.status == Status.ON_HOLD
    assert created.hold_reasons == ["address_invalid"]
    assert created.address_errors[0]["field"] == "ship_to.postal_code"


def test_cancel_releases_allocated_stock(setup, django_capture_on_commit_callbacks):
    tenant, wh, tee = setup
    inv.stock(tenant, tee, wh, "01-01-1", 3)
    with django_capture_on_commit_callbacks(execute=True):
        created = order(tenant, external_id="A5", lines=[("TEE-RED-M", 3)])
    assert _available(tee) == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(order_id=created.pk, tenant_id=tenant.pk)
    assert Order.objects.get(pk=created.pk).status == Status.CANCELLED
    assert _available(tee) == 3
    assert ledger_differences() == []


def test_allocation_writes_timeline_outbox_and_a_delivery_per_subscribed_endpoint(
    setup, django_capture_on_commit_callbacks
):
    from fulfillment.webhooks.models import OutboxEvent, WebhookDelivery, WebhookEndpoint

    tenant, wh, tee = setup
    inv.stock(tenant, tee, wh, "01-01-1", 5)
    every = WebhookEndpoint.objects.create(tenant=tenant, url="https://a.example.com/h", events=[], secret="whsec_x")
    WebhookEndpoint.objects.create(tenant=tenant, url="https://b.example.com/h", events=["order.shipped"], secret="s")
    created = order(tenant, external_id="W1", lines=[("TEE-RED-M", 2)])
    assert services.order_allocate(order_id=created.pk) == Status.ALLOCATED
    event = OutboxEvent.objects.get(tenant=tenant, type="order.allocated")
    assert event.data == {
        "id": str(created.pk),
        "number": created.number,
        "external_id": "W1",
        "status": "allocated",
        "hold_reasons": [],
    }
    assert list(WebhookDelivery.objects.filter(event=event).values_list("endpoint_id", flat=True)) == [every.pk]
    timeline = list(OrderEvent.objects.filter(order=created).values_list("type", "from_status", "to_status"))
    assert timeline[-1] == ("status_changed", "received", "allocated")
    assert services.order_allocate(order_id=created.pk) == Status.ALLOCATED  # twice is harmless
    assert OutboxEvent.objects.filter(type="order.allocated").count() == 1
    assert StockBalance.objects.get(location__code="01-01-1").allocated == 2


def test_backorder_writes_lines_timeline_and_outbox_once(setup):
    from fulfillment.webhooks.models import OutboxEvent

    tenant, wh, tee = setup
    inv.stock(tenant, tee, wh, "01-01-1", 1)
    created = order(tenant, external_id="B1", lines=[("TEE-RED-M", 3)])
    assert services.order_allocate(order_id=created.pk) == Status.BACKORDERED
    assert services.order_allocate(order_id=created.pk) == Status.BACKORDERED  # still short: nothing new
    line = created.lines.get()
    assert (line.allocated_quantity, line.backordered_quantity) == (0, 3)
    event = OutboxEvent.objects.get(tenant=tenant, type="order.backordered")
    assert event.data["status"] == "backordered" and event.data["number"] == created.number
    assert OrderEvent.objects.filter(order=created, to_status="backordered").count() == 1
    assert StockBalance.objects.get(location__code="01-01-1").allocated == 0
