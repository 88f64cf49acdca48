"""Rate shopping: quotes from every active account and service that can carry the parcels there,
the delivery date each one gives, and the choice.

The choice: the merchant's ``requested_carrier``/``requested_service`` when the order names them;
else the cheapest quote that keeps the order's ``promised_delivery_date``; the fastest when none
does. Same-day orders go only to services marked same_day, and same_day services serve only them.
Carriers are called with no transaction open; the round is then stored as a RateShop row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from orders.promise import add_business_days, ship_by
from shipping import selectors
from shipping.carriers import gateway
from shipping.models import CarrierAccount, CarrierService, RateShop, ServiceCode

logger = logging.getLogger(__name__)


@dataclass
class ShopResult:
    quotes: list[dict]
    errors: list[dict] = field(default_factory=list)
    chosen: int | None = None
    reason: str = ""

    @property
    def choice(self) -> dict | None:
        return self.quotes[self.chosen] if self.chosen is not None else None


def _eligible(service: CarrierService, *, method: str, packages) -> str:
    """Why a service cannot take this shipment ("" when it can)."""
    if method == ServiceCode.SAME_DAY and service.level != ServiceCode.SAME_DAY:
        return "not a same-day service"
    if method != ServiceCode.SAME_DAY and service.level == ServiceCode.SAME_DAY:
        return "same-day services carry only same-day orders"
    if service.max_weight_g and any(p.weight_g > service.max_weight_g for p in packages):
        return f"a parcel is over its {service.max_weight_g} g limit"
    return ""


def _ship_date(warehouse, *, level: str, now: datetime) -> date:
    return ship_by(warehouse=warehouse, method=level, now=now).date()


def _estimate(warehouse, destination: str, *, level: str, transit_days: int, now: datetime) -> date:
    """Ship date (today before the service's cut-off on a business day, else the next one) plus
    the transit business days in the destination's calendar (its public holidays)."""
    return add_business_days(_ship_date(warehouse, level=level, now=now), transit_days, destination or None)


def _requested(order) -> tuple[str, str]:
    return (getattr(order, "requested_carrier", "") or "").lower(), (
        getattr(order, "requested_service", "") or ""
    ).lower()


def _matches_request(quote: dict, carrier: str, service: str) -> bool:
    if carrier and carrier not in (quote["carrier"], quote["carrier_name"]):
        return False
    return not service or service in (quote["service"], quote["level"])


def _choose(quotes: list[dict], order) -> tuple[int | None, str]:
    if not quotes:
        return None, "No active carrier account offers a service that can carry these parcels there."
    carrier, service = _requested(order)
    if carrier or service:
        wanted = " ".join(filter(None, [carrier, service]))
        for index, quote in enumerate(quotes):  # cheapest first already
            if _matches_request(quote, carrier, service):
                return index, f"Requested by the merchant: {wanted}."
        return None, f"The merchant requested {wanted}, and no active account quotes it."
    promised = order.promised_delivery_date.isoformat() if order.promised_delivery_date else None
    keeping = [i for i, q in enumerate(quotes) if q["keeps_promise"]]
    if keeping:
        of = f" (of {len(quotes)} quotes)" if len(quotes) > len(keeping) else ""
        if len(keeping) == 1:
            return keeping[0], f"The only quote that arrives by the promised {promised}{of}."
        return keeping[0], f"Cheapest of {len(keeping)} quotes that arrive by the promised {promised}{of}."
    index = min(
        range(len(quotes)), key=lambda i: (quotes[i]["estimated_delivery_date"], Decimal(quotes[i]["total_charge"]))
    )
    return index, f"No quote arrives by the promised {promised}; the fastest was chosen."


def _sort_key(quote: dict):
    return (Decimal(quote["total_charge"]), quote["estimated_delivery_date"], quote["carrier"], quote["service"])


def shop(
    *, shipment, packages, now: datetime | None = None, accounts: list[CarrierAccount] | None = None
) -> ShopResult:
    """Ask every active account for quotes (one call per account); no database writes."""
    now = now or timezone.now()
    order = shipment.order
    warehouse = shipment.warehouse
    shipper = selectors.ship_from(warehouse)
    recipient = selectors.ship_to(order)
    parcels = selectors.parcels(shipment, packages)
    destination = recipient.country
    method = order.shipping_method
    if method == ServiceCode.SAME_DAY and destination and destination != warehouse.country:
        method = ServiceCode.EXPRESS  # abroad, same day travels as express (orders.promise)
    quotes: list[dict] = []
    errors: list[dict] = []
    for account in accounts if accounts is not None else selectors.active_accounts():
        services = {s.service_code: s for s in account.services.all() if s.active}
        usable = {}
        for code, service in services.items():
            why = _eligible(service, method=method, packages=packages)
            if why:
                continue
            usable[code] = service
        if not usable:
            continue
        try:
            found = gateway.rates(
                selectors.connection(account, list(usable.values())),
                shipper=shipper,
                recipient=recipient,
                parcels=parcels,
                services=list(usable),
            )
        except gateway.CarrierError as error:
            logger.warning(
                "carrier account %s could not rate shipment %s: %s", account.carrier_id, shipment.pk, error.code
            )
            errors.append({"carrier": account.carrier_id, "code": error.code, "message": error.message[:300]})
            continue
        weight = sum(p.billable_g(account.dim_divisor_mm3_per_g) for p in parcels)
        for quote in found:
            service = usable.get(quote.service_code)
            if service is None:
                continue  # a service this account does not sell through us
            transit = quote.transit_days if quote.transit_days is not None else service.transit_days
            estimate = quote.estimated_delivery or _estimate(
                warehouse, destination, level=service.level, transit_days=transit, now=now
            )
            quotes.append(
                {
                    "carrier_account": str(account.pk),
                    "carrier": account.carrier_id,
                    "carrier_name": account.carrier_name,
                    "service": service.service_code,
                    "service_name": service.service_name,
                    "level": service.level,
                    "total_charge": str(quote.total_charge),
                    "currency": quote.currency or service.currency,
                    "transit_days": transit,
                    "estimated_delivery_date": estimate.isoformat(),
                    "keeps_promise": bool(order.promised_delivery_date and estimate <= order.promised_delivery_date),
                    "billable_weight_g": weight,
                }
            )
    quotes.sort(key=_sort_key)
    chosen, reason = _choose(quotes, order)
    return ShopResult(quotes=quotes, errors=errors, chosen=chosen, reason=reason)


def rate_shop_record(*, shipment, result: ShopResult) -> RateShop:
    """Store a round of quotes (the latest one is what pages and the API show)."""
    return RateShop.objects.create(
        tenant_id=shipment.tenant_id,
        shipment=shipment,
        quotes=result.quotes,
        errors=result.errors,
        chosen=result.chosen,
        reason=result.reason[:300],
    )
