"""The interface every carrier client implements, and the values it exchanges with shipping.

A ``Carrier`` row names its implementation by ``kind``; ``shipping.carriers.registry`` maps kinds
to client classes. Today there is one kind, ``sandbox`` (shipping.carriers.sandbox), which needs
no account or network. A real carrier is added as another kind, e.g. a ``karrio`` client built on
karrio's SDK (the ``karrio`` and ``karrio-generic`` packages on PyPI), which already speaks to
many carriers through one API: its ``rates``/``buy_label``/``track`` would translate the shipment,
packages and rate below to karrio's RateRequest/ShipmentRequest/TrackingRequest and back. Only the
registry entry and the new module would change; services stay the same.

Clients receive model instances (a packing.Shipment with its order and warehouse, and its
packages) and return plain values; they never write to the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable


class CarrierError(Exception):
    """The carrier refused or failed a request (bad address, outage); the caller logs and retries later."""


@dataclass(frozen=True)
class Rate:
    carrier_code: str
    service_code: str
    service_name: str
    amount: Decimal
    currency: str
    transit_business_days: int


@dataclass(frozen=True)
class LabelResult:
    tracking_number: str
    label_pdf: bytes
    label_zpl: str


@dataclass(frozen=True)
class TrackingUpdate:
    """One scan: ``code`` is a shipping.models.TrackingCode value."""

    code: str
    description: str
    occurred_at: datetime
    location: str = ""


@runtime_checkable
class CarrierClient(Protocol):
    """A carrier account's API. Constructed with the shipping.models.Carrier row it serves."""

    def rates(self, shipment, packages) -> list[Rate]:
        """Prices of the carrier's active services for these packages."""
        ...

    def buy_label(self, shipment, rate: Rate) -> LabelResult:
        """Buy the label for ``rate``; a tracking number and the label as 4x6 PDF and ZPL."""
        ...

    def track(self, tracking_number: str, shipped_at: datetime, *, now: datetime | None = None) -> list[TrackingUpdate]:
        """Every scan so far, oldest first (callers keep the ones they have not seen)."""
        ...
