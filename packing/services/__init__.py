"""Every write of packing. ``packs``: packing an order into a shipment and the shipment updates
shipping makes; ``sessions``: the pack station's scan-verified pack sessions, which close by
packing the order; ``materials``: the operator's packing materials and their ledger; ``inserts``: the
merchants' insert rules and the inserts a pack puts into parcels. Callers import
``packing.services``; the modules below it are its parts.
"""

from packing.services.inserts import (
    InsertRuleError,
    insert_rule_create,
    insert_rule_delete,
    insert_rule_update,
    inserts_consume,
)
from packing.services.materials import (
    MANUAL_REASONS,
    MaterialError,
    material_create,
    material_movement_record,
    material_receive,
    material_update,
    materials_consume,
)
from packing.services.packs import (
    PURCHASE_LABEL_TASK,
    LabelRecord,
    PackageInput,
    PackingError,
    PackItemInput,
    order_pack,
    shipment_clear_label,
    shipment_record_label,
    shipment_set_status,
    shipment_store_label_document,
    shipments_set_status_many,
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
    pack_session_undo,
)

__all__ = [
    "MANUAL_REASONS",
    "PURCHASE_LABEL_TASK",
    "ClosePackageInput",
    "LabelRecord",
    "PackScanOutcome",
    "PackSessionError",
    "PackSessionOpened",
    "InsertRuleError",
    "MaterialError",
    "PackageInput",
    "PackingError",
    "PackItemInput",
    "insert_rule_create",
    "insert_rule_delete",
    "insert_rule_update",
    "inserts_consume",
    "material_create",
    "material_movement_record",
    "material_receive",
    "material_update",
    "materials_consume",
    "order_pack",
    "pack_session_abandon",
    "pack_session_close",
    "pack_session_open",
    "pack_session_scan",
    "pack_session_undo",
    "shipment_clear_label",
    "shipment_record_label",
    "shipment_store_label_document",
    "shipment_set_status",
    "shipments_set_status_many",
]
