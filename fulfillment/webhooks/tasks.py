from celery import shared_task

from fulfillment.tenancy.rls import in_operator_scope
from fulfillment.webhooks import services


@shared_task(name="fulfillment.webhooks.tasks.deliver_webhook", acks_late=True)
def deliver_webhook(*, delivery_id: str, **_: object) -> str:
    return services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="fulfillment.webhooks.tasks.retry_due_deliveries", acks_late=True)
@in_operator_scope
def retry_due_deliveries(**_: object) -> int:
    """Recovers deliveries whose message was lost (broker down, worker killed)."""
    due = services.deliveries_due()
    for delivery_id in due:
        services.delivery_attempt(delivery_id=delivery_id)
    return len(due)
