"""Carrier accounts: add, change, test and deactivate connections to carriers through karrio.

Credentials are checked against what the karrio carrier needs (shipping.carriers.gateway) and
stored encrypted (shipping.credentials); a generic account carries its own rate sheet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from fulfillment.errors import FieldRefusal, Refusal
from shipping import credentials as secrets
from shipping import selectors
from shipping.carriers import gateway
from shipping.models import CarrierAccount, CarrierService, LabelPurchase, PurchaseStatus, ServiceCode

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_SERVICES = 50
MAX_ZONES = 500


class CarrierAccountError(FieldRefusal):
    code = "invalid_carrier_account"


@dataclass(frozen=True)
class ServiceInput:
    service_code: str
    service_name: str
    level: str
    transit_days: int
    currency: str = ""
    zones: tuple[dict, ...] = ()
    max_weight_g: int | None = None
    active: bool = True


def _error(field: str, code: str, message: str) -> dict:
    return {"field": field, "code": code, "message": message}


def _decimal(value, field: str, errors: list, *, minimum: Decimal = Decimal(0)) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.append(_error(field, "invalid", "must be a number"))
        return None
    if not number.is_finite() or number < minimum:
        errors.append(_error(field, "invalid", f"must be at least {minimum}"))
        return None
    return number


def _zones(raw, prefix: str, errors: list) -> list[dict]:
    if not isinstance(raw, list | tuple) or not raw:
        errors.append(_error(prefix, "required", "a generic service needs a rate sheet: at least one zone"))
        return []
    if len(raw) > MAX_ZONES:
        errors.append(_error(prefix, "too_many", f"at most {MAX_ZONES} zones"))
        return []
    zones = []
    for index, zone in enumerate(raw):
        field = f"{prefix}[{index}]"
        if not isinstance(zone, dict):
            errors.append(_error(field, "invalid", "must be an object"))
            continue
        unknown = set(zone) - {"country_codes", "min_weight_kg", "max_weight_kg", "rate", "transit_days"}
        if unknown:
            errors.append(_error(f"{field}.{sorted(unknown)[0]}", "unknown_field", "is not a zone field"))
        rate = _decimal(zone.get("rate"), f"{field}.rate", errors)
        if rate is None and "rate" not in zone:
            errors.append(_error(f"{field}.rate", "required", "a zone needs its rate"))
        low = _decimal(zone.get("min_weight_kg"), f"{field}.min_weight_kg", errors)
        high = _decimal(zone.get("max_weight_kg"), f"{field}.max_weight_kg", errors)
        if low is not None and high is not None and high <= low:
            errors.append(_error(f"{field}.max_weight_kg", "invalid", "must be above min_weight_kg"))
        countries = zone.get("country_codes") or []
        if not isinstance(countries, list) or not all(
            isinstance(c, str) and COUNTRY.match(c.upper()) for c in countries
        ):
            errors.append(_error(f"{field}.country_codes", "invalid", "must be ISO 3166-1 alpha-2 country codes"))
            countries = []
        days = zone.get("transit_days")
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 60):
            errors.append(_error(f"{field}.transit_days", "invalid", "business days in transit, 0 to 60"))
            days = None
        zones.append(
            {
                "transit_days": days,
                "country_codes": sorted({c.upper() for c in countries}),
                "min_weight_kg": str(low) if low is not None else None,
                "max_weight_kg": str(high) if high is not None else None,
                "rate": str(rate.quantize(Decimal("0.01"))) if rate is not None else None,
            }
        )
    return zones


def _services(raw, *, carrier_name: str, errors: list) -> list[ServiceInput]:
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        errors.append(_error("services", "invalid", "must be a list"))
        return []
    if len(raw) > MAX_SERVICES:
        errors.append(_error("services", "too_many", f"at most {MAX_SERVICES} services"))
        return []
    found: list[ServiceInput] = []
    codes: set[str] = set()
    for index, service in enumerate(raw):
        prefix = f"services[{index}]"
        if not isinstance(service, dict):
            errors.append(_error(prefix, "invalid", "must be an object"))
            continue
        code = str(service.get("service_code") or "").strip()
        if not SLUG.match(code):
            errors.append(_error(f"{prefix}.service_code", "invalid", "lowercase letters, digits, - and _ (1-40)"))
        elif code in codes:
            errors.append(_error(f"{prefix}.service_code", "duplicate", f"{code} is listed twice"))
        codes.add(code)
        level = service.get("level") or (code if code in ServiceCode.values else "")
        if level not in ServiceCode.values:
            errors.append(_error(f"{prefix}.level", "invalid", f"one of {', '.join(ServiceCode.values)}"))
        days = service.get("transit_days")
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 60:
            errors.append(_error(f"{prefix}.transit_days", "invalid", "business days in transit, 0 to 60"))
            days = 0
        currency = str(service.get("currency") or "CAD").upper()
        if not CURRENCY.match(currency):
            errors.append(_error(f"{prefix}.currency", "invalid", "an ISO 4217 code"))
        max_weight = service.get("max_weight_g")
        if max_weight is not None and (
            isinstance(max_weight, bool) or not isinstance(max_weight, int) or max_weight <= 0
        ):
            errors.append(_error(f"{prefix}.max_weight_g", "invalid", "grams, above 0"))
            max_weight = None
        zones = _zones(service.get("zones"), f"{prefix}.zones", errors) if carrier_name == "generic" else []
        if carrier_name != "generic" and service.get("zones"):
            errors.append(_error(f"{prefix}.zones", "not_allowed", "only a generic account has a rate sheet"))
        found.append(
            ServiceInput(
                service_code=code,
                service_name=str(service.get("service_name") or code)[:100],
                level=level,
                transit_days=days,
                currency=currency,
                zones=tuple(zones),
                max_weight_g=max_weight,
                active=bool(service.get("active", True)),
            )
        )
    return found


def _credentials(carrier_name: str, given, *, existing: dict, errors: list) -> dict:
    if given is None:
        given = {}
    if not isinstance(given, dict):
        errors.append(_error("credentials", "invalid", "must be an object"))
        return existing
    required, optional = gateway.credential_fields(carrier_name)
    known = set(required) | set(optional)
    for name in sorted(set(given) - known):
        errors.append(
            _error(
                f"credentials.{name}",
                "unknown_field",
                f"{carrier_name} takes {', '.join(sorted(known)) or 'no credentials'}",
            )
        )
    merged = {**existing, **{k: str(v) for k, v in given.items() if k in known and v not in (None, "")}}
    for name in required:
        if not merged.get(name):
            errors.append(_error(f"credentials.{name}", "missing_credentials", f"{carrier_name} needs {name}"))
    return merged


def _write_services(account: CarrierAccount, services: list[ServiceInput]) -> None:
    keep = {s.service_code for s in services}
    account.services.exclude(service_code__in=keep).delete()
    for service in services:
        CarrierService.objects.update_or_create(
            account=account,
            service_code=service.service_code,
            defaults={
                "service_name": service.service_name,
                "level": service.level,
                "transit_days": service.transit_days,
                "currency": service.currency,
                "zones": list(service.zones),
                "max_weight_g": service.max_weight_g,
                "active": service.active,
            },
        )


def _check_common(data: dict, errors: list) -> None:
    country = data.get("account_country")
    if country and not COUNTRY.match(str(country).upper()):
        errors.append(_error("account_country", "invalid", "an ISO 3166-1 alpha-2 code"))
    divisor = data.get("dim_divisor")
    if divisor is not None and (isinstance(divisor, bool) or not isinstance(divisor, int) or divisor <= 0):
        errors.append(_error("dim_divisor", "invalid", "a positive whole number"))
    if data.get("dim_unit") not in (None, "metric", "imperial"):
        errors.append(_error("dim_unit", "invalid", "metric or imperial"))


@transaction.atomic
def carrier_account_create(
    *,
    carrier_name: str,
    carrier_id: str = "",
    display_name: str = "",
    credentials: dict | None = None,
    test_mode: bool = True,
    active: bool = True,
    account_country: str = "",
    dim_divisor: int | None = None,
    dim_unit: str | None = None,
    services: list | None = None,
) -> CarrierAccount:
    """A new carrier account; CarrierAccountError naming every bad field, nothing saved."""
    errors: list[dict] = []
    carrier_name = str(carrier_name or "").strip()
    if carrier_name not in gateway.carrier_names():
        raise CarrierAccountError(
            f"unknown carrier {carrier_name!r}; karrio here has {', '.join(gateway.carrier_names())}",
            field="carrier_name",
            code="unknown_carrier",
        )
    carrier_id = str(carrier_id or carrier_name).strip().lower()
    if not SLUG.match(carrier_id):
        errors.append(_error("carrier_id", "invalid", "lowercase letters, digits, - and _ (1-40)"))
    elif CarrierAccount.objects.filter(carrier_id=carrier_id).exists():
        errors.append(_error("carrier_id", "duplicate", f"an account {carrier_id} exists"))
    _check_common({"account_country": account_country, "dim_divisor": dim_divisor, "dim_unit": dim_unit}, errors)
    merged = _credentials(carrier_name, credentials, existing={}, errors=errors)
    found = _services(services, carrier_name=carrier_name, errors=errors)
    if not found and not errors:
        errors.append(_error("services", "required", "an account needs at least one service"))
    if errors:
        raise CarrierAccountError("The carrier account has invalid fields.", errors=errors)
    account = CarrierAccount.objects.create(
        carrier_name=carrier_name,
        carrier_id=carrier_id,
        display_name=(display_name or carrier_id)[:100],
        credentials_encrypted=secrets.encrypt(merged),
        test_mode=bool(test_mode),
        active=bool(active),
        account_country=(account_country or "").upper(),
        dim_divisor=dim_divisor or 5000,
        dim_unit=dim_unit or "metric",
    )
    _write_services(account, found)
    return account


@transaction.atomic
def carrier_account_update(*, account_id, **changes) -> CarrierAccount:
    """Change an account: credentials are merged (a key given replaces that key; keys not given stay),
    ``services`` when given replaces the list. Nothing changes on a refusal."""
    account = CarrierAccount.objects.select_for_update().filter(pk=account_id).first()
    if account is None:
        raise Refusal("No such carrier account.", code="not_found", status=404)
    errors: list[dict] = []
    allowed = {
        "display_name",
        "credentials",
        "test_mode",
        "active",
        "account_country",
        "dim_divisor",
        "dim_unit",
        "services",
    }
    for name in sorted(set(changes) - allowed):
        errors.append(_error(name, "read_only", "cannot be changed; add another account instead"))
    _check_common(changes, errors)
    merged = None
    if "credentials" in changes:
        merged = _credentials(
            account.carrier_name,
            changes["credentials"],
            existing=secrets.decrypt(account.credentials_encrypted),
            errors=errors,
        )
    found = None
    if "services" in changes:
        found = _services(changes["services"], carrier_name=account.carrier_name, errors=errors)
        if not found and not errors:
            errors.append(_error("services", "required", "an account needs at least one service"))
    if errors:
        raise CarrierAccountError("The carrier account has invalid fields.", errors=errors)
    for name in ("display_name", "test_mode", "active", "dim_divisor", "dim_unit"):
        if name in changes and changes[name] is not None:
            setattr(account, name, changes[name])
    if "account_country" in changes:
        account.account_country = (changes["account_country"] or "").upper()
    if merged is not None:
        account.credentials_encrypted = secrets.encrypt(merged)
    account.save()
    if found is not None:
        _write_services(account, found)
    return account


@transaction.atomic
def carrier_account_deactivate(*, account_id) -> CarrierAccount:
    """Stop quoting and buying with an account; its labels and manifests stay."""
    account = CarrierAccount.objects.select_for_update().filter(pk=account_id).first()
    if account is None:
        raise Refusal("No such carrier account.", code="not_found", status=404)
    if account.active:
        account.active = False
        account.save(update_fields=["active", "updated_at"])
    return account


def carrier_account_delete(*, account_id) -> None:
    """Delete an account that never bought a label; one that did is deactivated instead (409)."""
    with transaction.atomic():
        account = CarrierAccount.objects.select_for_update().filter(pk=account_id).first()
        if account is None:
            raise Refusal("No such carrier account.", code="not_found", status=404)
        used = LabelPurchase.objects.filter(account=account).exclude(status=PurchaseStatus.FAILED).exists()
        if used or account.manifests.exists():
            raise Refusal(
                "This account has bought labels; deactivate it instead so that its labels and manifests stay.",
                code="account_in_use",
                status=409,
            )
        LabelPurchase.objects.filter(account=account).delete()
        account.delete()


def carrier_account_check(*, account_id, now=None) -> CarrierAccount:
    """Test the connection: ask for rates of a 1 kg parcel from the first warehouse with an address
    to itself, and record whether the carrier answered (no database lock is held during the call)."""
    account = CarrierAccount.objects.filter(pk=account_id).first()
    if account is None:
        raise Refusal("No such carrier account.", code="not_found", status=404)
    conn = selectors.connection(account)
    origin = selectors.sample_origin(account)
    ok, message = True, ""
    try:
        quotes = gateway.rates(
            conn,
            shipper=origin,
            recipient=origin,
            parcels=[gateway.Parcel(weight_g=1000, length_mm=200, width_mm=150, height_mm=100)],
            services=[s.service_code for s in conn.services],
        )
        message = (
            f"{len(quotes)} quote(s) for a 1 kg test parcel" if quotes else "connected; no quote for the test parcel"
        )
    except gateway.CarrierError as error:
        ok, message = False, error.message
    CarrierAccount.objects.filter(pk=account.pk).update(
        last_checked_at=now or timezone.now(), last_check_ok=ok, last_check_message=message[:500]
    )
    account.refresh_from_db()
    return account


def carrier_credentials_rotate() -> int:
    """Re-encrypt every account's credentials with the first configured key; the number re-encrypted."""
    rotated = 0
    with transaction.atomic():
        for account in CarrierAccount.objects.select_for_update().exclude(credentials_encrypted="").order_by("pk"):
            account.credentials_encrypted = secrets.rotate(account.credentials_encrypted)
            account.save(update_fields=["credentials_encrypted"])
            rotated += 1
    return rotated
