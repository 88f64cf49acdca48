"""ship_by and promised_delivery_date from the warehouse's cut-off and business days."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from orders.models import ShippingMethod

TRANSIT_BUSINESS_DAYS = {ShippingMethod.SAME_DAY: 0, ShippingMethod.EXPRESS: 2, ShippingMethod.STANDARD: 5}


def is_business_day(day: date) -> bool:
    return day.weekday() < 5


def add_business_days(day: date, count: int) -> date:
    while not is_business_day(day):
        day += timedelta(days=1)
    while count > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            count -= 1
    return day


def ship_by(*, warehouse, method: str, now: datetime) -> datetime:
    """The cut-off of the first business day on which the order can still leave the building."""
    zone = ZoneInfo(warehouse.timezone)
    local = now.astimezone(zone)
    day = local.date()
    if not is_business_day(day) or local.time() >= warehouse.cutoff_time:
        day = add_business_days(day + timedelta(days=1), 0)
    return datetime.combine(day, warehouse.cutoff_time, tzinfo=zone)


def promised_delivery_date(*, ship_by_at: datetime, method: str) -> date:
    return add_business_days(ship_by_at.date(), TRANSIT_BUSINESS_DAYS[method])
