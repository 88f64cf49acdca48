"""An accepted order is never lost when the broker is down: it is committed, and the sweep allocates it."""

import pytest

from fulfillment.celery import app as celery_app
from fulfillment.tenancy.tests.factories import tenant_with_key
from fulfillment.webhooks.models import OutboxEvent
from inventory.tests import factories as inv
from orders import services
from orders.models import Order, Status
from orders.tests.factories import order_payload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("bulk", [False, True], ids=["single", "bulk"])
def test_order_is_accepted_while_the_broker_is_down_and_the_sweep_allocates_it(api_as, monkeypatch, request, bulk):
    tenant, key = tenant_with_key(slug="acme")
    wh = inv.warehouse()
    inv.stock(tenant, inv.product(tenant, "TEE-RED-M"), wh, "01-01-1", 5)
    attempts = []

    def broker_down(*args, **kwargs):
        attempts.append(kwargs)
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    celery_app.conf.task_always_eager = False
    request.addfinalizer(lambda: setattr(celery_app.conf, "task_always_eager", True))
    celery_app.loader.import_default_modules()
    for name in ("orders.tasks.allocate_order", "orders.tasks.allocate_orders"):
        monkeypatch.setattr(celery_app.tasks[name], "apply_async", broker_down)

    if bulk:
        response = api_as(key).post("/api/v1/orders/bulk/", {"orders": [order_payload()]}, format="json")
        assert response.status_code == 200
        assert response.json()["results"][0]["status"] == 201
        order_id = response.json()["results"][0]["order"]["id"]
    else:
        response = api_as(key).post("/api/v1/orders/", order_payload(), format="json")
        assert response.status_code == 201
        order_id = response.json()["id"]

    assert attempts, "the allocation message was tried and lost"
    order = Order.objects.get(pk=order_id)
    assert order.status == Status.RECEIVED  # committed, with its outbox row, though no message went out
    assert OutboxEvent.objects.filter(tenant=tenant, type="order.created").count() == 1

    celery_app.conf.task_always_eager = True
    for waiting in services.unallocated_order_ids(older_than_seconds=0):
        services.order_allocate(order_id=waiting)
    order.refresh_from_db()
    assert order.status == Status.ALLOCATED
