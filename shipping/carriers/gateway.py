"""Every carrier call goes through here: karrio's SDK (``karrio.sdk``) behind plain values.

Nothing in this module touches the database: callers pass a ``Connection`` (a carrier account's
karrio name, credentials and services), parties and parcels, and get quotes, bought labels and
tracking results back, or a ``CarrierError``. The carriers are karrio's: ``generic`` (a rate
sheet, no network: the default account of a fresh installation), ``fedex``, ``ups``,
``dhl_express``, ``canadapost`` and any other karrio extension installed.

karrio logs through loguru, request bodies (credentials included) among it: that output is
disabled before karrio is imported, so that nothing a carrier is sent reaches the logs.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import attr
from loguru import logger

logger.disable("karrio")

import jinja2  # noqa: E402
import karrio.addons.label as karrio_label  # noqa: E402
import karrio.core.models as km  # noqa: E402
import karrio.sdk as karrio  # noqa: E402
from karrio.core.utils import Cache  # noqa: E402


@functools.lru_cache(maxsize=32)
def _label_template(source: str) -> jinja2.Template:
    return jinja2.Template(source)


# karrio draws a rate-sheet label by compiling its SVG template anew for every parcel
# (``jinja2.Template(source)``, about half of the label's CPU time); compiled once, the same
# template renders the same label.
karrio_label.Template = _label_template

CENT = Decimal("0.01")

# Settings fields every karrio carrier has; the others of a carrier are its credentials.
_COMMON_SETTINGS = {"id", "carrier_id", "test_mode", "metadata", "config", "account_country_code", "cache", "tracer"}
# What each carrier we document needs to answer at all (karrio declares them optional).
REQUIRED_CREDENTIALS = {
    "fedex": ["api_key", "secret_key", "account_number"],
    "ups": ["client_id", "client_secret", "account_number"],
    "dhl_express": ["site_id", "password", "account_number"],
    "canadapost": ["username", "password", "customer_number"],
    "usps": ["client_id", "client_secret", "account_number"],
    "generic": [],
}
# The generic carrier's settings that are not credentials but come from the account row.
_GENERIC_SETTINGS = {"display_name", "custom_carrier_name", "services", "label_template", "account_number"}


class CarrierError(Exception):
    """A carrier refused or failed a request.

    ``retryable``: an outage or timeout (try again later) rather than a refusal (bad address, a
    parcel the service cannot carry) that would fail the same way again."""

    def __init__(self, message: str, *, code: str = "carrier_error", retryable: bool = False, details=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.details = details or []


@dataclass(frozen=True)
class Party:
    """A ship-from or ship-to address (the keys of an order's ``ship_to``)."""

    name: str = ""
    company: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    phone: str = ""
    email: str = ""
    residential: bool = False

    @classmethod
    def from_dict(cls, data: dict, *, residential: bool = False) -> Party:
        data = data or {}
        return cls(
            name=data.get("name") or "",
            company=data.get("company") or "",
            line1=data.get("line1") or "",
            line2=data.get("line2") or "",
            city=data.get("city") or "",
            region=data.get("region") or "",
            postal_code=data.get("postal_code") or "",
            country=(data.get("country") or "").upper(),
            phone=data.get("phone") or "",
            email=data.get("email") or "",
            residential=residential,
        )

    def karrio(self) -> km.Address:
        return km.Address(
            person_name=self.name or self.company or None,
            company_name=self.company or self.name or None,
            address_line1=self.line1,
            address_line2=self.line2 or None,
            city=self.city or None,
            state_code=self.region or None,
            postal_code=(self.postal_code or "").replace(" ", "") or None,
            country_code=self.country or None,
            phone_number=self.phone or None,
            email=self.email or None,
            residential=self.residential,
        )


@dataclass(frozen=True)
class Parcel:
    """One package: actual weight and outer size; ``reference`` is printed on the label."""

    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    reference: str = ""

    def karrio(self, *, tracking_number: str = "") -> km.Parcel:
        return km.Parcel(
            weight=max(self.weight_g, 1) / 1000,
            weight_unit="KG",
            length=max(self.length_mm, 1) / 10,
            width=max(self.width_mm, 1) / 10,
            height=max(self.height_mm, 1) / 10,
            dimension_unit="CM",
            packaging_type="your_packaging",
            reference_number=tracking_number or self.reference or None,
        )


@dataclass(frozen=True)
class Zone:
    """One row of a generic rate sheet: a price for destinations and a weight band (kg)."""

    rate: Decimal
    country_codes: tuple[str, ...] = ()
    min_weight_kg: Decimal | None = None
    max_weight_kg: Decimal | None = None
    transit_days: int | None = None  # this zone's own, else the service's


@dataclass(frozen=True)
class Service:
    """A service an account offers. ``zones`` only for the generic carrier (its rate sheet)."""

    service_code: str
    service_name: str
    currency: str = ""
    transit_days: int | None = None
    zones: tuple[Zone, ...] = ()


@dataclass(frozen=True)
class Connection:
    """What karrio needs to reach one carrier account."""

    key: str  # stable per account and version (cache key of the gateway and its OAuth tokens)
    carrier_name: str
    carrier_id: str
    display_name: str
    credentials: dict = field(default_factory=dict, hash=False, compare=False)
    test_mode: bool = True
    account_country: str = ""
    dim_divisor_cm3_per_kg: int = 5000
    services: tuple[Service, ...] = ()


@dataclass(frozen=True)
class Quote:
    carrier_id: str
    service_code: str
    service_name: str
    total_charge: Decimal
    currency: str
    transit_days: int | None
    estimated_delivery: date | None = None


@dataclass(frozen=True)
class Label:
    """A bought label: one tracking number per parcel (the first is the shipment's)."""

    shipment_identifier: str
    tracking_numbers: list[str]
    label: bytes  # as the carrier sent it, in ``label_type``
    label_type: str  # PDF or ZPL
    total_charge: Decimal | None = None
    currency: str = ""
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TrackedEvent:
    code: str
    description: str
    occurred_at: datetime | None
    location: str = ""
    status: str = ""  # karrio's normalised status, when the carrier's code maps to one
    reason: str = ""


@dataclass(frozen=True)
class Tracked:
    tracking_number: str
    status: str  # karrio's normalised status of the parcel
    delivered: bool
    estimated_delivery: date | None
    events: list[TrackedEvent]


# -- carriers and their settings --------------------------------------------------------------


def carrier_names() -> list[str]:
    """Every karrio carrier this installation can connect."""
    return sorted(karrio.gateway.providers.keys())


def _settings_class(carrier_name: str):
    provider = karrio.gateway.providers.get(carrier_name)
    if provider is None:
        raise CarrierError(f"unknown carrier {carrier_name!r}", code="unknown_carrier")
    return provider.Settings


def credential_fields(carrier_name: str) -> tuple[list[str], list[str]]:
    """(required, optional) credential names of a karrio carrier."""
    settings_class = _settings_class(carrier_name)
    names = [f.name for f in attr.fields(settings_class) if f.name not in _COMMON_SETTINGS]
    if carrier_name == "generic":
        names = [n for n in names if n not in _GENERIC_SETTINGS]
    required = REQUIRED_CREDENTIALS.get(carrier_name)
    if required is None:
        required = [
            f.name
            for f in attr.fields(settings_class)
            if f.name in names and f.default is attr.NOTHING and f.name not in _COMMON_SETTINGS
        ]
    return list(required), [n for n in names if n not in required]


def capabilities(carrier_name: str) -> set[str]:
    """What the carrier's karrio connector can do: rating, shipping, tracking, manifest, cancel."""
    provider = karrio.gateway.providers.get(carrier_name)
    if provider is None:
        return set()
    from karrio.api.proxy import Proxy as BaseProxy

    proxy = provider.Proxy
    found = set()
    for capability, method in [
        ("rating", "get_rates"),
        ("shipping", "create_shipment"),
        ("cancel", "cancel_shipment"),
        ("tracking", "get_tracking"),
        ("manifest", "create_manifest"),
    ]:
        if getattr(proxy, method, None) is not getattr(BaseProxy, method, None):
            found.add(capability)
    return found


def _service_level(service: Service, conn: Connection) -> dict:
    return {
        "service_name": service.service_name,
        "service_code": service.service_code,
        "currency": service.currency or "USD",
        "transit_days": service.transit_days,
        "weight_unit": "KG",
        "dimension_unit": "CM",
        "dim_factor": conn.dim_divisor_cm3_per_kg,
        "use_volumetric": True,
        "zones": [
            {
                "label": f"Zone {index}",
                "rate": float(zone.rate),
                "country_codes": list(zone.country_codes),
                "min_weight": float(zone.min_weight_kg) if zone.min_weight_kg is not None else None,
                "max_weight": float(zone.max_weight_kg) if zone.max_weight_kg is not None else None,
                "transit_days": zone.transit_days,
            }
            for index, zone in enumerate(service.zones, 1)
        ],
    }


_gateways: dict[str, object] = {}
_caches: dict[str, Cache] = {}
_lock = threading.Lock()


def token_cache(conn: Connection) -> Cache:
    """The account's karrio cache (OAuth tokens live here between calls)."""
    with _lock:
        return _caches.setdefault(conn.key, Cache())


def _gateway(conn: Connection):
    # The services are part of a generic gateway's settings (its rate sheet): one gateway per set.
    cache_key = f"{conn.key}:{hash(conn.services)}"
    with _lock:
        gateway = _gateways.get(cache_key)
    if gateway is not None:
        return gateway
    settings = {
        **{k: v for k, v in (conn.credentials or {}).items() if v not in (None, "")},
        "carrier_id": conn.carrier_id,
        "test_mode": conn.test_mode,
    }
    if conn.account_country:
        settings["account_country_code"] = conn.account_country
    if conn.carrier_name == "generic":
        settings.update(
            display_name=conn.display_name,
            custom_carrier_name=conn.carrier_id.replace("-", "_"),
            services=[_service_level(s, conn) for s in conn.services],
        )
    try:
        gateway = karrio.gateway[conn.carrier_name].create(settings, cache=token_cache(conn))
    except Exception as error:  # karrio wraps a bad setting in ShippingSDKError
        raise CarrierError(f"{conn.carrier_name} could not be set up: {error}", code="invalid_credentials") from error
    with _lock:
        if len(_gateways) > 500:  # accounts changed many times in one process: start afresh
            _gateways.clear()
        _gateways[cache_key] = gateway
    return gateway


def forget(key: str | None = None) -> None:
    """Drop cached gateways (all, or one account's) after an account changes."""
    with _lock:
        if key is None:
            _gateways.clear()
            _caches.clear()
        else:
            for cached in [k for k in _gateways if k.startswith(f"{key}:")]:
                _gateways.pop(cached, None)
            _caches.pop(key, None)


def _messages(messages) -> list[dict]:
    return [
        {"code": str(m.code or ""), "message": str(m.message or "")[:500], "carrier": m.carrier_id or m.carrier_name}
        for m in messages or []
    ]


def _money(value) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)
    except InvalidOperation:
        return None


def _date(value) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _call(conn: Connection, what: str, thunk):
    """Run a karrio request; network faults and crashes inside a connector become CarrierError."""
    try:
        return thunk()
    except CarrierError:
        raise
    except (TimeoutError, OSError) as error:
        raise CarrierError(
            f"{conn.display_name}: {what} failed: {type(error).__name__}", code="carrier_unavailable", retryable=True
        ) from error
    except Exception as error:
        # karrio reports HTTP failures through exceptions of its own; treat them as outages.
        raise CarrierError(
            f"{conn.display_name}: {what} failed: {type(error).__name__}: {str(error)[:200]}",
            code="carrier_unavailable",
            retryable=True,
        ) from error


# -- the four calls ----------------------------------------------------------------------------


def rates(
    conn: Connection, *, shipper: Party, recipient: Party, parcels: list[Parcel], services: list[str] | None = None
) -> list[Quote]:
    """Every price the account offers for these parcels (one quote per service, all parcels)."""
    request = km.RateRequest(
        shipper=shipper.karrio(),
        recipient=recipient.karrio(),
        parcels=[p.karrio() for p in parcels],
        services=list(services or []),
    )
    gateway = _gateway(conn)
    found, messages = _call(conn, "rating", lambda: karrio.Rating.fetch(request).from_(gateway).parse())
    quotes = []
    names = {s.service_code: s.service_name for s in conn.services}
    for rate in found or []:
        amount = _money(rate.total_charge)
        if amount is None:
            continue
        quotes.append(
            Quote(
                carrier_id=conn.carrier_id,
                service_code=rate.service,
                service_name=(rate.meta or {}).get("service_name") or names.get(rate.service) or rate.service,
                total_charge=amount,
                currency=(rate.currency or "").upper(),
                transit_days=rate.transit_days,
                estimated_delivery=_date(rate.estimated_delivery),
            )
        )
    if not quotes and messages:
        raise CarrierError(
            f"{conn.display_name}: {'; '.join(m['message'] for m in _messages(messages))}",
            code="carrier_refused",
            details=_messages(messages),
        )
    return quotes


def tracking_numbers_for(purchase_key: str, count: int) -> list[str]:
    """Tracking numbers a rate-sheet carrier prints for a purchase: derived from its key, so that
    buying again after a crash gives the same numbers (12 digits each)."""
    numbers = []
    for index in range(count):
        digest = hashlib.sha256(f"{purchase_key}:{index}".encode()).hexdigest()
        numbers.append(f"{int(digest[:15], 16) % 10**12:012d}")
    return numbers


def buy(
    conn: Connection,
    *,
    shipper: Party,
    recipient: Party,
    parcels: list[Parcel],
    service_code: str,
    purchase_key: str,
    reference: str = "",
    label_type: str = "PDF",
) -> Label:
    """Buy the label of ``service_code`` for all parcels (multi-piece where the carrier can)."""
    own_numbers = tracking_numbers_for(purchase_key, len(parcels)) if conn.carrier_name == "generic" else []
    request = km.ShipmentRequest(
        service=service_code,
        shipper=shipper.karrio(),
        recipient=recipient.karrio(),
        parcels=[p.karrio(tracking_number=own_numbers[i] if own_numbers else "") for i, p in enumerate(parcels)],
        label_type=label_type,
        reference=reference or None,
        payment=km.Payment(paid_by="sender"),  # billed to the account (FedEx's connector requires it)
        options={},
    )
    gateway = _gateway(conn)
    details, messages = _call(conn, "label purchase", lambda: karrio.Shipment.create(request).from_(gateway).parse())
    if details is None or not details.tracking_number:
        raise CarrierError(
            f"{conn.display_name}: the label was refused: "
            + ("; ".join(m["message"] for m in _messages(messages)) or "no label in the answer"),
            code="carrier_refused",
            details=_messages(messages),
        )
    meta = details.meta or {}
    numbers = [str(n) for n in (meta.get("tracking_numbers") or []) if n]
    if details.tracking_number not in numbers:
        numbers.insert(0, str(details.tracking_number))
    else:  # the shipment's (master) number first
        numbers.remove(str(details.tracking_number))
        numbers.insert(0, str(details.tracking_number))
    if own_numbers:
        numbers = own_numbers
    label = details.docs.label if details.docs else None
    if not label:
        raise CarrierError(f"{conn.display_name}: the answer carried no label", code="label_missing")
    rate = details.selected_rate
    return Label(
        shipment_identifier=str(details.shipment_identifier or details.tracking_number),
        tracking_numbers=numbers,
        label=base64.b64decode(label),
        label_type=(details.label_type or label_type).upper(),
        total_charge=_money(rate.total_charge) if rate else None,
        currency=(rate.currency or "").upper() if rate else "",
        meta={k: v for k, v in meta.items() if k in {"service_name", "carrier_tracking_link", "shipment_identifiers"}},
    )


def void(conn: Connection, *, shipment_identifier: str, service_code: str = "") -> bool:
    """Cancel a bought label with the carrier. False when the carrier has no cancel call (labels of
    such carriers, the rate-sheet one included, are only billed once scanned)."""
    if "cancel" not in capabilities(conn.carrier_name):
        return False
    request = km.ShipmentCancelRequest(shipment_identifier=shipment_identifier, service=service_code or None)
    gateway = _gateway(conn)
    confirmation, messages = _call(conn, "void", lambda: karrio.Shipment.cancel(request).from_(gateway).parse())
    if confirmation is None or not getattr(confirmation, "success", False):
        raise CarrierError(
            f"{conn.display_name}: the void was refused: "
            + ("; ".join(m["message"] for m in _messages(messages)) or "no confirmation"),
            code="void_refused",
            details=_messages(messages),
        )
    return True


def _timestamp(event) -> datetime | None:
    for value in (event.timestamp, f"{event.date}T{event.time or '00:00'}" if event.date else None):
        if not value:
            continue
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            continue
        return parsed
    return None


def track(conn: Connection, *, tracking_numbers: list[str]) -> list[Tracked]:
    """The carrier's tracking of these numbers (those it knows); [] for a carrier that has none."""
    if "tracking" not in capabilities(conn.carrier_name) or not tracking_numbers:
        return []
    request = km.TrackingRequest(tracking_numbers=list(tracking_numbers))
    gateway = _gateway(conn)
    found, messages = _call(conn, "tracking", lambda: karrio.Tracking.fetch(request).from_(gateway).parse())
    if not found and messages:
        raise CarrierError(
            f"{conn.display_name}: tracking failed: " + "; ".join(m["message"] for m in _messages(messages)),
            code="tracking_failed",
            details=_messages(messages),
        )
    results = []
    for details in found or []:
        events = [
            TrackedEvent(
                code=str(e.code or e.status or ""),
                description=str(e.description or "")[:200],
                occurred_at=_timestamp(e),
                location=str(e.location or "")[:100],
                status=str(e.status or ""),
                reason=str(e.reason or ""),
            )
            for e in details.events or []
        ]
        results.append(
            Tracked(
                tracking_number=str(details.tracking_number),
                status=str(details.status or ("delivered" if details.delivered else "unknown")),
                delivered=bool(details.delivered),
                estimated_delivery=_date(details.estimated_delivery),
                events=events,
            )
        )
    return results


def manifest(conn: Connection, *, shipment_identifiers: list[str], address: Party) -> tuple[str, bytes | None]:
    """Hand the day's shipments over (carriers with a manifest call): (reference, document)."""
    request = km.ManifestRequest(shipment_identifiers=list(shipment_identifiers), address=address.karrio())
    gateway = _gateway(conn)
    details, messages = _call(conn, "manifest", lambda: karrio.Manifest.create(request).from_(gateway).parse())
    if details is None:
        raise CarrierError(
            f"{conn.display_name}: the manifest was refused: "
            + ("; ".join(m["message"] for m in _messages(messages)) or "no answer"),
            code="manifest_refused",
            details=_messages(messages),
        )
    document = getattr(getattr(details, "doc", None), "manifest", None)
    return str(getattr(details, "id", "") or (details.meta or {}).get("manifest_id", "") or ""), (
        base64.b64decode(document) if document else None
    )
