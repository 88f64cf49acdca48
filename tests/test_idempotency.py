import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from fulfillment.api import idempotency
from fulfillment.api.tasks import purge_idempotency_keys
from fulfillment.tenancy.models import IdempotencyRecord
from fulfillment.tenancy.tests.factories import tenant_with_key
from inventory.tests import factories as inv
from orders import services
from orders.models import Order
from orders.tests.factories import order_payload
from tests.threads import in_context_thread, race

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api_as):
    tenant, key = tenant_with_key(slug="acme")
    inv.warehouse()
    inv.product(tenant, "TEE-RED-M")
    return api_as(key)


def test_same_key_and_body_replays_the_first_answer(client):
    first = client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_same_key_with_another_body_is_409_and_creates_nothing(client):
    client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = client.post("/api/v1/orders/", order_payload("SHOP-2"), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 409
    assert other["Content-Type"] == "application/problem+json"
    assert Order.objects.count() == 1


def test_keys_are_per_tenant(client, api_as):
    tenant, key = tenant_with_key(slug="other")
    inv.product(tenant, "TEE-RED-M")
    client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    theirs = api_as(key).post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert theirs.status_code == 201
    assert Order.objects.count() == 2


def test_a_refused_request_is_replayed_too(client):
    bad = order_payload(lines=[{"sku": "NOPE", "quantity": 1}])
    first = client.post("/api/v1/orders/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    again = client.post("/api/v1/orders/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()
    assert again["Content-Type"] == "application/problem+json"


def test_an_expired_key_is_free_for_a_new_request(client):
    first = client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-old")
    IdempotencyRecord.objects.filter(key="k-old").update(created_at=timezone.now() - timedelta(hours=25))
    other = client.post("/api/v1/orders/", order_payload("SHOP-2"), format="json", HTTP_IDEMPOTENCY_KEY="k-old")
    assert (first.status_code, other.status_code) == (201, 201)
    assert other.json()["id"] != first.json()["id"]
    assert "Idempotent-Replayed" not in other
    assert IdempotencyRecord.objects.get(key="k-old").status_code == 201


def test_purge_deletes_only_expired_keys(client):
    client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-keep")
    client.post("/api/v1/orders/", order_payload("SHOP-2"), format="json", HTTP_IDEMPOTENCY_KEY="k-drop")
    IdempotencyRecord.objects.filter(key="k-drop").update(created_at=timezone.now() - timedelta(hours=24, minutes=1))
    assert purge_idempotency_keys() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k-keep"]


def test_a_server_error_frees_the_key_for_a_retry(client, monkeypatch):
    real_create = services.order_create
    calls = []

    def fails_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return real_create(**kwargs)

    monkeypatch.setattr(services, "order_create", fails_once)
    client.raise_request_exception = False
    failed = client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-500")
    assert failed.status_code == 500
    assert not IdempotencyRecord.objects.filter(key="k-500").exists()
    retried = client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-500")
    assert retried.status_code == 201
    assert Order.objects.count() == 1


@pytest.mark.parametrize("key", ["", "a\x00b", "tab\there", "ключ", "x" * 256])
def test_a_malformed_key_is_422_and_creates_nothing(client, key):
    response = client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["Idempotency-Key"]
    assert Order.objects.count() == IdempotencyRecord.objects.count() == 0


def test_an_answer_quoting_a_nul_byte_is_kept_and_replayed(client):
    bad = order_payload(shipping_method="fast\x00")
    first = client.post("/api/v1/orders/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-nul")
    again = client.post("/api/v1/orders/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-nul")
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()
    assert "\x00" not in first.content.decode()
    assert [e["field"] for e in first.json()["errors"]] == ["shipping_method"]


def test_a_bulk_answer_quoting_a_nul_byte_is_kept_and_replayed(client):
    body = {"orders": [order_payload(), order_payload("SHOP-2", payment_status="\x00")]}
    first = client.post("/api/v1/orders/bulk/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-bulk")
    again = client.post("/api/v1/orders/bulk/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-bulk")
    assert first.status_code == again.status_code == 200
    assert [r["status"] for r in first.json()["results"]] == [201, 422]
    assert again.json() == first.json()
    assert Order.objects.count() == 1


def test_a_retry_while_the_first_is_unanswered_waits_then_gets_409_with_retry_after(client, monkeypatch):
    """Past the wait, the retry is told to come back; the first request holds the
    (owner, key) advisory lock while it runs, simulated here from another connection."""
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.3)
    client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-busy")
    IdempotencyRecord.objects.filter(key="k-busy").update(status_code=None, response_body=None)
    owner = IdempotencyRecord.objects.get(key="k-busy").owner
    with _lock_held_elsewhere(owner, "k-busy"):
        started = time.monotonic()
        response = client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-busy")
        waited = time.monotonic() - started
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "1"
    assert 0.3 <= waited < 5
    assert Order.objects.count() == 1


@contextmanager
def _lock_held_elsewhere(owner: str, key: str):
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [idempotency.lock_id(owner, key)])
                held.set()
                done.wait(timeout=30)
                cursor.execute("SELECT pg_advisory_unlock(%s)", [idempotency.lock_id(owner, key)])
        finally:
            other.close()

    thread = in_context_thread(hold)
    thread.start()
    assert held.wait(timeout=10)
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=10)


def test_an_orphaned_key_is_taken_over_by_the_retry(client):
    """A request that died mid-way left its record unanswered; its connection, and so its
    advisory lock, is gone: the retry answers the key (external_id keeps it to one order)."""
    first = client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-orphan")
    IdempotencyRecord.objects.filter(key="k-orphan").update(status_code=None, response_body=None)
    retried = client.post("/api/v1/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-orphan")
    assert retried.status_code == 409
    assert retried.json()["existing_order_id"] == first.json()["id"]
    assert IdempotencyRecord.objects.get(key="k-orphan").status_code == 409
    assert Order.objects.count() == 1


def _concurrently(n: int, call) -> list:
    outcomes = race([lambda i=i: (i, call(i)) for i in range(n)], timeout=120)
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    return [result for _, result in sorted(outcomes, key=lambda o: o[0])]


@pytest.mark.django_db(transaction=True)
def test_thirty_two_concurrent_retries_of_one_key_create_one_order_and_get_one_answer():
    tenant, key = tenant_with_key(slug="retry")
    inv.warehouse()
    inv.product(tenant, "TEE-RED-M")
    body = order_payload("RETRY-1")

    def post(_: int):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        for _attempt in range(5):
            response = client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key")
            if response.status_code != 409:
                break
            assert response["Retry-After"], response.content  # in progress past the wait: retry
            time.sleep(int(response["Retry-After"]))
        return response.status_code, response.json(), response.get("Idempotent-Replayed")

    answers = _concurrently(32, post)

    assert Order.objects.count() == 1
    order_id = str(Order.objects.get().pk)
    assert [status for status, _, _ in answers] == [201] * 32
    assert all(body == answers[0][1] for _, body, _ in answers)
    assert answers[0][1]["id"] == order_id
    assert sorted(replayed or "" for _, _, replayed in answers) == [""] + ["true"] * 31
    assert IdempotencyRecord.objects.get().status_code == 201


@pytest.mark.django_db(transaction=True)
def test_thirty_two_keys_for_one_external_id_create_one_order_and_name_it_to_the_rest():
    tenant, key = tenant_with_key(slug="dupes")
    inv.warehouse()
    inv.product(tenant, "TEE-RED-M")
    body = order_payload("DUPE-1")

    def post(i: int):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        response = client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=f"key-{i}")
        return response.status_code, response.json(), response["Content-Type"]

    answers = _concurrently(32, post)

    assert Order.objects.count() == 1
    order_id = str(Order.objects.get().pk)
    assert sorted(status for status, _, _ in answers) == [201] + [409] * 31
    for status, body, content_type in answers:
        if status == 409:
            assert content_type == "application/problem+json"
            assert body["existing_order_id"] == order_id
        else:
            assert body["id"] == order_id
    assert IdempotencyRecord.objects.count() == 32
