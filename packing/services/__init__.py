"""Every write of packing. ``packs``: packing an order into a shipment and the shipment updates
shipping makes; ``sessions``: the pack station's scan-verified pack sessions, which close by
packing the order. Callers import ``packing.services``; the modules below it are its parts.
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
from packing.services.sessions import (
    ClosePackageInput,
    PackScanOutcome,
    PackSessionError,
    PackSessionOpened,
    pack_session_abandon,
    pack_session_close,
    pack_session_open,
    pack_session_scan,
)

__all__ = [
    "PURCHASE_LABEL_TASK",
    "ClosePackageInput",
    "LabelRecord",
    "PackScanOutcome",
    "PackSessionError",
    "PackSessionOpened",
    "PackageInput",
    "PackingError",
    "PackItemInput",
    "order_pack",
    "pack_session_abandon",
    "pack_session_close",
    "pack_session_open",
    "pack_session_scan",
    "shipment_record_label",
    "shipment_set_status",
]
