import logging
import smtplib

from celery import shared_task

from fulfillment.tenancy.rls import in_operator_scope
from orders import imports, notifications, services

logger = logging.getLogger(__name__)


@shared_task(name="orders.tasks.allocate_order", acks_late=True)
def allocate_order(*, order_id: str, **_: object) -> str:
    return services.order_allocate(order_id=order_id)


@shared_task(name="orders.tasks.reallocate_backorders", acks_late=True)
def reallocate_backorders(*, warehouse_id: str, product_ids: list[str], **_: object) -> int:
    return services.reallocate_backorders(warehouse_id=warehouse_id, product_ids=product_ids)


@shared_task(name="orders.tasks.sweep_unallocated_orders")
@in_operator_scope
def sweep_unallocated_orders(**_: object) -> int:
    """Recovers orders whose allocation message was lost; allocating twice is harmless."""
    count = 0
    for order_id in services.unallocated_order_ids():
        services.order_allocate(order_id=order_id)
        count += 1
    return count


@shared_task(name="orders.tasks.allocate_orders", acks_late=True)
def allocate_orders(*, order_ids: list[str], **_: object) -> int:
    """Allocate a batch of new orders (bulk intake), in the order given (priority order)."""
    allocated = 0
    for order_id in order_ids:
        try:
            if services.order_allocate(order_id=order_id) == "allocated":
                allocated += 1
        except Exception:  # one order's failure must not hold back the rest; the sweep retries it
            logger.exception("allocation of order %s failed; the sweep will retry it", order_id)
    return allocated


@shared_task(name="orders.tasks.import_orders", acks_late=True)
def import_orders(*, import_id: str, **_: object) -> str:
    """A CSV import, chunk by chunk; running it again goes on from ``processed`` (orders.imports)."""
    return imports.import_run(import_id=import_id)


@shared_task(name="orders.tasks.sweep_stuck_imports")
@in_operator_scope
def sweep_stuck_imports(**_: object) -> int:
    """Re-queues imports that a lost or killed task left queued or running (no chunk for 10 minutes)."""
    stuck = imports.stuck_import_ids()
    for import_id in stuck:
        import_orders.delay(import_id=str(import_id))
    return len(stuck)


@shared_task(
    name="orders.tasks.send_shopper_email",
    acks_late=True,
    autoretry_for=(smtplib.SMTPException, OSError),  # the mail server is down or refuses for now
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=5,
)
def send_shopper_email(*, order_id: str, kind: str, **_: object) -> str:
    """Order confirmation or shipped e-mail to the shopper; sends each kind once per order."""
    return notifications.send_shopper_email(order_id=order_id, kind=kind)
