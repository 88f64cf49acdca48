"""Celery tasks of shipping: thin and idempotent (the services re-read state under locks)."""

from __future__ import annotations

import logging

from celery import shared_task

from fulfillment.tenancy.rls import in_operator_scope
from shipping import services
from shipping.carriers.base import CarrierError

logger = logging.getLogger(__name__)


@shared_task(name="shipping.tasks.purchase_label", acks_late=True)
def purchase_label(*, shipment_id: str, **_: object) -> None:
    """Started by packing (by name) when an order is packed; a no-op once the label is bought."""
    try:
        services.shipment_purchase_label(shipment_id=shipment_id)
    except CarrierError:
        # Not retried here: poll_tracking's sweep buys labels still missing after a minute.
        logger.warning("shipment %s: label purchase failed", shipment_id, exc_info=True)


@shared_task(name="shipping.tasks.poll_tracking", acks_late=True)
@in_operator_scope
def poll_tracking(**_: object) -> None:
    """Periodic (beat): recover labels a lost message left unbought, then poll carrier tracking."""
    services.shipments_recover_labels(older_than_seconds=60)
    services.tracking_poll()
