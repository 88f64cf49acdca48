from celery import shared_task

from billing import services
from fulfillment.tenancy.rls import in_operator_scope


@shared_task(acks_late=True)
@in_operator_scope
def snapshot_storage(**_: object) -> None:
    """Nightly: yesterday's storage per merchant and warehouse, billed (a no-op when already done)."""
    services.storage_snapshot_take()
