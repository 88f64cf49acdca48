"""Webhook endpoints, the outbox of events and their delivery attempts."""

from __future__ import annotations

import uuid

from django.db import models

from fulfillment.tenancy.scoping import TenantQuerySet, TenantScoped

EVENT_TYPES = [
    "order.created",
    "order.on_hold",
    "order.allocated",
    "order.backordered",
    "order.shipped",
    "order.delivered",
    "order.cancelled",
    "shipment.tracking_updated",
    "shipment.label_purchased",
    "shipment.delayed",
    "shipment.exception",
    "return.created",
    "return.received",
    "return.refunded",
    "return.exchanged",
    "inventory.low_stock",
    "invoice.issued",
]


class WebhookEndpoint(TenantScoped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="Event types; empty means every event.")
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # The first failed attempt since the last success; None while deliveries succeed. After
    # WEBHOOK_DISABLE_AFTER_DAYS of failures only, the endpoint is disabled.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()


class OutboxEvent(TenantScoped):
    """Written in the same transaction as the change it announces."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=50)
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = TenantQuerySet.as_manager()

    @property
    def message_id(self) -> str:
        return f"msg_{self.id.hex}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookDelivery(TenantScoped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, db_index=True)
    last_status_code = models.PositiveSmallIntegerField(null=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "event", "endpoint"], name="delivery_event_endpoint_unique")
        ]
