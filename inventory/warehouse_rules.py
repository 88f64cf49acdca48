"""What makes a warehouse's calendar, layout and ship-from address valid: cut-offs, holiday
calendars, time zones, aisle geometry, the address carriers need (used by Warehouse.clean, the
services and create_warehouse)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from fulfillment.addresses import address_check, address_required_keys

CUTOFF_METHODS = ("same_day", "express", "standard")


@lru_cache(maxsize=1)
def holiday_countries() -> dict[str, tuple[str, ...]]:
    """Country code -> subdivision codes that the ``holidays`` package has calendars for."""
    return {code: tuple(subdivisions) for code, subdivisions in holidays.list_supported_countries().items()}


def parse_cutoff(value) -> time | None:
    """'HH:MM' (24 h) as a time; None when it is not one."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return None
    hours, minutes = value[:2], value[3:]
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        return None
    return time(int(hours), int(minutes))


def warehouse_calendar_errors(*, country: str, subdivision: str, timezone_name: str, cutoffs) -> dict[str, str]:
    """{field: message} for a warehouse country, holiday subdivision, time zone or cut-offs that cannot work."""
    errors = {}
    known = holiday_countries()
    if not (isinstance(country, str) and len(country) == 2 and country in known):
        errors["country"] = f"country {country!r} is not an ISO 3166-1 alpha-2 code with a holiday calendar"
    elif subdivision and subdivision not in known[country]:
        choices = ", ".join(known[country]) or "none"
        errors["subdivision"] = f"subdivision {subdivision!r} is not one of {country}'s ({choices})"
    try:
        ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        errors["timezone"] = f"timezone {timezone_name!r} is not an IANA time zone such as America/Toronto"
    if not isinstance(cutoffs, dict):
        errors["cutoffs"] = 'cutoffs must be an object such as {"express": "15:00"}'
    else:
        for method, value in cutoffs.items():
            if method not in CUTOFF_METHODS:
                errors["cutoffs"] = f"cutoffs: unknown service level {method!r} (use {', '.join(CUTOFF_METHODS)})"
                break
            if parse_cutoff(value) is None:
                errors["cutoffs"] = f"cutoffs: {method} cut-off {value!r} is not a time HH:MM (00:00 to 23:59)"
                break
    return errors


def warehouse_layout_errors(
    *, aisles: int, bays: int, aisle_pitch_m, bay_width_m, cross_aisles, depot_aisle: int
) -> dict[str, str]:
    """Field -> message for a layout that routes cannot be computed on; empty when it is fine."""
    errors: dict[str, str] = {}
    try:
        pitch, width = Decimal(str(aisle_pitch_m)), Decimal(str(bay_width_m))
    except (InvalidOperation, ValueError):
        return {"aisle_pitch_m": "aisle pitch and bay width must be numbers of metres"}
    if not Decimal("0.5") <= pitch <= Decimal("50"):
        errors["aisle_pitch_m"] = "aisle pitch must be between 0.5 and 50 m"
    if not Decimal("0.1") <= width <= Decimal("20"):
        errors["bay_width_m"] = "bay width must be between 0.1 and 20 m"
    if not isinstance(cross_aisles, list) or not all(
        isinstance(b, int) and not isinstance(b, bool) for b in cross_aisles
    ):
        errors["cross_aisles"] = "cross aisles must be a list of bay numbers, e.g. [10]"
    elif sorted(set(cross_aisles)) != cross_aisles or any(not 1 <= b < max(bays, 1) for b in cross_aisles):
        errors["cross_aisles"] = f"cross aisles must be increasing bay numbers between 1 and {max(bays - 1, 1)}"
    if aisles and not 1 <= depot_aisle <= aisles:
        errors["depot_aisle"] = f"the depot must be at an aisle between 1 and {aisles}"
    return errors


def even_cross_aisles(*, bays: int, blocks: int) -> list[int]:
    """Middle cross aisles that split ``bays`` into ``blocks`` blocks of (nearly) equal depth."""
    return sorted({round(bays * k / blocks) for k in range(1, blocks)} - {0, bays})


# -- ship-from address ----------------------------------------------------------------------

# Warehouse field -> the key of the same part in an address dict (an order's ship_to), in that order.
ADDRESS_KEYS = {
    "contact_name": "name",
    "company_name": "company",
    "address_line1": "line1",
    "address_line2": "line2",
    "city": "city",
    "region": "region",
    "postal_code": "postal_code",
    "country": "country",
    "phone": "phone",
}
# The fields that are only the address (country is the holiday calendar's too).
ADDRESS_FIELDS = tuple(field for field in ADDRESS_KEYS if field != "country")
_FIELD_OF_KEY = {key: field for field, key in ADDRESS_KEYS.items()}


def ship_from_address(fields: Mapping) -> dict[str, str]:
    """An address dict with an order's ship_to keys (email blank) from warehouse fields, trimmed."""
    address = {key: str(fields.get(field) or "").strip() for field, key in ADDRESS_KEYS.items()}
    address["email"] = ""
    return address


def warehouse_address_missing_fields(fields: Mapping) -> list[str]:
    """The warehouse fields a carrier's ship-from needs that are blank: contact_name, address_line1,
    city, country and phone always; region and postal_code where the country's format has them."""
    address = ship_from_address(fields)
    needed = {"name", "line1", "city", "country", "phone", *address_required_keys(address["country"])}
    return [field for field, key in ADDRESS_KEYS.items() if key in needed and not address[key]]


def warehouse_address_check(fields: Mapping) -> tuple[dict[str, str], list[dict]]:
    """(the address fields, trimmed and normalised, [{field, code, message}] in ADDRESS_KEYS order)
    for a ship-from address.

    All of ADDRESS_FIELDS blank is no address yet, which passes. Any part given needs the whole:
    every field warehouse_address_missing_fields names, and the country's rules as for an order's
    ship_to (fulfillment.addresses: postal code format, region, phone). What passes comes back
    normalised as a ship_to is: region as the country's code ("Ontario" -> "ON"), postal code
    upper-cased with its separator ("l5t2z5" -> "L5T 2Z5"), phone in E.164. With errors the fields
    come back as given, trimmed."""
    address = ship_from_address(fields)
    given = {field: address[key] for field, key in ADDRESS_KEYS.items()}
    if not any(given[field] for field in ADDRESS_FIELDS):
        return given, []
    errors = [
        {"field": field, "code": "required", "message": f"{field} is required for a ship-from address"}
        for field in warehouse_address_missing_fields(fields)
    ]
    normalised, problems = address_check(address)
    for problem in problems:
        field = _FIELD_OF_KEY.get(problem["field"], problem["field"])
        if all(error["field"] != field for error in errors):
            errors.append({**problem, "field": field})
    if errors:
        order = list(ADDRESS_KEYS)
        return given, sorted(errors, key=lambda error: order.index(error["field"]) if error["field"] in order else 99)
    return {field: normalised.get(key, "") for field, key in ADDRESS_KEYS.items()}, []
