"""Every write of packing. ``packs``: packing an order into a shipment and the shipment updates
shipping makes; ``materials``: the operator's packing materials and their ledger; ``inserts``: the
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
    shipment_record_label,
    shipment_set_status,
)

__all__ = [
    "MANUAL_REASONS",
    "PURCHASE_LABEL_TASK",
    "InsertRuleError",
    "LabelRecord",
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
    "shipment_record_label",
    "shipment_set_status",
]
