from celery import shared_task

from fulfillment.api import idempotency


@shared_task(name="fulfillment.api.tasks.purge_idempotency_keys")
def purge_idempotency_keys(**_: object) -> int:
    """Idempotency keys expire after 24 hours (as Stripe's do): their records are deleted."""
    return idempotency.purge_expired()
