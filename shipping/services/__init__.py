"""Every write of shipping. ``accounts``: carrier accounts through karrio; ``rating``: quotes and
the choice; ``labels``: purchase (idempotent), void, the exceptions queue and label documents;
``manifests``: end of day; ``tracking``: carrier scans, delays and exceptions; ``polling``: asking the carriers. Callers import ``shipping.services``.

Shipment rows belong to packing; shipping changes them only through packing.services. Locks: the
order row first, then the shipment (as packing does); no carrier is called while they are held.
"""

from shipping.services.accounts import (
    CarrierAccountError,
    carrier_account_check,
    carrier_account_create,
    carrier_account_deactivate,
    carrier_account_delete,
    carrier_account_update,
    carrier_credentials_rotate,
)
from shipping.services.labels import (
    LabelError,
    PurchaseOutcome,
    label_document,
    purchases_recover,
    shipment_purchase_label,
    shipment_rates,
    shipment_void_label,
    shipments_recover_labels,
    shipping_exception_retry,
)
from shipping.services.manifests import ManifestError, manifest_close, manifest_preview
from shipping.services.payloads import shipment_payload
from shipping.services.polling import shipment_track, tracking_poll
from shipping.services.rating import ShopResult
from shipping.services.tracking import (
    KARRIO_STATUSES,
    normalise,
    shipment_tracking_event_add,
    shipments_flag_delays,
)

__all__ = [
    "KARRIO_STATUSES",
    "CarrierAccountError",
    "LabelError",
    "ManifestError",
    "PurchaseOutcome",
    "ShopResult",
    "carrier_account_check",
    "carrier_account_create",
    "carrier_account_deactivate",
    "carrier_account_delete",
    "carrier_account_update",
    "carrier_credentials_rotate",
    "label_document",
    "manifest_close",
    "manifest_preview",
    "normalise",
    "purchases_recover",
    "shipment_payload",
    "shipment_purchase_label",
    "shipment_rates",
    "shipment_track",
    "shipment_tracking_event_add",
    "shipments_flag_delays",
    "shipment_void_label",
    "shipments_recover_labels",
    "shipping_exception_retry",
    "tracking_poll",
]
