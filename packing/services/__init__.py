"""Every write of packing. ``packs``: packing an order into a shipment and the shipment updates
shipping makes. Callers import ``packing.services``; the modules below it are its parts.
"""

from packing.services.packs import (
    PURCHASE_LABEL_TASK,
    LabelRecord,
    PackageInput,
    PackingError,
    PackItemInput,
    order_pack,
    shipment_record_label,
    shipment_set_status,
)

__all__ = [
    "PURCHASE_LABEL_TASK",
    "LabelRecord",
    "PackageInput",
    "PackingError",
    "PackItemInput",
    "order_pack",
    "shipment_record_label",
    "shipment_set_status",
]
