import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from fulfillment.tenancy import rls
from fulfillment.tenancy.tests.factories import TenantFactory, tenant_with_key
from fulfillment.webhooks import services
from fulfillment.webhooks.models import DeliveryStatus, OutboxEvent, WebhookDelivery
from tests.threads import race

pytestmark = pytest.mark.django_db


def _delivery(endpoint) -> WebhookDelivery:
    return WebhookDelivery.objects.get(endpoint=endpoint)


def _publish(tenant, type="order.shipped", data=None):
    return services.event_publish(tenant_id=tenant.pk, type=type, data=data or {"id": "o-1", "number": "0001001"})


def test_delivery_end_to_end_is_signed_per_standard_webhooks(api_as, receiver, loopback_allowed):
    tenant, key = tenant_with_key(slug="acme")
    created = api_as(key).post(
        "/api/v1/webhook-endpoints/", {"url": receiver.url, "events": ["order.shipped"]}, format="json"
    )
    secret = created.json()["secret"]
    event = _publish(tenant)
    delivery = WebhookDelivery.objects.get()

    status = services.delivery_attempt(delivery_id=delivery.pk)

    assert status == "succeeded"
    [request] = receiver.requests
    assert request.path == "/hooks/fulfillment"
    assert request.headers["webhook-id"] == event.message_id
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload == {
        "id": event.message_id,
        "type": "order.shipped",
        "timestamp": event.created_at.isoformat(),
        "data": {"id": "o-1", "number": "0001001"},
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(services.new_secret()).verify(request.body, request.headers)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        DeliveryStatus.SUCCEEDED,
        1,
        200,
        "",
    )
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_delivery_runs_in_celery_when_the_event_commits(receiver, loopback_allowed, django_capture_on_commit_callbacks):
    tenant = TenantFactory()
    services.endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=[])

    with django_capture_on_commit_callbacks(execute=True):
        _publish(tenant)

    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED


def test_event_reaches_only_endpoints_that_want_it(receiver, loopback_allowed):
    tenant = TenantFactory()
    wants = services.endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=["order.shipped"])
    services.endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=["return.created"])
    services.endpoint_create(tenant_id=TenantFactory().pk, url=receiver.url, events=[])

    _publish(tenant)

    assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [wants.pk]


def test_server_error_schedules_a_retry_with_backoff(receiver, loopback_allowed):
    tenant = TenantFactory()
    endpoint = services.endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=[])
    _publish(tenant)
    receiver.status = 500
    before = timezone.now()

    status = services.delivery_attempt(delivery_id=_delivery(endpoint).pk)

    delivery = _delivery(endpoint)
    assert status == "pending"
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        DeliveryStatus.PENDING,
        1,
        500,
        "HTTP 500",
    )
    assert before + timedelta(seconds=5) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=6)
    # Not due yet: a second call (a duplicate message, the sweep) does not knock again.
    assert services.delivery_attempt(delivery_id=delivery.pk) == "not_due"
    assert len(receiver.requests) == 1
    assert services.deliveries_due() == []


def test_retry_after_the_backoff_succeeds(receiver, loopback_allowed):
    tenant = TenantFactory()
    endpoint = services.endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=[])
    _publish(tenant)
    receiver.status = 503
    services.delivery_attempt(delivery_id=_delivery(endpoint).pk)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    receiver.status = 204

    assert services.deliveries_due() == [str(_delivery(endpoint).pk)]
    assert services.delivery_attempt(delivery_id=_delivery(endpoint).pk) == "succeeded"
    assert _delivery(endpoint).attempts == 2
    assert [r.headers["webhook-id"] for r in receiver.requests] == [OutboxEvent.objects.get().message_id] * 2


def test_last_attempt_that_fails_gives_up(receiver, loopback_allowed):
    tenant = TenantFactory()
    endpoint = services.endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=[])
    _publish(tenant)
    WebhookDelivery.objects.update(attempts=len(services.BACKOFF))
    receiver.status = 500

    assert services.delivery_attempt(delivery_id=_delivery(endpoint).pk) == "failed"
    delivery = _delivery(endpoint)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 11, None)


def test_gone_disables_the_endpoint_and_stops_its_deliveries(receiver, loopback_allowed):
    tenant = TenantFactory()
    endpoint = services.endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=[])
    _publish(tenant)
    _publish(tenant, type="order.delivered")
    first, second = WebhookDelivery.objects.order_by("created_at", "pk")
    receiver.status = 410

    assert services.delivery_attempt(delivery_id=first.pk) == "failed"
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "the endpoint answered 410 Gone")
    # A delivery already queued for the endpoint fails without knocking again; new events make none.
    assert services.delivery_attempt(delivery_id=second.pk) == "failed"
    second.refresh_from_db()
    assert (second.attempts, second.last_error) == (0, "endpoint disabled")
    _publish(tenant)
    assert WebhookDelivery.objects.count() == 2
    assert len(receiver.requests) == 1


def test_redirects_are_not_followed(receiver, loopback_allowed):
    tenant = TenantFactory()
    endpoint = services.endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=[])
    _publish(tenant)
    receiver.status = 302
    receiver.headers = {"location": f"http://127.0.0.1:{receiver.port}/elsewhere"}

    assert services.delivery_attempt(delivery_id=_delivery(endpoint).pk) == "pending"
    assert [r.path for r in receiver.requests] == ["/hooks/fulfillment"]
    assert (_delivery(endpoint).last_status_code, _delivery(endpoint).last_error) == (302, "HTTP 302")


def test_delivery_that_succeeded_is_not_sent_again(receiver, loopback_allowed):
    tenant = TenantFactory()
    endpoint = services.endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=[])
    _publish(tenant)
    services.delivery_attempt(delivery_id=_delivery(endpoint).pk)

    assert services.delivery_attempt(delivery_id=_delivery(endpoint).pk) == "skipped"
    assert len(receiver.requests) == 1


@pytest.fixture
def dns(monkeypatch):
    """The outside world's DNS: ``dns["hooks.example.test"] = "1.2.3.4"``; other names resolve normally."""
    records: dict[str, str] = {}
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in records:
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (records[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return records


def test_host_name_is_delivered_to_the_checked_address_with_its_host_header(receiver, loopback_allowed, dns):
    dns["hooks.example.test"] = "127.0.0.1"
    tenant = TenantFactory()
    endpoint = services.endpoint_create(
        tenant_id=tenant.pk, url=f"http://hooks.example.test:{receiver.port}/in?src=ff", events=[]
    )
    _publish(tenant)

    assert services.delivery_attempt(delivery_id=_delivery(endpoint).pk) == "succeeded"
    [request] = receiver.requests
    assert request.path == "/in?src=ff"
    assert request.headers["host"] == f"hooks.example.test:{receiver.port}"


def test_host_that_now_resolves_to_a_private_address_is_not_contacted(receiver, dns):
    dns["hooks.example.test"] = "93.184.215.14"
    tenant = TenantFactory()
    endpoint = services.endpoint_create(
        tenant_id=tenant.pk, url=f"http://hooks.example.test:{receiver.port}/in", events=[]
    )
    _publish(tenant)
    dns["hooks.example.test"] = "127.0.0.1"  # DNS rebinding after the check at creation

    assert services.delivery_attempt(delivery_id=_delivery(endpoint).pk) == "pending"
    assert receiver.requests == []
    assert _delivery(endpoint).last_error == "hooks.example.test resolves to a non-public address (127.0.0.1)"


def test_unknown_event_type_cannot_be_published():
    tenant = TenantFactory()

    with pytest.raises(services.WebhookError):
        services.event_publish(tenant_id=tenant.pk, type="order.exploded", data={})

    assert OutboxEvent.objects.count() == 0


def test_payload_is_compact_json_with_iso_timestamps(receiver, loopback_allowed):
    tenant = TenantFactory()
    endpoint = services.endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=[])
    _publish(tenant, data={"when": datetime(2026, 1, 2, tzinfo=UTC)})

    services.delivery_attempt(delivery_id=_delivery(endpoint).pk)

    [request] = receiver.requests
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body)["data"] == {"when": "2026-01-02T00:00:00Z"}
    assert b" " not in request.body


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_knock_once(receiver, loopback_allowed):

    tenant = TenantFactory()
    endpoint = services.endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=[])
    _publish(tenant)  # outside a transaction the on-commit task delivers at once: start that delivery afresh
    WebhookDelivery.objects.update(status="pending", attempts=0, delivered_at=None, next_attempt_at=timezone.now())
    receiver.requests.clear()
    delivery_id = _delivery(endpoint).pk
    results = race([lambda: services.delivery_attempt(delivery_id=delivery_id)] * 4, timeout=30, barrier_timeout=10)

    assert results.count("succeeded") == 1
    assert set(results) <= {"succeeded", "skipped", "not_due"}
    assert len(receiver.requests) == 1
    assert _delivery(endpoint).attempts == 1


@pytest.mark.django_db(transaction=True)
def test_no_row_lock_is_held_while_the_receiver_answers(receiver, loopback_allowed):
    from django.db import connection, transaction

    tenant = TenantFactory()
    endpoint = services.endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=[])
    _publish(tenant)
    WebhookDelivery.objects.update(status="pending", attempts=0, delivered_at=None, next_attempt_at=timezone.now())
    seen = []

    def look_from_another_connection():
        # Runs in the server's thread (its own connection) while the attempt waits for the answer;
        # it looks as an operator would (row-level security: a thread starts with no scope).
        try:
            with rls.operator(), transaction.atomic():
                row = WebhookDelivery.objects.select_for_update(nowait=True).get(endpoint=endpoint)
                seen.append((row.attempts, row.next_attempt_at > timezone.now(), services.deliveries_due()))
        finally:
            connection.close()

    receiver.on_request = look_from_another_connection

    assert services.delivery_attempt(delivery_id=_delivery(endpoint).pk) == "succeeded"
    # The attempt was counted and leased before the request: not locked, and not due for the sweep.
    assert seen == [(1, True, [])]
