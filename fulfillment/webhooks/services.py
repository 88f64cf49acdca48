"""The outbox: events written with the change, delivered by Celery with Standard Webhooks signatures."""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import random
import secrets
import socket
import ssl
import uuid
from datetime import timedelta
from urllib.parse import urlparse

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from fulfillment.bulk import copy_rows
from fulfillment.errors import Refusal
from fulfillment.jobs import enqueue
from fulfillment.webhooks import locks
from fulfillment.webhooks.models import (
    EVENT_TYPES,
    DeliveryStatus,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)

# Seconds before attempt n+1 (n = attempts so far), roughly x4 each time; up to JITTER more is
# added at random so that many deliveries failing together do not retry in lockstep. After the
# last: failed (about 2 days in all).
BACKOFF = [5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600]
JITTER = 0.2


class WebhookError(Refusal):
    """A refused endpoint: 422, ``errors`` naming the fields at fault ([{field, code, message}]); or a
    refused retry: 409, the delivery or its endpoint is not in a state to be retried."""

    CONFLICTS = frozenset({"already_delivered", "endpoint_disabled"})

    def __init__(self, message: str, *, errors: list[dict] | None = None, code: str = "invalid"):
        super().__init__(message, code=code, errors=errors, status=409 if code in self.CONFLICTS else None)


class NotFound(WebhookError):
    """No such delivery or endpoint in the tenant (another tenant's looks exactly the same)."""

    status = 404
    detail = "Not found."  # what the API says of any object it does not show

    def __init__(self, message: str = "not found"):
        super().__init__(message, code="not_found")


def retry_delay(attempts: int) -> float:
    """Seconds to wait after ``attempts`` failed attempts: the backoff step plus 0-20 % jitter."""
    return BACKOFF[attempts - 1] * random.uniform(1.0, 1.0 + JITTER)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _allowed_networks() -> list:
    # The setting holds ip_network objects (from env_networks); CIDR strings are accepted too.
    return [
        net
        if isinstance(net, ipaddress.IPv4Network | ipaddress.IPv6Network)
        else ipaddress.ip_network(net, strict=False)
        for net in settings.WEBHOOK_ALLOWED_NETWORKS
    ]


def _resolve(url: str) -> tuple[list[str], str | None]:
    """(addresses to connect to, None) when every address of the host is public or allowed; else ([], why not)."""
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        return [], "URL must be http(s) with a host"
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError:
        return [], "URL has an invalid port"
    try:
        infos = socket.getaddrinfo(parsed.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return [], f"host {parsed.hostname} does not resolve"
    allowed = _allowed_networks()
    addresses: list[str] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not any(address in net for net in allowed) and not address.is_global:
            return [], f"{parsed.hostname} resolves to a non-public address ({address})"
        if str(address) not in addresses:
            addresses.append(str(address))
    return addresses, None


def _url_allowed(url: str) -> str | None:
    """None when every address the host resolves to is public or explicitly allowed; else why not."""
    return _resolve(url)[1]


@transaction.atomic
def endpoint_create(*, tenant_id, url: str, events: list[str]) -> WebhookEndpoint:
    """An endpoint for ``events`` (empty: every event). Refuses unknown events and non-public targets."""
    errors = [
        {"field": f"events[{index}]", "code": "unknown_event", "message": f"unknown event type {event!r}"}
        for index, event in enumerate(events)
        if event not in EVENT_TYPES
    ]
    if errors:
        raise WebhookError("unknown event types", errors=errors)
    if len(url) > WebhookEndpoint._meta.get_field("url").max_length:
        raise WebhookError("URL too long", errors=[{"field": "url", "code": "max_length", "message": "URL too long"}])
    problem = _url_allowed(url)
    if problem:
        raise WebhookError(problem, errors=[{"field": "url", "code": "url_not_allowed", "message": problem}])
    return WebhookEndpoint.objects.create(
        tenant_id=tenant_id, url=url, events=list(dict.fromkeys(events)), secret=new_secret()
    )


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def _uuid_or_none(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


@transaction.atomic
def endpoint_enable(*, endpoint_id, tenant_id) -> WebhookEndpoint:
    """Turn a disabled endpoint back on. New events reach it again; nothing already failed is
    re-sent by itself (the merchant retries the deliveries they want). A no-op when active."""
    pk = _uuid_or_none(endpoint_id)
    endpoint = locks.endpoint_lock(endpoint_id=pk, tenant_id=tenant_id) if pk else None
    if endpoint is None:
        raise NotFound("no such webhook endpoint")
    if not endpoint.is_active:
        endpoint.is_active = True
        endpoint.disabled_reason = ""
        endpoint.disabled_at = None
        endpoint.failing_since = None
        endpoint.save(update_fields=["is_active", "disabled_reason", "disabled_at", "failing_since"])
    return endpoint


@transaction.atomic
def delivery_retry(*, delivery_id, tenant_id) -> WebhookDelivery:
    """Queue a failed or pending delivery for an attempt now (Stripe's "Resend").

    The attempt count and the last answer are kept; an exhausted delivery gets one more attempt
    (and fails again at once if that one fails). Refused for a delivery that already succeeded
    and for one whose endpoint is disabled (enable the endpoint first).
    """
    pk = _uuid_or_none(delivery_id)
    delivery = locks.delivery_lock(delivery_id=pk, tenant_id=tenant_id) if pk else None
    if delivery is None:
        raise NotFound("no such webhook delivery")
    if delivery.status == DeliveryStatus.SUCCEEDED:
        raise WebhookError("this delivery already succeeded; there is nothing to retry", code="already_delivered")
    if not delivery.endpoint.is_active:
        raise WebhookError(
            "the endpoint is disabled; enable it before retrying its deliveries", code="endpoint_disabled"
        )
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at"])
    enqueue("fulfillment.webhooks.tasks.deliver_webhook", delivery_id=str(delivery.id))
    return delivery


def deliveries_sql(*, events: str, event_type: str) -> str:
    """Who receives an event, the one definition: an INSERT of one pending delivery, next attempt
    %(now)s, per row of ``events`` (an SQL relation whose ``id`` is the outbox event's) for every
    active endpoint of tenant %(tenant)s subscribed to ``event_type`` (an SQL expression; an
    endpoint with no event types takes every event), returning the deliveries' ids. Runs alone
    (event_publish) or as a data-modifying CTE of a larger statement (the allocation hot path)."""
    # Assembled at import from SQL fragments of this module and of orders' hot path, never from input.
    return f"""INSERT INTO webhooks_webhookdelivery
    (id, tenant_id, event_id, endpoint_id, status, attempts, next_attempt_at, last_error, created_at)
SELECT gen_random_uuid(), %(tenant)s, ev.id, e.id, '{DeliveryStatus.PENDING.value}', 0, %(now)s, '', %(now)s
FROM {events} ev JOIN webhooks_webhookendpoint e
  ON e.tenant_id = %(tenant)s AND e.is_active AND (e.events = '[]'::jsonb OR e.events ? {event_type})
RETURNING id"""  # noqa: S608


_PUBLISH_DELIVERIES_SQL = deliveries_sql(events="(SELECT %(event)s::uuid AS id)", event_type="%(type)s")


def event_publish(*, tenant_id, type: str, data: dict) -> OutboxEvent:
    """Record an event in the outbox within the caller's transaction; deliveries start on commit."""
    if type not in EVENT_TYPES:  # a programming error; not an assert, which -O would strip
        raise WebhookError(f"unknown event type {type!r}")
    payload = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    event = OutboxEvent.objects.create(tenant_id=tenant_id, type=type, data=payload)
    with connection.cursor() as cursor:
        cursor.execute(
            _PUBLISH_DELIVERIES_SQL, {"tenant": tenant_id, "now": timezone.now(), "event": event.pk, "type": type}
        )
        delivery_ids = [str(delivery_id) for (delivery_id,) in cursor.fetchall()]
    for delivery_id in delivery_ids:
        enqueue("fulfillment.webhooks.tasks.deliver_webhook", delivery_id=delivery_id)
    return event


def _body(event: OutboxEvent) -> str:
    return json.dumps(
        {"id": event.message_id, "type": event.type, "timestamp": event.created_at.isoformat(), "data": event.data},
        separators=(",", ":"),
    )


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address that was checked, not to whatever the host name resolves to now."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name (SNI), not the pinned address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _post(url: str, *, body: bytes, headers: dict) -> tuple[int | None, str]:
    """POST without following redirects, to the addresses checked just before: (status, error)."""
    # Resolving again here and connecting to exactly those addresses closes the DNS-rebinding
    # window between the check and the connection; redirects are not followed for the same reason.
    addresses, problem = _resolve(url)
    if problem:
        return None, problem
    parsed = urlparse(url)
    secure = parsed.scheme == "https"
    port = parsed.port or (443 if secure else 80)
    target = (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")
    cls = _PinnedHTTPSConnection if secure else _PinnedHTTPConnection
    error = "no address to connect to"
    for address in addresses:
        connection = cls(parsed.hostname, port, address=address, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
        try:
            connection.request("POST", target, body=body, headers=headers)
            answer = connection.getresponse()
            answer.read(64 * 1024)
            if 200 <= answer.status < 300:
                return answer.status, ""
            return answer.status, f"HTTP {answer.status}"
        except (OSError, http.client.HTTPException) as exc:
            error = (str(exc) or type(exc).__name__)[:500]
        finally:
            connection.close()
    return None, error


def _claim(delivery_id) -> WebhookDelivery | str:
    """Start an attempt: count it and lease the row, in a short transaction of its own."""
    with transaction.atomic():
        delivery = (
            locks.deliveries_to_attempt(WebhookDelivery.objects)
            .select_related("event", "endpoint")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return "skipped"
        now = timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now + timedelta(seconds=1):
            return "not_due"
        if not delivery.endpoint.is_active:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            delivery.last_error = "endpoint disabled"
            delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
            return delivery.status
        delivery.attempts += 1
        # The lease: while this attempt is in flight, the retry sweep sees the delivery as not due.
        # A worker that dies mid-request leaves it to be retried once the lease runs out.
        delivery.next_attempt_at = now + timedelta(seconds=2 * settings.WEBHOOK_TIMEOUT_SECONDS + 30)
        delivery.save(update_fields=["attempts", "next_attempt_at"])
        return delivery


def delivery_attempt(*, delivery_id) -> str:
    """One attempt at one delivery; returns its status. Safe to call twice.

    No database transaction or row lock is held during the HTTP request (which may take
    WEBHOOK_TIMEOUT_SECONDS): the row is claimed first, the result recorded afterwards.
    """
    delivery = _claim(delivery_id)
    if isinstance(delivery, str):
        return delivery
    endpoint = delivery.endpoint
    body = _body(delivery.event)
    timestamp = timezone.now()
    signature = Webhook(endpoint.secret).sign(delivery.event.message_id, timestamp, body)
    status_code, error = _post(
        endpoint.url,
        body=body.encode(),
        headers={
            "content-type": "application/json",
            "user-agent": "fulfillment-webhooks/1",
            "webhook-id": delivery.event.message_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature,
        },
    )
    return _record(delivery, status_code=status_code, error=error)


def _record(delivery: WebhookDelivery, *, status_code: int | None, error: str) -> str:
    now = timezone.now()
    succeeded = status_code is not None and 200 <= status_code < 300
    fields = {"last_status_code": status_code, "last_error": error, "next_attempt_at": None}
    if succeeded:
        fields.update(status=DeliveryStatus.SUCCEEDED, delivered_at=now)
    elif status_code == 410 or delivery.attempts > len(BACKOFF):
        fields.update(status=DeliveryStatus.FAILED)
    else:
        fields.update(
            status=DeliveryStatus.PENDING, next_attempt_at=now + timedelta(seconds=retry_delay(delivery.attempts))
        )
    with transaction.atomic():
        # Only the attempt that holds the lease records its result (attempts is its ticket).
        updated = WebhookDelivery.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=delivery.attempts
        ).update(**fields)
        if not updated:
            return "superseded"
        endpoints = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
        if succeeded:
            endpoints.filter(failing_since__isnull=False).update(failing_since=None)
        elif status_code == 410:
            endpoints.filter(is_active=True).update(
                is_active=False, disabled_reason="the endpoint answered 410 Gone", disabled_at=now
            )
        elif _disable_if_failing_too_long(endpoints, now=now) and fields["status"] == DeliveryStatus.PENDING:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, next_attempt_at=None)
            fields["status"] = DeliveryStatus.FAILED
        if fields["status"] == DeliveryStatus.PENDING:
            enqueue(
                "fulfillment.webhooks.tasks.deliver_webhook",
                delivery_id=str(delivery.id),
                countdown=(fields["next_attempt_at"] - now).total_seconds(),
            )
    return fields["status"]


def _disable_if_failing_too_long(endpoints, *, now) -> bool:
    """After a failed attempt: start the failing clock, and disable the endpoint once every attempt
    has failed for WEBHOOK_DISABLE_AFTER_DAYS (a success in between stops the clock). True if disabled now."""
    endpoints.filter(failing_since__isnull=True).update(failing_since=now)
    days = settings.WEBHOOK_DISABLE_AFTER_DAYS
    return bool(
        endpoints.filter(is_active=True, failing_since__lte=now - timedelta(days=days)).update(
            is_active=False,
            disabled_at=now,
            disabled_reason=f"every delivery failed for {days} day{'s' if days != 1 else ''}",
        )
    )


def deliveries_due(*, limit: int = 500) -> list[str]:
    now = timezone.now()
    return [
        str(pk)
        for pk in WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    ]


def events_publish_many(*, tenant_id, events: list[tuple[str, dict]]) -> None:
    """``event_publish`` for many events of one tenant in three statements (bulk order intake).

    ``data`` must already be JSON-ready (str, int, list, dict); deliveries start on commit.
    """
    if not events:
        return
    unknown = {type for type, _ in events} - set(EVENT_TYPES)
    if unknown:
        raise WebhookError(f"unknown event types {sorted(unknown)!r}")
    now = timezone.now()
    rows = [(uuid.uuid4(), tenant_id, type, data, now) for type, data in events]
    copy_rows(OutboxEvent, ("id", "tenant_id", "type", "data", "created_at"), rows, json_columns=("data",))
    endpoints = list(WebhookEndpoint.objects.filter(tenant_id=tenant_id, is_active=True).values_list("pk", "events"))
    if not endpoints:
        return
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(tenant_id=tenant_id, event_id=event_id, endpoint_id=pk, next_attempt_at=now)
            for event_id, _, type, _, _ in rows
            for pk, wanted in endpoints
            if not wanted or type in wanted
        ],
        batch_size=2000,
    )
    for delivery in deliveries:
        enqueue("fulfillment.webhooks.tasks.deliver_webhook", delivery_id=str(delivery.id))
