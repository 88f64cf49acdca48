"""An order that went all the way out of the building, ready to come back."""

from django.db import transaction

from orders import services as orders
from orders.models import Order, OrderAllocation
from orders.tests.factories import order


def ship(created: Order, *, deliver: bool = False) -> Order:
    """Allocate, pick every allocation, pack and ship (optionally deliver) an order through its services."""
    orders.order_allocate(order_id=created.pk)
    orders.order_mark_picking(order_id=created.pk)
    with transaction.atomic():  # allocation_pick runs in its caller's transaction
        for allocation in OrderAllocation.objects.filter(line__order=created).order_by("pk"):
            orders.allocation_pick(allocation_id=allocation.pk, quantity=allocation.quantity)
    orders.order_mark_picked(order_id=created.pk)
    orders.order_mark_packed(order_id=created.pk)
    orders.order_mark_shipped(order_id=created.pk)
    if deliver:
        orders.order_mark_delivered(order_id=created.pk)
    return Order.objects.get(pk=created.pk)


def shipped_order(tenant, *, external_id: str, lines: list[tuple[str, int]], deliver: bool = False) -> Order:
    return ship(order(tenant, external_id=external_id, lines=lines), deliver=deliver)
