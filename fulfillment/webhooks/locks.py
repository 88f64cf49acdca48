"""Row locks of the webhooks app."""

from __future__ import annotations

from django.db.models import QuerySet

from fulfillment.webhooks.models import WebhookDelivery, WebhookEndpoint


def deliveries_to_attempt(queryset: QuerySet) -> QuerySet:
    """Deliveries to claim for an attempt: one another worker is claiming is skipped, not waited for,
    and only the delivery rows are locked (FOR NO KEY UPDATE), never their event or endpoint."""
    return queryset.select_for_update(skip_locked=True, no_key=True, of=("self",))


def endpoint_lock(*, endpoint_id, tenant_id) -> WebhookEndpoint | None:
    """The tenant's endpoint, locked FOR UPDATE; None when it has no such endpoint."""
    return WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id, tenant_id=tenant_id).first()


def delivery_lock(*, delivery_id, tenant_id) -> WebhookDelivery | None:
    """The tenant's delivery with its endpoint (read, not locked); None when it has no such delivery."""
    return (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("endpoint")
        .filter(pk=delivery_id, tenant_id=tenant_id)
        .first()
    )
