"""Row locks of the shipping app, in the house order (ARCHITECTURE.md, orders/locks.py): a
shipment's order row first, then the shipment (packing.locks); shipping's own rows after them."""

from __future__ import annotations

from orders import locks as order_locks
from orders.models import Order
from packing import locks as packing_locks
from packing.models import Shipment


def order_and_shipment_lock(shipment_id) -> tuple[Order, Shipment] | tuple[None, None]:
    """The shipment's order and the shipment, locked for the caller's transaction; (None, None)
    when there is no such shipment."""
    order_id = Shipment.objects.filter(pk=shipment_id).values_list("order_id", flat=True).first()
    if order_id is None:
        return None, None
    order = order_locks.order_qs_select_for_update().get(pk=order_id)
    return order, packing_locks.shipment_lock(shipment_id=shipment_id)
