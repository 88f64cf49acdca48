from celery import shared_task

from fulfillment.api import idempotency
from fulfillment.tenancy.rls import in_operator_scope


@shared_task(name="fulfillment.api.tasks.purge_idempotency_keys")
@in_operator_scope
def purge_idempotency_keys(**_: object) -> int:
    """Idempotency keys expire after 24 hours (as Stripe's do): their records are deleted."""
    return idempotency.purge_expired()
