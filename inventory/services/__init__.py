"""Writes of stage 1, one module per topic; the ledger core lives in ``stock``.

The names re-exported here keep ``from inventory import services; services.X`` working.
"""

from inventory.services.adjustments import stock_adjust
from inventory.services.catalog import (
    PRODUCT_FIELDS,
    BarcodeInput,
    csv_safe,
    is_valid_gtin,
    product_create,
    product_import,
    product_matches_code,
    product_update,
)
from inventory.services.inbound import (
    InboundLineInput,
    ReceiptLineInput,
    inbound_close,
    inbound_create,
    inbound_import_csv,
    inbound_receive,
)
from inventory.services.putaway import dock_to_stock, putaway_confirm, putaway_suggest, stock_move
from inventory.services.replenishment import (
    demand_refresh,
    move_task_complete,
    pick_faces_replenish,
    purchase_order_send,
    replenishment_run,
)
from inventory.services.stock import (
    SPECIAL_LOCATIONS,
    InsufficientStock,
    InventoryError,
    Reservation,
    ledger_differences,
    lot_for_receipt,
    pick_sequence,
    restock_location,
    special_location,
    stock_pick,
    stock_release,
    stock_reserve,
    stock_transfer,
    stock_write_off_missing,
    warehouse_create,
)

__all__ = [
    "BarcodeInput",
    "csv_safe",
    "demand_refresh",
    "dock_to_stock",
    "inbound_close",
    "inbound_import_csv",
    "is_valid_gtin",
    "move_task_complete",
    "pick_faces_replenish",
    "product_import",
    "purchase_order_send",
    "putaway_confirm",
    "putaway_suggest",
    "replenishment_run",
    "stock_move",
    "PRODUCT_FIELDS",
    "SPECIAL_LOCATIONS",
    "InboundLineInput",
    "InsufficientStock",
    "InventoryError",
    "ReceiptLineInput",
    "Reservation",
    "inbound_create",
    "inbound_receive",
    "ledger_differences",
    "lot_for_receipt",
    "pick_sequence",
    "product_create",
    "product_matches_code",
    "product_update",
    "restock_location",
    "special_location",
    "stock_adjust",
    "stock_pick",
    "stock_release",
    "stock_reserve",
    "stock_transfer",
    "stock_write_off_missing",
    "warehouse_create",
]
