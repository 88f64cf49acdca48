"""Every write to returns, one module per topic: ``rmas`` (the request and the warehouse's receipt
and disposition), ``policy`` (each merchant's return policy), ``parcel`` (a graded parcel on the
handheld, one return_receive per grade round) and ``unexpected`` (units nobody announced). Callers import ``returns.services``.
"""

from returns.services.parcel import return_receive_parcel
from returns.services.policy import PolicyInput, return_policy_update
from returns.services.rmas import RETURNABLE, ReturnError, return_create, return_payload, return_receive
from returns.services.unexpected import unexpected_return_record, unexpected_return_resolve

__all__ = [
    "RETURNABLE",
    "PolicyInput",
    "ReturnError",
    "return_create",
    "return_payload",
    "return_policy_update",
    "return_receive",
    "return_receive_parcel",
    "unexpected_return_record",
    "unexpected_return_resolve",
]
