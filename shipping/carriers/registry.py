"""Carrier.kind -> client class. Add a kind here to plug in another carrier implementation."""

from __future__ import annotations

from shipping.carriers.base import CarrierClient, CarrierError
from shipping.carriers.sandbox import SandboxCarrier
from shipping.models import Carrier

CLIENTS: dict[str, type] = {
    "sandbox": SandboxCarrier,
}


def client_for(carrier: Carrier) -> CarrierClient:
    try:
        cls = CLIENTS[carrier.kind]
    except KeyError:
        raise CarrierError(f"no client for carrier kind {carrier.kind!r}") from None
    return cls(carrier)
