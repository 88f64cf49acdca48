"""The sandbox carrier: no account, no network, predictable answers.

- Rates: per package, the service's ``base_rate + per_kg_rate * weight in kg``, rounded to cents.
- Labels: tracking numbers ``SBX`` + 12 digits (unique among shipments); labels rendered locally.
- Tracking: ``label_created`` at purchase, then ``in_transit``, ``out_for_delivery`` and ``delivered``
  one, two and three steps of ``settings.SANDBOX_CARRIER_STEP_SECONDS`` later (0: all at once).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from packing.models import Shipment
from shipping.carriers.base import CarrierError, LabelResult, Rate, TrackingUpdate
from shipping.labels import label_data, label_pdf, label_zpl
from shipping.models import Carrier, TrackingCode

CENT = Decimal("0.01")
TRACKING_PREFIX = "SBX"

SCHEDULE = [
    (0, TrackingCode.LABEL_CREATED, "Shipping label created"),
    (1, TrackingCode.IN_TRANSIT, "In transit"),
    (2, TrackingCode.OUT_FOR_DELIVERY, "Out for delivery"),
    (3, TrackingCode.DELIVERED, "Delivered"),
]


class SandboxCarrier:
    def __init__(self, carrier: Carrier) -> None:
        self.carrier = carrier

    def rates(self, shipment, packages) -> list[Rate]:
        weights = [Decimal(p.weight_g) / 1000 for p in packages]
        rates = []
        for service in self.carrier.services.filter(is_active=True).order_by("code"):
            amount = sum(
                ((service.base_rate + service.per_kg_rate * kg).quantize(CENT, ROUND_HALF_UP) for kg in weights),
                Decimal("0.00"),
            )
            rates.append(
                Rate(
                    carrier_code=self.carrier.code,
                    service_code=service.code,
                    service_name=service.name,
                    amount=amount,
                    currency=service.currency,
                    transit_business_days=service.transit_business_days,
                )
            )
        return rates

    def _new_tracking_number(self) -> str:
        for _ in range(20):
            candidate = f"{TRACKING_PREFIX}{secrets.randbelow(10**12):012d}"
            if not Shipment.objects.filter(carrier_code=self.carrier.code, tracking_number=candidate).exists():
                return candidate
        raise CarrierError("could not find an unused sandbox tracking number")

    def buy_label(self, shipment, rate: Rate) -> LabelResult:
        tracking_number = self._new_tracking_number()
        data = label_data(
            shipment=shipment,
            packages=list(shipment.packages.order_by("number")),
            carrier_name=self.carrier.name,
            service_name=rate.service_name,
            tracking_number=tracking_number,
        )
        return LabelResult(tracking_number=tracking_number, label_pdf=label_pdf(data), label_zpl=label_zpl(data))

    def track(self, tracking_number: str, shipped_at: datetime, *, now: datetime | None = None) -> list[TrackingUpdate]:
        if not tracking_number.startswith(TRACKING_PREFIX):
            raise CarrierError(f"{tracking_number} is not a sandbox tracking number")
        now = now or timezone.now()
        step = timedelta(seconds=settings.SANDBOX_CARRIER_STEP_SECONDS)
        updates = []
        for steps, code, description in SCHEDULE:
            at = shipped_at + step * steps
            if at <= now:
                updates.append(TrackingUpdate(code=code, description=description, occurred_at=at, location="Sandbox"))
        return updates
