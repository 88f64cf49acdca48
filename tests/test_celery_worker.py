"""Real `celery -A fulfillment worker` processes on Redis and PostgreSQL: allocation over HTTP, a worker
killed mid-allocation that loses and doubles nothing, and one killed mid label purchase that buys one label."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count, F, Q, Sum

from fulfillment.celery import app as celery_app
from fulfillment.tenancy.tests.factories import tenant_with_key
from fulfillment.webhooks.models import OutboxEvent
from inventory.models import StockBalance
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders.models import Order, OrderAllocation, OrderEvent, OrderLine, Status
from orders.tasks import sweep_unallocated_orders
from orders.tests.factories import order_payload

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


QUEUES = ("allocation", "default", "webhooks", "shipping", "picking")
UNACKED_KEYS = ("unacked", "unacked_index", "unacked_mutex")


class Workers:
    """Real `celery -A fulfillment worker` processes on the test database and Redis."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []
        self.logs = []

    def start(self, **extra_env: str) -> subprocess.Popen:
        n = len(self.processes)
        env = {
            **os.environ,
            **extra_env,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "DJANGO_SETTINGS_MODULE": "fulfillment.test_settings",
        }
        log = (self.tmp_path / f"worker-{n}.log").open("w")
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "fulfillment",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"test-{os.getpid()}-{n}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        self.logs.append(log)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for n, log in enumerate(self.logs):
            log.close()
            print(f"--- worker {n} ---")
            print((self.tmp_path / f"worker-{n}.log").read_text()[-3000:])


def _empty_broker() -> None:
    with celery_app.connection_for_write() as conn:
        for queue in QUEUES:
            if _queue_exists(conn, queue):
                conn.default_channel.queue_purge(queue)
        # Messages a killed worker never acknowledged (kombu's Redis transport keeps them here
        # until the visibility timeout), so that no later run receives this run's orders.
        conn.default_channel.client.delete(*UNACKED_KEYS)


@pytest.fixture
def workers(tmp_path):
    celery_app.conf.task_always_eager = False
    _empty_broker()
    pool = Workers(tmp_path)
    yield pool
    pool.stop_all()
    _empty_broker()
    celery_app.conf.task_always_eager = True


@pytest.fixture
def worker(workers):
    return workers.start()


def _queue_exists(conn, queue) -> bool:
    try:
        conn.default_channel.queue_declare(queue=queue, passive=True)
        return True
    except Exception:
        return False


def test_real_worker_allocates_an_order_created_over_http(worker, api_as):
    tenant, key = tenant_with_key(slug="worker")
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE-RED-M")
    inv.stock(tenant, tee, wh, "01-01-1", 5)
    response = api_as(key).post("/api/v1/orders/", order_payload(), format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "received"
    deadline = time.monotonic() + 60
    status = None
    while time.monotonic() < deadline:
        status = Order.objects.get(pk=response.json()["id"]).status
        if status == Status.ALLOCATED:
            break
        assert worker.poll() is None, "the worker exited"
        time.sleep(0.5)
    assert status == Status.ALLOCATED


def _wait_for(condition, *, timeout: float, alive=(), interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for process in alive:
            assert process.poll() is None, "a worker exited"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(interval)


def test_a_worker_killed_mid_allocation_loses_and_doubles_nothing(workers, api_as):
    """200 orders queued; the first worker is SIGKILLed while it allocates (its transaction dies
    with its connection; its unacknowledged message stays in Redis until the visibility timeout);
    a second worker drains the queue while the periodic sweep runs beside it. In the end every
    order is allocated exactly once."""
    tenant, key = tenant_with_key(slug="killed")
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE")
    cap = inv.product(tenant, "CAP")
    for n, location in enumerate(["01-01-1", "01-02-1", "02-01-1", "02-02-1"]):
        inv.stock(tenant, tee, wh, location, 100, lot=f"T{n}")
    inv.stock(tenant, cap, wh, "03-01-1", 300, lot="C1")
    bodies = []
    for n in range(200):
        lines = [{"sku": "TEE", "quantity": 1 + n % 2}]
        if n % 3 == 0:
            lines.append({"sku": "CAP", "quantity": 1 + n % 4})
        bodies.append(order_payload(f"KILL-{n:03}", lines=lines))
    client = api_as(key)
    for start in (0, 100):
        response = client.post("/api/v1/orders/bulk/", {"orders": bodies[start : start + 100]}, format="json")
        assert response.status_code == 200, response.content
        assert [r["status"] for r in response.json()["results"]] == [201] * 100
    assert Order.objects.filter(status=Status.RECEIVED).count() == 200  # all waiting for a worker

    def allocated() -> int:
        return Order.objects.filter(status=Status.ALLOCATED).count()

    first = workers.start()
    _wait_for(lambda: allocated() >= 5, timeout=90, alive=[first], interval=0.02)
    first.kill()  # SIGKILL: no warm shutdown, no chance to ack or requeue
    first.wait(timeout=10)
    at_kill = allocated()
    assert at_kill < 200, "the worker finished before it could be killed"
    with celery_app.connection_for_write() as conn:
        unacked = conn.default_channel.client.hlen("unacked")
    print(f"killed with {at_kill} of 200 orders allocated and {unacked} message(s) unacknowledged")

    second = workers.start()
    _wait_for(lambda: allocated() > at_kill, timeout=90, alive=[second], interval=0.05)
    # The periodic sweep, beside the second worker: it allocates every order still waiting. Its
    # 30-second age filter (so that it leaves fresh orders to their messages) is passed by making
    # the waiting orders look older, instead of sleeping. Allocating an order twice is harmless.
    Order.objects.filter(status=Status.RECEIVED).update(updated_at=F("updated_at") - timedelta(minutes=5))
    sweep_unallocated_orders()
    _wait_for(lambda: allocated() == 200, timeout=120, alive=[second], interval=0.2)
    _wait_for(lambda: not _queued_messages(), timeout=60, alive=[second], interval=0.2)
    time.sleep(1)  # let the second worker finish the message it holds, if any

    assert Order.objects.filter(status=Status.ALLOCATED).count() == 200
    lines = OrderLine.objects.annotate(units=Sum("allocations__quantity", filter=Q(allocations__released=False)))
    assert [(line.pk, line.units) for line in lines if line.units != line.quantity] == []
    assert all(line.allocated_quantity == line.quantity and line.backordered_quantity == 0 for line in lines)
    assert not OrderAllocation.objects.filter(released=True).exists()
    per_balance = dict(
        OrderAllocation.objects.values("balance_id").annotate(units=Sum("quantity")).values_list("balance_id", "units")
    )
    balances = StockBalance.objects.filter(product__in=[tee, cap], location__is_sellable=True)
    assert {b.pk: b.allocated for b in balances if b.allocated} == per_balance
    assert all(b.allocated <= b.on_hand for b in balances)
    events = (
        OrderEvent.objects.filter(to_status=Status.ALLOCATED)
        .values("order_id")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    assert sorted(events) == [1] * 200
    assert OutboxEvent.objects.filter(type="order.allocated").count() == 200
    assert ledger_differences() == []


def _queued_messages() -> int:
    with celery_app.connection_for_write() as conn:
        return sum(conn.default_channel.client.llen(queue) for queue in QUEUES)


def test_a_worker_killed_during_a_label_purchase_leaves_one_label(workers):
    """The worker is SIGKILLed inside the carrier call. Its purchase stays ``calling``; the message,
    redelivered to a second worker, claims nothing (one live purchase per shipment); the sweep,
    once the lease has passed, buys it again with the same key: the same tracking number, one label."""
    from django.db import transaction

    from packing import services as packing_services
    from packing.tests.factories import picked_order
    from shipping.models import LabelPurchase, PurchaseStatus
    from shipping.services import purchases_recover
    from shipping.tests.factories import stocked_tenant

    tenant = stocked_tenant(inv.warehouse())
    picked = picked_order(tenant, external_id="KILL-LABEL", lines=[("TEE", 1)])
    with transaction.atomic():
        shipment = packing_services.order_pack(order_id=picked.pk, actor="test")  # enqueues the purchase

    first = workers.start(TEST_CARRIER_DELAY_SECONDS="30")
    _wait_for(lambda: LabelPurchase.objects.filter(shipment=shipment).exists(), timeout=60, alive=[first])
    first.kill()
    first.wait(timeout=10)
    purchase = LabelPurchase.objects.get(shipment=shipment)
    assert purchase.status == PurchaseStatus.CALLING

    second = workers.start()
    time.sleep(3)  # the redelivered or swept message finds the shipment claimed
    assert LabelPurchase.objects.filter(shipment=shipment).count() == 1
    # The lease has passed (on this process's clock: the worker's may differ under TEST_CLOCK).
    from django.utils import timezone

    LabelPurchase.objects.filter(pk=purchase.pk).update(started_at=timezone.now() - timedelta(hours=1))
    purchases_recover()

    purchase.refresh_from_db()
    shipment.refresh_from_db()
    assert purchase.status == PurchaseStatus.BOUGHT
    assert LabelPurchase.objects.filter(shipment=shipment).count() == 1
    assert shipment.tracking_number == purchase.tracking_numbers[0]
    assert Order.objects.get(pk=picked.pk).status == Status.SHIPPED
    assert OrderEvent.objects.filter(order=picked, to_status=Status.SHIPPED).count() == 1
    assert second.poll() is None
    assert ledger_differences() == []
