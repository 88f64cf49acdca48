from datetime import time
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from inventory.models import Location, Warehouse

pytestmark = pytest.mark.django_db


def _create(*options) -> list[str]:
    out = StringIO()
    call_command(
        "create_warehouse",
        "west",
        "--name",
        "West",
        "--aisles",
        "1",
        "--bays",
        "1",
        "--levels",
        "1",
        *options,
        stdout=out,
    )
    return out.getvalue().strip().splitlines()


def test_create_warehouse_takes_country_subdivision_time_zone_and_cutoffs_per_service_level():
    lines = _create(
        "--country",
        "us",
        "--subdivision",
        "wa",
        "--timezone",
        "America/Los_Angeles",
        "--cutoff",
        "same_day=11:30",
        "--cutoff",
        "EXPRESS=15:00",
    )

    assert lines[-1] == "WEST"
    warehouse = Warehouse.objects.get(code="WEST")
    assert (warehouse.country, warehouse.subdivision, warehouse.timezone) == ("US", "WA", "America/Los_Angeles")
    assert warehouse.cutoffs == {"same_day": "11:30", "express": "15:00"}
    assert warehouse.cutoff_for("same_day") == time(11, 30)
    assert warehouse.cutoff_for("standard") == warehouse.cutoff_time == time(14, 0)


def test_create_warehouse_defaults_to_toronto():
    _create()

    warehouse = Warehouse.objects.get(code="WEST")
    assert (warehouse.country, warehouse.subdivision, warehouse.timezone, warehouse.cutoffs) == (
        "CA",
        "",
        "America/Toronto",
        {},
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--country", "XX"], "country 'XX' is not an ISO 3166-1 alpha-2 code with a holiday calendar"),
        (["--country", "CAN"], "country 'CAN' is not an ISO 3166-1 alpha-2 code"),
        (["--subdivision", "ZZ"], "subdivision 'ZZ' is not one of CA's"),
        (["--timezone", "Mars/Olympus"], "timezone 'Mars/Olympus' is not an IANA time zone"),
        (["--timezone", "../etc/passwd"], "is not an IANA time zone"),
        (["--cutoff", "express"], "--cutoff 'express' must look like METHOD=HH:MM"),
        (["--cutoff", "=12:00"], "must look like METHOD=HH:MM"),
        (["--cutoff", "overnight=12:00"], "cutoffs: unknown service level 'overnight'"),
        (["--cutoff", "express=25:00"], "cutoffs: express cut-off '25:00' is not a time HH:MM"),
        (["--cutoff", "express=3pm"], "cutoffs: express cut-off '3pm' is not a time HH:MM"),
        (["--cutoff", "express=15:00", "--cutoff", "express=16:00"], "--cutoff names express twice"),
    ],
)
def test_create_warehouse_refuses_bad_calendar_options_and_creates_nothing(options, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _create(*options)

    assert not Warehouse.objects.exists()
    assert not Location.objects.exists()


def test_warehouse_clean_checks_the_cutoffs():
    warehouse = Warehouse(code="W", name="W", cutoffs={"express": "9:00"})

    with pytest.raises(ValidationError) as caught:
        warehouse.full_clean()

    assert caught.value.message_dict["cutoffs"] == [
        "cutoffs: express cut-off '9:00' is not a time HH:MM (00:00 to 23:59)"
    ]
