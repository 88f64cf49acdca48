"""Celery tasks of shipping (queue ``shipping``): thin and idempotent (the services re-read state
under locks, and a purchase key allows one label per shipment)."""

from __future__ import annotations

import logging

from celery import shared_task

from fulfillment.jobs import send_now
from fulfillment.tenancy.rls import in_operator_scope
from shipping import services

logger = logging.getLogger(__name__)


@shared_task(name="shipping.tasks.purchase_label", acks_late=True)
def purchase_label(*, shipment_id: str, attempt: int = 1, **_: object) -> None:
    """Started by packing (by name) when an order is packed; a no-op once the label is bought.

    A carrier outage is retried with exponential backoff (LABEL_PURCHASE_BACKOFF_SECONDS, doubling)
    up to LABEL_PURCHASE_ATTEMPTS; then, or at once for a refusal, the shipment waits in the
    exceptions queue with the order still packed."""
    outcome = services.shipment_purchase_label(shipment_id=shipment_id, attempt=attempt)
    if outcome.result == "retry":
        logger.warning(
            "shipment %s: label purchase attempt %s failed; retrying in %ss", shipment_id, attempt, outcome.retry_in
        )
        send_now(
            "shipping.tasks.purchase_label", countdown=outcome.retry_in, shipment_id=shipment_id, attempt=attempt + 1
        )


@shared_task(name="shipping.tasks.poll_tracking", acks_late=True)
@in_operator_scope
def poll_tracking(**_: object) -> None:
    """Periodic (beat): recover interrupted purchases and labels a lost message left unbought, then
    poll carrier tracking."""
    services.purchases_recover()
    services.shipments_recover_labels(older_than_seconds=60)
    services.tracking_poll()
