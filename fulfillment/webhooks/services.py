"""The outbox: events written with the change, delivered by Celery with Standard Webhooks signatures."""

from __future__ import annotations

import base64
import ipaddress
import json
import random
import secrets
import socket
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlparse

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from fulfillment.jobs import enqueue
from fulfillment.webhooks.models import (
    EVENT_TYPES,
    DeliveryStatus,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)

# Seconds before attempt n+1 (n = attempts so far); jitter is added. After the last: failed.
BACKOFF = [5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600]


class WebhookError(ValueError):
    pass


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _url_allowed(url: str) -> str | None:
    """None when every address the host resolves to is public or explicitly allowed; else why not."""
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        return "URL must be http(s) with a host"
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80))
    except socket.gaierror:
        return f"host {parsed.hostname} does not resolve"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if any(address in net for net in settings.WEBHOOK_ALLOWED_NETWORKS):
            continue
        if not address.is_global:
            return f"{parsed.hostname} resolves to a non-public address ({address})"
    return None


def endpoint_create(*, tenant_id, url: str, events: list[str]) -> WebhookEndpoint:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise WebhookError(f"unknown event types: {', '.join(unknown)}")
    problem = _url_allowed(url)
    if problem:
        raise WebhookError(problem)
    return WebhookEndpoint.objects.create(tenant_id=tenant_id, url=url, events=events, secret=new_secret())


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def event_publish(*, tenant_id, type: str, data: dict) -> OutboxEvent:
    """Record an event in the outbox within the caller's transaction; deliveries start on commit."""
    assert type in EVENT_TYPES, type
    payload = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    event = OutboxEvent.objects.create(tenant_id=tenant_id, type=type, data=payload)
    endpoints = [e for e in WebhookEndpoint.objects.filter(tenant_id=tenant_id, is_active=True) if e.wants(type)]
    if endpoints:
        now = timezone.now()
        deliveries = WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(tenant_id=tenant_id, event=event, endpoint=e, next_attempt_at=now) for e in endpoints]
        )
        for delivery in deliveries:
            enqueue("fulfillment.webhooks.tasks.deliver_webhook", delivery_id=str(delivery.id))
    return event


def _body(event: OutboxEvent) -> str:
    return json.dumps(
        {"id": event.message_id, "type": event.type, "timestamp": event.created_at.isoformat(), "data": event.data},
        separators=(",", ":"),
    )


def delivery_attempt(*, delivery_id) -> str:
    """One attempt at one delivery; returns its status. Safe to call twice."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=settings.IS_POSTGRES)
            .select_related("event", "endpoint")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return "skipped"
        now = timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now + timedelta(seconds=1):
            return "not_due"
        endpoint = delivery.endpoint
        delivery.attempts += 1
        status_code, error = None, ""
        if not endpoint.is_active:
            error = "endpoint disabled"
        else:
            error = _url_allowed(endpoint.url) or ""
        if not error:
            body = _body(delivery.event)
            timestamp = now
            signature = Webhook(endpoint.secret).sign(delivery.event.message_id, timestamp, body)
            request = urllib.request.Request(
                endpoint.url,
                data=body.encode(),
                method="POST",
                headers={
                    "content-type": "application/json",
                    "user-agent": "fulfillment-webhooks/1",
                    "webhook-id": delivery.event.message_id,
                    "webhook-timestamp": str(int(timestamp.timestamp())),
                    "webhook-signature": signature,
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as answer:
                    status_code = answer.status
            except urllib.error.HTTPError as exc:
                status_code, error = exc.code, f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                error = str(getattr(exc, "reason", exc))[:500]
        delivery.last_status_code = status_code
        delivery.last_error = error
        if status_code is not None and 200 <= status_code < 300:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif status_code == 410:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                is_active=False, disabled_reason="the endpoint answered 410 Gone"
            )
        elif delivery.attempts > len(BACKOFF):
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            wait = BACKOFF[delivery.attempts - 1]
            delivery.next_attempt_at = now + timedelta(seconds=wait * random.uniform(1.0, 1.2))
        delivery.save(
            update_fields=["attempts", "status", "last_status_code", "last_error", "delivered_at", "next_attempt_at"]
        )
        if delivery.status == DeliveryStatus.PENDING:
            enqueue(
                "fulfillment.webhooks.tasks.deliver_webhook",
                delivery_id=str(delivery.id),
                countdown=(delivery.next_attempt_at - now).total_seconds(),
            )
        return delivery.status


def deliveries_due(*, limit: int = 500) -> list[str]:
    now = timezone.now()
    return [
        str(pk)
        for pk in WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    ]
