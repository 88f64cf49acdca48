"""Every write to orders, one module per topic: ``intake`` (create and update), ``holds`` (manual
holds and cancellation), ``allocation`` (reservations, backorders, splits), ``stages`` (the
transitions picking, packing and shipping drive); ``common`` holds the refusals, the inputs, the
timeline and the compare-and-set transition. Row locks: orders.locks.

The names re-exported here keep ``from orders import services; services.X`` working.
"""

from orders.locks import allocation_short_lock
from orders.services.allocation import (
    backordered_order_ids,
    order_allocate,
    reallocate_backorders,
    unallocated_order_ids,
)
from orders.services.common import (
    DuplicateOrder,
    InvalidTransition,
    LineInput,
    OrderError,
    OrderInput,
    order_note,
    order_notes_add,
    order_payload,
    webhook_data,
)
from orders.services.holds import HOLDABLE, order_cancel, order_hold, order_release
from orders.services.intake import ALLOCATION_BATCH, CreateResult, order_create, order_create_many, order_update
from orders.services.stages import (
    ShortOutcome,
    allocation_pick,
    allocation_short,
    order_mark_delivered,
    order_mark_exception,
    order_mark_packed,
    order_mark_picked,
    order_mark_picking,
    order_mark_picking_many,
    order_mark_returned,
    order_mark_shipped,
    order_mark_unshipped,
    orders_mark_delivered_many,
)

__all__ = [
    "ALLOCATION_BATCH",
    "HOLDABLE",
    "CreateResult",
    "DuplicateOrder",
    "InvalidTransition",
    "LineInput",
    "OrderError",
    "OrderInput",
    "ShortOutcome",
    "allocation_pick",
    "allocation_short",
    "allocation_short_lock",
    "backordered_order_ids",
    "order_allocate",
    "order_cancel",
    "order_create",
    "order_create_many",
    "order_hold",
    "order_mark_delivered",
    "order_mark_exception",
    "order_mark_packed",
    "order_mark_picked",
    "order_mark_picking",
    "order_mark_picking_many",
    "order_mark_returned",
    "order_mark_shipped",
    "order_mark_unshipped",
    "order_note",
    "order_notes_add",
    "order_payload",
    "order_release",
    "order_update",
    "orders_mark_delivered_many",
    "reallocate_backorders",
    "unallocated_order_ids",
    "webhook_data",
]
