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
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import attr
from loguru import logger

logger.disable("karrio")

import jinja2  # noqa: E402
import karrio.addons.label as karrio_label  # noqa: E402
import karrio.core.models as km  # noqa: E402
import karrio.lib as lib  # noqa: E402
import karrio.sdk as karrio  # noqa: E402
from karrio.core.errors import ParsedMessagesError  # noqa: E402
from karrio.core.utils import Cache, Tracer  # noqa: E402
from PIL import ImageFile  # noqa: E402

from packing.cartonization import dim_weight_g  # noqa: E402

# karrio switches Pillow to loading truncated images, for the whole process, when it is imported;
# logo uploads (fulfillment.tenancy.branding) rely on a truncated file being refused.
ImageFile.LOAD_TRUNCATED_IMAGES = False


@functools.lru_cache(maxsize=32)
def _label_template(source: str) -> jinja2.Template:
    return jinja2.Template(source)


# karrio draws a rate-sheet label by compiling its SVG template anew for every parcel
# (``jinja2.Template(source)``, about half of the label's CPU time); compiled once, the same
# template renders the same label.
karrio_label.Template = _label_template

CENT = Decimal("0.01")
# ZPL's command prefixes and control characters never reach a carrier or a label.
_UNSAFE = re.compile(r"[\^~\x00-\x1f]")


def _clean(value: str) -> str:
    return _UNSAFE.sub(" ", value or "").strip()


@lru_cache(maxsize=1)
def generic_label_template() -> str:
    """The parcel label of rate-sheet accounts (karrio renders it to PDF and to ZPL): karrio's own
    default is a freight (GS1) label with PRO and BOL numbers, not a parcel label."""
    return (Path(__file__).parent / "templates" / "generic_label.svg").read_text()


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
        name, company = _clean(self.name), _clean(self.company)
        return km.Address(
            person_name=name or company or None,
            company_name=company or name or None,
            address_line1=_clean(self.line1),
            address_line2=_clean(self.line2) or None,
            city=_clean(self.city) or None,
            state_code=_clean(self.region) or None,
            postal_code=_clean(self.postal_code).replace(" ", "") or None,
            country_code=_clean(self.country) or None,
            phone_number=_clean(self.phone) or None,
            email=_clean(self.email) or None,
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

    def billable_g(self, dim_divisor_cm3_per_kg: int) -> int:
        """max(actual weight, DIM weight) in grams (5000 cm³/kg is 5000 mm³/g, cartonization's unit)."""
        return max(self.weight_g, dim_weight_g(self.length_mm, self.width_mm, self.height_mm, dim_divisor_cm3_per_kg))

    def karrio(self, *, tracking_number: str = "", weight_g: int | None = None) -> km.Parcel:
        return km.Parcel(
            weight=max(weight_g if weight_g is not None else self.weight_g, 1) / 1000,
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


@lru_cache(maxsize=64)
def _has_return_call(carrier_name: str) -> bool:
    """Whether the karrio connector has a return shipment call of its own (create_return_shipment)."""
    provider = karrio.gateway.providers.get(carrier_name)
    if provider is None:
        return False
    from karrio.api.proxy import Proxy as BaseProxy

    return getattr(provider.Proxy, "create_return_shipment", None) is not BaseProxy.create_return_shipment


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


class _Untraced(Tracer):
    """karrio's Tracer keeps every request and answer it is handed (bodies with credentials in
    them, DHL's XML for one; labels) in memory for persistence by karrio's server, which this
    installation does not run: a cached gateway's tracer would grow with every call for the life
    of the process. This one hands the data back and keeps nothing."""

    def trace(self, data, key, metadata=None, format=None):  # noqa: A002 - karrio's signature
        return data


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
    if conn.carrier_name == "fedex" and not settings.get("track_api_key"):
        # karrio's FedEx tracking asks for a key pair of its own; a FedEx project that includes the
        # Track API answers to the shipping pair (one OAuth token for both).
        settings["track_api_key"] = settings.get("api_key")
        settings["track_secret_key"] = settings.get("secret_key")
    if conn.carrier_name == "generic":
        settings.update(
            display_name=conn.display_name,
            custom_carrier_name=conn.carrier_id.replace("-", "_"),
            services=[_service_level(s, conn) for s in conn.services],
            label_template={"slug": "parcel", "template": generic_label_template(), "template_type": "SVG"},
        )
    try:
        gateway = karrio.gateway[conn.carrier_name].create(settings, tracer=_Untraced(), cache=token_cache(conn))
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
    except ParsedMessagesError as error:  # e.g. the carrier refused the OAuth token request
        details = _messages(error.messages)
        raise CarrierError(
            f"{conn.display_name}: {what} refused: " + ("; ".join(m["message"] for m in details) or "no reason given"),
            code="carrier_refused",
            details=details,
        ) from error
    except (TimeoutError, OSError) as error:  # urllib.error.URLError is an OSError
        raise CarrierError(
            f"{conn.display_name}: {what} failed: {type(error).__name__}", code="carrier_unavailable", retryable=True
        ) from error
    except Exception as error:
        # An answer the connector could not read (an outage page instead of JSON, ...).
        raise CarrierError(
            f"{conn.display_name}: {what} failed: {type(error).__name__}: {str(error)[:200]}",
            code="carrier_unavailable",
            retryable=True,
        ) from error


# karrio operation (a proxy method): the mapper's request builder and answer parser.
_STEPS = {
    "get_rates": ("create_rate_request", "parse_rate_response"),
    "create_shipment": ("create_shipment_request", "parse_shipment_response"),
    "create_return_shipment": ("create_return_shipment_request", "parse_return_shipment_response"),
    "cancel_shipment": ("create_cancel_shipment_request", "parse_cancel_shipment_response"),
    "get_tracking": ("create_tracking_request", "parse_tracking_response"),
    "create_manifest": ("create_manifest_request", "parse_manifest_response"),
}


def _perform(conn: Connection, what: str, operation: str, payload, *, origin_country: str | None = None):
    """One karrio operation: ((parsed, messages), the carrier's decoded answer).

    The steps of karrio's fluent interface (karrio.sdk's Rating.fetch, Shipment.create, ...) run
    here one by one, without its fail-safe wrapper: that wrapper turns every exception, a refused
    connection or a timeout included, into an error message indistinguishable from a refusal by
    the carrier, and keeps the carrier's answer (where FedEx puts the numbers of the pieces) to
    itself. The checks it makes first (the operation exists, the account ships from the origin)
    are made the same way."""
    gateway = _gateway(conn)
    refused = gateway.check(operation, origin_country_code=origin_country)
    if refused:
        return (None, refused), None
    build, parse = _STEPS[operation]
    payload = lib.to_object(type(payload), lib.to_dict(payload))  # as karrio.sdk normalises it

    def run():
        try:
            request = getattr(gateway.mapper, build)(payload)
        except Exception as error:
            # Before any call: what we ask is what the connector cannot put into a request (a
            # field it requires, an option it rejects); asking again would fail the same way.
            raise CarrierError(
                f"{conn.display_name}: {what} could not be asked: {type(error).__name__}: {str(error)[:200]}",
                code="invalid_request",
            ) from error
        response = getattr(gateway.proxy, operation)(request)
        return getattr(gateway.mapper, parse)(response), response

    return _call(conn, what, run)


def _answer(response) -> object:
    """The carrier's answer as karrio decoded it (a dict for the JSON carriers), or None."""
    try:
        return response.deserialize() if response is not None else None
    except Exception:
        return None


# -- the four calls ----------------------------------------------------------------------------


def _service_name(rate) -> str:
    """The carrier's name of a service not on the account; karrio's FedEx and UPS connectors put
    the service code itself in ``meta.service_name``, a code is then all there is."""
    name = str((rate.meta or {}).get("service_name") or "")
    return name or rate.service


def rates(
    conn: Connection, *, shipper: Party, recipient: Party, parcels: list[Parcel], services: list[str] | None = None
) -> list[Quote]:
    """Every price the account offers for these parcels (one quote per service, all parcels);
    only those of ``services`` when given."""
    wanted = list(dict.fromkeys(services or []))
    request = km.RateRequest(
        shipper=shipper.karrio(),
        recipient=recipient.karrio(),
        # karrio's rate sheet matches a zone's weight band by the actual weight only: it is given the
        # billable weight (DIM weight with the account's divisor), as a carrier would bill it.
        parcels=[
            p.karrio(weight_g=p.billable_g(conn.dim_divisor_cm3_per_kg) if conn.carrier_name == "generic" else None)
            for p in parcels
        ],
        # Several services are asked as none, the answer filtered here: karrio's FedEx connector
        # (among others) asks the carrier for the first service listed only.
        services=wanted if len(wanted) == 1 else [],
    )
    (found, messages), _ = _perform(conn, "rating", "get_rates", request, origin_country=shipper.country or None)
    quotes = []
    names = {s.service_code: s.service_name for s in conn.services}
    for rate in found or []:
        amount = _money(rate.total_charge)
        if amount is None or (wanted and rate.service not in wanted):
            continue
        quotes.append(
            Quote(
                carrier_id=conn.carrier_id,
                service_code=rate.service,
                service_name=names.get(rate.service) or _service_name(rate),
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


def _piece_numbers(carrier_name: str, answer) -> list[str]:
    """Tracking numbers of the pieces of a multi-piece shipment, in parcel order, from the answer:
    karrio's FedEx connector leaves them out of ShipmentDetails.meta (FedEx answers one
    ``pieceResponses`` entry per parcel, the first carrying the master number), and Canada Post's
    come back there unordered. [] for the others (UPS's meta.tracking_numbers is in order)."""
    if carrier_name == "fedex" and isinstance(answer, dict):
        try:
            pieces = answer["output"]["transactionShipments"][0].get("pieceResponses") or []
        except (KeyError, IndexError, TypeError, AttributeError):
            return []
        pieces = [p for p in pieces if isinstance(p, dict) and p.get("trackingNumber")]
        pieces.sort(key=lambda p: p.get("packageSequenceNumber") or 0)
        return [str(p["trackingNumber"]) for p in pieces]
    if carrier_name == "canadapost" and isinstance(answer, list):
        # One shipment per parcel, answered in parcel order: (shipment-info element, label).
        pins = [lib.find_element("tracking-pin", element, first=True) for element, _ in answer]
        return [pin.text.strip() for pin in pins if pin is not None and (pin.text or "").strip()]
    return []


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
    is_return: bool = False,
) -> Label:
    """Buy the label of ``service_code`` for all parcels (multi-piece where the carrier can).

    ``is_return``: a prepaid return label, ``shipper`` the one who sends the parcel back (the
    shopper), ``recipient`` where it goes (the warehouse), billed to the account. karrio's
    ShipmentRequest carries ``is_return``; a connector with a return call of its own (FedEx, UPS,
    DHL Express, Canada Post: ``create_return_shipment``) gets the request as karrio's SDK hands it
    one after its address swap (shipper the shopper, return address the warehouse); the others
    (the rate sheet) draw an ordinary label from the shopper to the warehouse."""
    own_numbers = tracking_numbers_for(purchase_key, len(parcels)) if conn.carrier_name == "generic" else []
    operation = "create_return_shipment" if is_return and _has_return_call(conn.carrier_name) else ""
    request = km.ShipmentRequest(
        service=service_code,
        shipper=shipper.karrio(),
        recipient=recipient.karrio(),
        parcels=[p.karrio(tracking_number=own_numbers[i] if own_numbers else "") for i, p in enumerate(parcels)],
        label_type=label_type,
        reference=reference or None,
        payment=km.Payment(paid_by="sender"),  # billed to the account (FedEx's connector requires it)
        options={},
        is_return=is_return,
        return_address=recipient.karrio() if operation else None,
    )
    (details, messages), response = _perform(
        conn, "label purchase", operation or "create_shipment", request, origin_country=shipper.country or None
    )
    if details is None or not details.tracking_number:
        raise CarrierError(
            f"{conn.display_name}: the label was refused: "
            + ("; ".join(m["message"] for m in _messages(messages)) or "no label in the answer"),
            code="carrier_refused",
            details=_messages(messages),
        )
    meta = details.meta or {}
    # The answer's own order first: karrio's multi-piece merge (lib.to_multi_piece_shipment) puts
    # meta.tracking_numbers through a set, in no particular order.
    numbers = _piece_numbers(conn.carrier_name, _answer(response)) or [
        str(n) for n in (meta.get("tracking_numbers") or []) if n
    ]
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
    (confirmation, messages), _ = _perform(conn, "void", "cancel_shipment", request)
    if confirmation is None or not getattr(confirmation, "success", False):
        raise CarrierError(
            f"{conn.display_name}: the void was refused: "
            + ("; ".join(m["message"] for m in _messages(messages)) or "no confirmation"),
            code="void_refused",
            details=_messages(messages),
        )
    return True


def _timestamp(event, exact: dict) -> datetime | None:
    """When a scan happened. karrio's ``timestamp`` is the carrier's wall-clock time at the scan
    location with a "Z" appended (lib.fiso_timestamp drops any offset the carrier gave): read it as
    the local time it is (naive) and take the exact instant from the carrier's answer where it has
    one (``exact``: local time -> aware time, see _exact_times)."""
    for value in (event.timestamp, f"{event.date}T{event.time or '00:00'}" if event.date else None):
        if not value:
            continue
        text = str(value)
        if text.endswith("Z"):
            text = text[:-1]
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            # karrio keeps the seconds of some carriers' times (FedEx) and not of others' (UPS)
            return exact.get(parsed.replace(microsecond=0)) or exact.get(("minute", parsed.replace(second=0)), parsed)
        return parsed
    return None


def _aware(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(text))
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None


def _exact_times(carrier_name: str, answer) -> dict:
    """Scan times with their UTC offset, from the answers that carry one: FedEx's scanEvents
    dates ("2026-12-08T04:12:00-05:00"), UPS's activity gmtDate/gmtTime beside the local ones."""
    exact: dict = {}

    def keep(local: datetime, at: datetime) -> None:
        exact.setdefault(local, at)
        exact.setdefault(("minute", local.replace(second=0, microsecond=0)), at)

    try:
        if carrier_name == "fedex" and isinstance(answer, dict):
            for result in (answer.get("output") or {}).get("completeTrackResults") or []:
                for track in result.get("trackResults") or []:
                    for scan in track.get("scanEvents") or []:
                        at = _aware(scan.get("date"))
                        if at is not None:
                            keep(at.replace(tzinfo=None), at)
        elif carrier_name == "ups" and isinstance(answer, list):
            for _, result in answer:
                for shipment in ((result or {}).get("trackResponse") or {}).get("shipment") or []:
                    for package in shipment.get("package") or []:
                        for activity in package.get("activity") or []:
                            local = datetime.strptime(f"{activity['date']}{activity['time']}", "%Y%m%d%H%M%S")
                            gmt = datetime.strptime(f"{activity['gmtDate']}{activity['gmtTime']}", "%Y%m%d%H:%M:%S")
                            keep(local, gmt.replace(tzinfo=UTC))
    except (KeyError, TypeError, ValueError, AttributeError):
        pass
    return exact


def track(conn: Connection, *, tracking_numbers: list[str]) -> list[Tracked]:
    """The carrier's tracking of these numbers (those it knows); [] for a carrier that has none."""
    if "tracking" not in capabilities(conn.carrier_name) or not tracking_numbers:
        return []
    request = km.TrackingRequest(tracking_numbers=list(tracking_numbers))
    (found, messages), response = _perform(conn, "tracking", "get_tracking", request)
    exact = _exact_times(conn.carrier_name, _answer(response))
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
                occurred_at=_timestamp(e, exact),
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


@lru_cache(maxsize=64)
def _code_tables(carrier_name: str) -> tuple[dict[str, str], dict[str, str]]:
    """({carrier code: karrio status}, {carrier code: karrio incident reason}) from the connector's
    units, for codes a carrier pushes; empty for a connector without them (the rate sheet)."""
    import importlib

    try:
        units = importlib.import_module(f"karrio.providers.{carrier_name}.units")
    except ImportError:
        return {}, {}
    tables: list[dict[str, str]] = []
    for enum_name in ("TrackingStatus", "TrackingIncidentReason"):
        table: dict[str, str] = {}
        for member in getattr(units, enum_name, None) or []:
            values = member.value if isinstance(member.value, list | tuple) else [member.value]
            for value in values:
                if isinstance(value, str) and value:
                    table.setdefault(value.upper(), member.name)
        tables.append(table)
    return tables[0], tables[1]


def status_of(carrier_name: str, code: str) -> tuple[str, str]:
    """(karrio's status, incident reason) of a carrier's own event code; ("", "") when unknown."""
    statuses, reasons = _code_tables(carrier_name)
    key = (code or "").strip().upper()
    return statuses.get(key, ""), reasons.get(key, "")


def manifest(conn: Connection, *, shipment_identifiers: list[str], address: Party) -> tuple[str, bytes | None]:
    """Hand the day's shipments over (carriers with a manifest call): (reference, document)."""
    request = km.ManifestRequest(shipment_identifiers=list(shipment_identifiers), address=address.karrio())
    (details, messages), _ = _perform(conn, "manifest", "create_manifest", request)
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
