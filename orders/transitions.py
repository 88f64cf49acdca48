from orders.models import Status

_BEFORE_SHIPPED = {
    Status.RECEIVED,
    Status.ON_HOLD,
    Status.BACKORDERED,
    Status.ALLOCATED,
    Status.PICKING,
    Status.PICKED,
    Status.PACKED,
}

ALLOWED: dict[str, set[str]] = {
    Status.RECEIVED: {Status.ON_HOLD, Status.ALLOCATED, Status.BACKORDERED, Status.CANCELLED},
    Status.ON_HOLD: {Status.RECEIVED, Status.CANCELLED},
    Status.BACKORDERED: {Status.ALLOCATED, Status.ON_HOLD, Status.CANCELLED},
    Status.ALLOCATED: {Status.PICKING, Status.ON_HOLD, Status.CANCELLED},
    # A short pick with no stock elsewhere sends the order back to wait for stock.
    Status.PICKING: {Status.PICKED, Status.BACKORDERED, Status.CANCELLED},
    Status.PICKED: {Status.PACKED, Status.CANCELLED},
    Status.PACKED: {Status.SHIPPED, Status.CANCELLED},
    # A voided label (before the carrier scanned the parcel) puts the order back to packed.
    # Returned: every shipped unit came back on returns (returns.services.return_receive).
    Status.SHIPPED: {Status.DELIVERED, Status.EXCEPTION, Status.PACKED, Status.RETURNED},
    Status.EXCEPTION: {Status.DELIVERED, Status.RETURNED},
    Status.DELIVERED: {Status.RETURNED},
    Status.RETURNED: set(),
    Status.CANCELLED: set(),
}

CANCELLABLE = _BEFORE_SHIPPED

# Webhook event announced when an order enters a status.
EVENTS = {
    Status.ON_HOLD: "order.on_hold",
    Status.ALLOCATED: "order.allocated",
    Status.BACKORDERED: "order.backordered",
    Status.SHIPPED: "order.shipped",
    Status.DELIVERED: "order.delivered",
    Status.CANCELLED: "order.cancelled",
}


def can_transition(source: str, target: str) -> bool:
    return target in ALLOWED.get(source, set())
