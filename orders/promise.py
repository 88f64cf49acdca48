"""ship_by and promised_delivery_date: warehouse cut-offs per service level, business days per country.

A business day is Monday to Friday and not a public holiday of the country (and, for a
warehouse with a ``subdivision``, of its state or province) in the ``holidays`` package.
Holiday sets are built once per (country, subdivision, year) and cached, so that after
warm-up a promise costs microseconds (order intake computes one per order).

Transit times are business days of the service level, counted after the ship date in the
DESTINATION country's calendar; ``transit_business_days`` reads them, with the setting
``ORDER_TRANSIT_BUSINESS_DAYS`` over ``DEFAULT_TRANSIT_BUSINESS_DAYS``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from orders.models import ShippingMethod

# Business days in transit per service level: within the warehouse country and to another one.
# Domestic values are the sandbox carrier's services (shipping migration 0002), so that a parcel
# that leaves by ship_by arrives by the promise. same_day has no international service of its
# own: abroad it travels as express ("international": None means "as express international").
DEFAULT_TRANSIT_BUSINESS_DAYS = {
    ShippingMethod.SAME_DAY: {"domestic": 0, "international": None},
    ShippingMethod.EXPRESS: {"domestic": 2, "international": 4},
    ShippingMethod.STANDARD: {"domestic": 5, "international": 10},
}


@lru_cache(maxsize=1024)
def _holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    """Public holidays (observed days included) of a country, or of one of its subdivisions, in a year.

    A country the ``holidays`` package does not know has none: weekends only."""
    try:
        calendar = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    except NotImplementedError:
        if not subdivision:
            return frozenset()
        return _holidays(country, "", year)
    return frozenset(calendar)


def is_business_day(day: date, country: str | None = None, subdivision: str = "") -> bool:
    """Monday to Friday and, when a country is given, not one of its public holidays."""
    if day.weekday() >= 5:
        return False
    return not country or day not in _holidays(country.upper(), subdivision.upper(), day.year)


def next_business_day(day: date, country: str | None = None, subdivision: str = "") -> date:
    """The first business day on or after ``day``."""
    while not is_business_day(day, country, subdivision):
        day += timedelta(days=1)
    return day


def add_business_days(day: date, count: int, country: str | None = None, subdivision: str = "") -> date:
    """``count`` business days after ``day`` (0: ``day`` itself if it is a business day, else the next one).

    Without a country: weekdays only."""
    if count <= 0:
        return next_business_day(day, country, subdivision)
    while count > 0:
        day += timedelta(days=1)
        if is_business_day(day, country, subdivision):
            count -= 1
    return day


def ship_by(*, warehouse, method: str, now: datetime) -> datetime:
    """The cut-off of ``method`` on the first warehouse business day on which the order can still leave.

    ``now`` (timezone-aware) is read in the warehouse's time zone: an order placed after that
    day's cut-off, or on a weekend or public holiday of the warehouse country, ships by the next
    business day's cut-off (same_day included). The answer is in the warehouse's time zone."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(warehouse.timezone)
    local = now.astimezone(zone)
    cutoff = warehouse.cutoff_for(method)
    country, subdivision = warehouse.country, warehouse.subdivision
    day = local.date()
    if not is_business_day(day, country, subdivision) or local.time() >= cutoff:
        day = next_business_day(day + timedelta(days=1), country, subdivision)
    return datetime.combine(day, cutoff, tzinfo=zone)


def transit_business_days(method: str, *, domestic: bool) -> int:
    """Business days in transit of a service level; ``ORDER_TRANSIT_BUSINESS_DAYS`` overrides the defaults.

    The setting has the shape of DEFAULT_TRANSIT_BUSINESS_DAYS and may name only some methods."""
    table = {**DEFAULT_TRANSIT_BUSINESS_DAYS, **(getattr(settings, "ORDER_TRANSIT_BUSINESS_DAYS", None) or {})}
    try:
        row = table[method]
    except KeyError:
        raise ValueError(f"unknown shipping method {method!r}") from None
    if not isinstance(row, dict):
        raise ImproperlyConfigured(f"ORDER_TRANSIT_BUSINESS_DAYS[{method!r}] must be a dict")
    value = row.get("domestic" if domestic else "international")
    if value is None and not domestic and method != ShippingMethod.EXPRESS:
        return transit_business_days(ShippingMethod.EXPRESS, domestic=False)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ImproperlyConfigured(
            f"ORDER_TRANSIT_BUSINESS_DAYS[{method!r}] must be "
            '{"domestic": <days >= 0>, "international": <days >= 0 or None>}'
        )
    return value


def promised_delivery_date(
    *,
    ship_by_at: datetime,
    method: str,
    destination_country: str | None = None,
    origin_country: str | None = None,
    timezone_name: str | None = None,
) -> date:
    """The ship date plus the transit business days of ``method``, counted in the destination's calendar.

    The ship date is ``ship_by_at``'s date in the warehouse's time zone: ship_by's answer is in it
    already; a value read back from the database (UTC) needs ``timezone_name``, the warehouse's.
    Domestic when the destination is the origin country. Without a destination country (old
    callers) the origin's calendar is used, and weekdays only when neither is given."""
    if timezone_name:
        ship_by_at = ship_by_at.astimezone(ZoneInfo(timezone_name))
    destination = (destination_country or origin_country or "").upper()
    origin = (origin_country or destination).upper()
    days = transit_business_days(method, domestic=destination == origin)
    return add_business_days(ship_by_at.date(), days, destination or None)
