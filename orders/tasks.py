from celery import shared_task

from orders import services


@shared_task(name="orders.tasks.allocate_order", acks_late=True)
def allocate_order(*, order_id: str, **_: object) -> str:
    return services.order_allocate(order_id=order_id)


@shared_task(name="orders.tasks.reallocate_backorders", acks_late=True)
def reallocate_backorders(*, warehouse_id: str, product_ids: list[str], **_: object) -> int:
    return services.reallocate_backorders(warehouse_id=warehouse_id, product_ids=product_ids)


@shared_task(name="orders.tasks.sweep_unallocated_orders")
def sweep_unallocated_orders(**_: object) -> int:
    """Recovers orders whose allocation message was lost; allocating twice is harmless."""
    count = 0
    for order_id in services.unallocated_order_ids():
        services.order_allocate(order_id=order_id)
        count += 1
    return count
