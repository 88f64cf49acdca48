from datetime import UTC, date, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured

from inventory.models import CUTOFF_METHODS, Warehouse
from orders import promise
from orders.models import ShippingMethod

TORONTO = ZoneInfo("America/Toronto")
VANCOUVER = ZoneInfo("America/Vancouver")
NEW_YORK = ZoneInfo("America/New_York")


def _warehouse(**fields) -> Warehouse:
    defaults = {"country": "CA", "timezone": "America/Toronto", "cutoff_time": time(17, 0), "cutoffs": {}}
    return Warehouse(code="W", name="W", **{**defaults, **fields})


def _at(zone, *args) -> datetime:
    return datetime(*args, tzinfo=zone)


# -- ship_by ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "placed", "expected"),
    [
        # Tuesday 2027-03-09 in Toronto: same_day 12:00, express 15:00, standard the warehouse's 17:00.
        ("same_day", (11, 59), _at(TORONTO, 2027, 3, 9, 12, 0)),
        ("same_day", (12, 0), _at(TORONTO, 2027, 3, 10, 12, 0)),
        ("express", (14, 59), _at(TORONTO, 2027, 3, 9, 15, 0)),
        ("express", (15, 30), _at(TORONTO, 2027, 3, 10, 15, 0)),
        ("standard", (16, 59), _at(TORONTO, 2027, 3, 9, 17, 0)),
        ("standard", (17, 0), _at(TORONTO, 2027, 3, 10, 17, 0)),
    ],
)
def test_ship_by_is_the_cutoff_of_the_method_today_or_the_next_business_day(method, placed, expected):
    warehouse = _warehouse(cutoffs={"same_day": "12:00", "express": "15:00"})

    at = promise.ship_by(warehouse=warehouse, method=method, now=_at(TORONTO, 2027, 3, 9, *placed))

    assert at == expected
    assert at.tzinfo == TORONTO


def test_every_shipping_method_can_have_a_warehouse_cutoff():
    assert set(CUTOFF_METHODS) == set(ShippingMethod.values)


def test_friday_after_the_cutoff_ships_on_monday_and_a_weekend_order_too():
    warehouse = _warehouse()

    friday_late = promise.ship_by(warehouse=warehouse, method="express", now=_at(TORONTO, 2027, 3, 5, 18, 0))
    saturday = promise.ship_by(warehouse=warehouse, method="same_day", now=_at(TORONTO, 2027, 3, 6, 9, 0))

    assert friday_late == _at(TORONTO, 2027, 3, 8, 17, 0)
    assert saturday == _at(TORONTO, 2027, 3, 8, 17, 0)


def test_a_national_holiday_of_the_warehouse_country_is_skipped():
    canada = _warehouse()
    usa = _warehouse(country="US", timezone="America/New_York")

    # Wednesday 2027-06-30 after the cut-off; Thursday is Canada Day (not a US holiday).
    assert promise.ship_by(warehouse=canada, method="standard", now=_at(TORONTO, 2027, 6, 30, 18, 0)) == _at(
        TORONTO, 2027, 7, 2, 17, 0
    )
    assert promise.ship_by(warehouse=usa, method="standard", now=_at(NEW_YORK, 2027, 6, 30, 18, 0)) == _at(
        NEW_YORK, 2027, 7, 1, 17, 0
    )
    # The day before US Thanksgiving (Thursday 2027-11-25), after the cut-off: Friday.
    assert promise.ship_by(warehouse=usa, method="same_day", now=_at(NEW_YORK, 2027, 11, 24, 18, 0)) == _at(
        NEW_YORK, 2027, 11, 26, 17, 0
    )
    # An order placed on the holiday itself, before the cut-off, does not ship that day.
    assert promise.ship_by(warehouse=canada, method="express", now=_at(TORONTO, 2027, 7, 1, 9, 0)) == _at(
        TORONTO, 2027, 7, 2, 17, 0
    )


def test_a_provincial_holiday_counts_only_for_a_warehouse_with_that_subdivision():
    # Monday 2027-10-11 is Thanksgiving in Ontario, not a national holiday in the holidays package.
    friday_late = _at(TORONTO, 2027, 10, 8, 18, 0)

    national = promise.ship_by(warehouse=_warehouse(), method="standard", now=friday_late)
    ontario = promise.ship_by(warehouse=_warehouse(subdivision="ON"), method="standard", now=friday_late)

    assert national == _at(TORONTO, 2027, 10, 11, 17, 0)
    assert ontario == _at(TORONTO, 2027, 10, 12, 17, 0)


def test_now_is_read_in_the_warehouse_time_zone():
    # 00:30 UTC on Wednesday 2027-03-10 is still Tuesday 16:30 in Vancouver, before its 17:00 cut-off.
    now = datetime(2027, 3, 10, 0, 30, tzinfo=UTC)
    vancouver = _warehouse(timezone="America/Vancouver")
    london = _warehouse(country="GB", timezone="UTC")

    west = promise.ship_by(warehouse=vancouver, method="standard", now=now)
    utc = promise.ship_by(warehouse=london, method="standard", now=now)

    assert west == _at(VANCOUVER, 2027, 3, 9, 17, 0)
    assert west.astimezone(UTC) == datetime(2027, 3, 10, 1, 0, tzinfo=UTC)
    assert utc == datetime(2027, 3, 10, 17, 0, tzinfo=ZoneInfo("UTC"))


def test_the_cutoff_keeps_its_local_time_across_a_dst_change():
    # Clocks go forward in Vancouver on Sunday 2027-03-14: Friday's 17:00 is PST, Monday's is PDT.
    warehouse = _warehouse(timezone="America/Vancouver")

    friday_late = promise.ship_by(warehouse=warehouse, method="standard", now=_at(VANCOUVER, 2027, 3, 12, 18, 0))
    on_the_change = promise.ship_by(
        warehouse=warehouse, method="standard", now=datetime(2027, 3, 14, 10, 30, tzinfo=UTC)
    )

    assert friday_late == on_the_change == _at(VANCOUVER, 2027, 3, 15, 17, 0)
    assert friday_late.utcoffset() == timedelta(hours=-7)
    assert friday_late.astimezone(UTC) == datetime(2027, 3, 16, 0, 0, tzinfo=UTC)
    before = promise.ship_by(warehouse=warehouse, method="standard", now=_at(VANCOUVER, 2027, 3, 12, 9, 0))
    assert before.utcoffset() == timedelta(hours=-8)


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        promise.ship_by(warehouse=_warehouse(), method="standard", now=datetime(2027, 3, 9, 9, 0))


# -- promised_delivery_date ------------------------------------------------------------------


def test_transit_days_are_business_days_of_the_destination_country():
    ship = _at(TORONTO, 2027, 6, 30, 17, 0)  # Wednesday; Thursday is Canada Day

    domestic = promise.promised_delivery_date(
        ship_by_at=ship, method="express", destination_country="CA", origin_country="CA"
    )
    # To the US: 4 days, Canada Day counts, Monday 2027-07-05 (Independence Day observed) does not.
    abroad = promise.promised_delivery_date(
        ship_by_at=ship, method="express", destination_country="US", origin_country="CA"
    )

    assert domestic == date(2027, 7, 5)  # Fri, Mon
    assert abroad == date(2027, 7, 7)  # Thu, Fri, Tue, Wed


def test_a_destination_holiday_after_the_ship_date_is_skipped_domestically():
    ship = _at(NEW_YORK, 2027, 11, 24, 17, 0)  # the day before Thanksgiving

    express = promise.promised_delivery_date(
        ship_by_at=ship, method="express", destination_country="US", origin_country="US"
    )
    standard = promise.promised_delivery_date(
        ship_by_at=ship, method="standard", destination_country="US", origin_country="US"
    )

    assert express == date(2027, 11, 29)  # Fri, Mon
    assert standard == date(2027, 12, 2)  # Fri, Mon, Tue, Wed, Thu


def test_same_day_arrives_on_the_ship_date_at_home_and_travels_as_express_abroad():
    ship = _at(TORONTO, 2027, 3, 9, 12, 0)  # Tuesday

    home = promise.promised_delivery_date(
        ship_by_at=ship, method="same_day", destination_country="CA", origin_country="CA"
    )
    abroad = promise.promised_delivery_date(
        ship_by_at=ship, method="same_day", destination_country="GB", origin_country="CA"
    )

    assert home == date(2027, 3, 9)
    assert abroad == date(2027, 3, 15)  # express international: 4 days


def test_the_ship_date_is_the_warehouse_local_date():
    ship = promise.ship_by(
        warehouse=_warehouse(timezone="America/Vancouver"),
        method="same_day",
        now=datetime(2027, 3, 10, 0, 30, tzinfo=UTC),
    )

    assert promise.promised_delivery_date(
        ship_by_at=ship, method="same_day", destination_country="CA", origin_country="CA"
    ) == date(2027, 3, 9)


def test_a_ship_by_read_back_in_utc_is_dated_in_the_warehouse_time_zone():
    stored = datetime(2027, 3, 10, 1, 0, tzinfo=UTC)  # Tuesday 17:00 in Vancouver

    promised = promise.promised_delivery_date(
        ship_by_at=stored,
        method="same_day",
        destination_country="CA",
        origin_country="CA",
        timezone_name="America/Vancouver",
    )

    assert promised == date(2027, 3, 9)


def test_transit_days_can_be_set_per_method(settings):
    settings.ORDER_TRANSIT_BUSINESS_DAYS = {"standard": {"domestic": 5, "international": 10}}
    ship = _at(TORONTO, 2027, 3, 8, 17, 0)  # Monday

    standard = promise.promised_delivery_date(
        ship_by_at=ship, method="standard", destination_country="CA", origin_country="CA"
    )
    express = promise.promised_delivery_date(
        ship_by_at=ship, method="express", destination_country="CA", origin_country="CA"
    )

    assert standard == date(2027, 3, 15)
    assert express == date(2027, 3, 10)  # the defaults still apply to the others


@pytest.mark.parametrize("bad", [{"express": {"domestic": -1}}, {"express": {"domestic": "2"}}, {"express": 2}])
def test_a_malformed_transit_setting_is_improperly_configured(settings, bad):
    settings.ORDER_TRANSIT_BUSINESS_DAYS = bad

    with pytest.raises(ImproperlyConfigured, match="ORDER_TRANSIT_BUSINESS_DAYS"):
        promise.transit_business_days("express", domestic=True)


def test_old_callers_without_countries_count_weekdays():
    friday = _at(TORONTO, 2027, 3, 5, 17, 0)

    assert promise.promised_delivery_date(ship_by_at=friday, method="express") == date(2027, 3, 9)


# -- the calendar ----------------------------------------------------------------------------


def test_holiday_sets_are_built_once_per_country_and_year():
    promise._holidays.cache_clear()
    warehouse = _warehouse()
    ship_dates = set()
    with mock.patch.object(promise.holidays, "country_holidays", wraps=promise.holidays.country_holidays) as built:
        for minute in range(0, 600, 3):  # Friday 2027-12-24 from 08:00 to 17:57
            now = _at(TORONTO, 2027, 12, 24, 8, 0) + timedelta(minutes=minute)
            at = promise.ship_by(warehouse=warehouse, method="standard", now=now)
            ship_dates.add(at.date())
            promise.promised_delivery_date(
                ship_by_at=at, method="standard", destination_country="US", origin_country="CA"
            )

    # Monday 2027-12-27 is Christmas observed in Canada; 7 US business days run into 2028.
    assert ship_dates == {date(2027, 12, 24), date(2027, 12, 28)}
    assert sorted(call.args[0] + str(call.kwargs["years"]) for call in built.call_args_list) == [
        "CA2027",
        "US2027",
        "US2028",
    ]


def test_an_unknown_country_has_weekends_only():
    assert promise.is_business_day(date(2027, 7, 1), "ZZ")
    assert not promise.is_business_day(date(2027, 7, 3), "ZZ")
    assert not promise.is_business_day(date(2027, 7, 1), "CA")
