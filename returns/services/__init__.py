"""Every write to returns, one module per topic: ``rmas`` (the request and the warehouse's receipt
and disposition), ``policy`` (each merchant's return policy), ``labels`` (prepaid return labels
and their tracking) and ``shopper`` (the shopper's own return from the public portal). Callers
import ``returns.services``.
"""

from returns.services.labels import (
    return_label_document,
    return_label_issue,
    return_label_scan_add,
    return_labels_poll,
    return_parcels,
    return_shopper_email_queue,
)
from returns.services.policy import PolicyInput, return_policy_update
from returns.services.rmas import RETURNABLE, ReturnError, return_create, return_payload, return_receive
from returns.services.shopper import ShopperPhoto, ShopperReturn, photo_type, return_request_by_shopper

__all__ = [
    "RETURNABLE",
    "PolicyInput",
    "ReturnError",
    "ShopperPhoto",
    "ShopperReturn",
    "photo_type",
    "return_create",
    "return_label_document",
    "return_label_issue",
    "return_label_scan_add",
    "return_labels_poll",
    "return_parcels",
    "return_payload",
    "return_policy_update",
    "return_receive",
    "return_request_by_shopper",
    "return_shopper_email_queue",
]
