"""The rate sheet of the generic (offline) carrier account a fresh installation has (shipping
migration 0006, seed_demo): prices in CAD from a Canadian warehouse, by destination and weight.

Transit days match orders.promise's defaults, so that a parcel that leaves by its ship-by time
arrives by its promise: standard 5 business days at home, 8 to the US, 10 elsewhere; express 2,
3 and 4; same day only within Canada. A weight band includes its minimum, excludes its maximum.
"""

from __future__ import annotations

DEFAULT_ACCOUNT = {
    "carrier_name": "generic",
    "carrier_id": "demo-post",
    "display_name": "Demo Post (rate sheet)",
    "account_country": "CA",
}


def _bands(country_codes, prices, transit_days=None):
    bands = [("0", "1"), ("1", "5"), ("5", "30")]
    zones = []
    for (low, high), rate in zip(bands, prices, strict=True):
        zone = {"min_weight_kg": low, "max_weight_kg": high, "rate": rate}
        if country_codes:
            zone["country_codes"] = list(country_codes)
        if transit_days is not None:
            zone["transit_days"] = transit_days
        zones.append(zone)
    return zones


DEFAULT_SERVICES = [
    {
        "service_code": "standard",
        "service_name": "Demo Post Standard",
        "level": "standard",
        "transit_days": 5,
        "currency": "CAD",
        "zones": _bands(["CA"], ["9.50", "14.50", "24.00"])
        + _bands(["US"], ["16.00", "24.00", "42.00"], 8)
        + _bands([], ["28.00", "45.00", "85.00"], 10),
    },
    {
        "service_code": "express",
        "service_name": "Demo Post Express",
        "level": "express",
        "transit_days": 2,
        "currency": "CAD",
        "zones": _bands(["CA"], ["18.00", "26.00", "44.00"])
        + _bands(["US"], ["30.00", "42.00", "70.00"], 3)
        + _bands([], ["48.00", "75.00", "140.00"], 4),
    },
    {
        "service_code": "same_day",
        "service_name": "Demo Post Same Day",
        "level": "same_day",
        "transit_days": 0,
        "currency": "CAD",
        "zones": _bands(["CA"], ["29.00", "39.00", "59.00"]),
    },
]
