"""A real `celery -A fulfillment worker` process, on Redis, allocates an order created over HTTP."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from fulfillment.celery import app as celery_app
from fulfillment.tenancy.tests.factories import tenant_with_key
from inventory.tests import factories as inv
from orders.models import Order, Status
from orders.tests.factories import order_payload

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    celery_app.conf.task_always_eager = False
    with celery_app.connection_for_write() as conn:
        for queue in ("allocation", "default", "webhooks", "shipping", "picking"):
            if _queue_exists(conn, queue):
                conn.default_channel.queue_purge(queue)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "fulfillment.test_settings",
    }
    log = (tmp_path / "worker.log").open("w")
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
            "--hostname",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    celery_app.conf.task_always_eager = True
    log.close()
    print((tmp_path / "worker.log").read_text()[-4000:])


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
