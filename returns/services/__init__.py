"""Every write to returns, one module per topic: ``rmas`` (the request, the warehouse's receipt and
disposition, closing), ``parcel`` (a graded parcel on the handheld), ``unexpected`` (units nobody
announced), ``refunds`` (the policy's figure and the merchant's confirmation), ``exchanges`` (the
new order of an exchange), ``labels`` (prepaid return labels and their tracking), ``shopper`` (the
shopper's own return from the public portal), ``policy`` (each merchant's return policy);
``common`` holds the refusal, the webhook data and the return's locks. Callers import
``returns.services``.
"""

from returns.services.common import ReturnError, return_payload
from returns.services.exchanges import exchange_external_id
from returns.services.labels import (
    OpenedReturn,
    return_label_buy,
    return_label_document,
    return_label_issue,
    return_label_offer,
    return_label_scan_add,
    return_labels_poll,
    return_open,
    return_parcels,
    return_shopper_email_queue,
)
from returns.services.parcel import return_receive_parcel
from returns.services.policy import PolicyInput, return_policy_update
from returns.services.refunds import refund_quote, return_refund
from returns.services.rmas import CLOSABLE, RETURNABLE, return_close, return_create, return_receive
from returns.services.shopper import ShopperPhoto, photo_type, return_request_by_shopper
from returns.services.unexpected import unexpected_return_record, unexpected_return_resolve

__all__ = [
    "OpenedReturn",
    "CLOSABLE",
    "RETURNABLE",
    "PolicyInput",
    "ReturnError",
    "ShopperPhoto",
    "exchange_external_id",
    "photo_type",
    "refund_quote",
    "return_close",
    "return_create",
    "return_label_buy",
    "return_label_document",
    "return_label_issue",
    "return_label_offer",
    "return_label_scan_add",
    "return_labels_poll",
    "return_open",
    "return_parcels",
    "return_payload",
    "return_policy_update",
    "return_receive",
    "return_receive_parcel",
    "return_refund",
    "return_request_by_shopper",
    "return_shopper_email_queue",
    "unexpected_return_record",
    "unexpected_return_resolve",
]
