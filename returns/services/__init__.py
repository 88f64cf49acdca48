"""Every write to returns, one module per topic: ``rmas`` (the request and the warehouse's receipt
and disposition) and ``policy`` (each merchant's return policy). Callers import ``returns.services``.
"""

from returns.services.policy import PolicyInput, return_policy_update
from returns.services.rmas import RETURNABLE, ReturnError, return_create, return_payload, return_receive

__all__ = [
    "RETURNABLE",
    "PolicyInput",
    "ReturnError",
    "return_create",
    "return_payload",
    "return_policy_update",
    "return_receive",
]
