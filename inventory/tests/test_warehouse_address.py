from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from inventory.models import ADDRESS_FIELDS, Location, Warehouse
from inventory.selectors import warehouse_address, warehouse_address_missing
from inventory.services import InventoryError, warehouse_create, warehouse_update_address
from inventory.tests import factories as inv

pytestmark = pytest.mark.django_db

MISSISSAUGA = {
    "company_name": "Demo Fulfillment Inc.",
    "contact_name": "Shipping Desk",
    "address_line1": "100 Logistics Dr",
    "address_line2": "Dock 4",
    "city": "Mississauga",
    "region": "Ontario",
    "postal_code": "l5t2z5",
    "phone": "(905) 555-0100",
}


def _address_of(warehouse: Warehouse) -> dict:
    warehouse.refresh_from_db()
    return {field: getattr(warehouse, field) for field in ADDRESS_FIELDS}


def _create(code: str = "TOR", **fields) -> Warehouse:
    return warehouse_create(code=code, name="Toronto", aisles=1, bays=1, levels=1, **fields)


# -- create ------------------------------------------------------------------------------------


def test_warehouse_create_stores_the_ship_from_address_normalised():
    warehouse = _create(**MISSISSAUGA)

    assert _address_of(warehouse) == {
        "company_name": "Demo Fulfillment Inc.",
        "contact_name": "Shipping Desk",
        "address_line1": "100 Logistics Dr",
        "address_line2": "Dock 4",
        "city": "Mississauga",
        "region": "ON",
        "postal_code": "L5T 2Z5",
        "phone": "+19055550100",
    }
    assert warehouse_address(warehouse) == {
        "name": "Shipping Desk",
        "company": "Demo Fulfillment Inc.",
        "line1": "100 Logistics Dr",
        "line2": "Dock 4",
        "city": "Mississauga",
        "region": "ON",
        "postal_code": "L5T 2Z5",
        "country": "CA",
        "phone": "+19055550100",
        "email": "",
    }
    assert warehouse_address_missing(warehouse) == []


def test_a_warehouse_without_an_address_names_every_field_a_label_needs():
    warehouse = _create()

    assert warehouse_address_missing(warehouse) == [
        "contact_name",
        "address_line1",
        "city",
        "region",
        "postal_code",
        "phone",
    ]
    assert warehouse_address(warehouse)["country"] == "CA"


@pytest.mark.parametrize(
    ("country", "timezone_name", "missing"),
    [
        # No states in the UK; no postal codes at all in Hong Kong, but a district is required.
        ("GB", "Europe/London", ["contact_name", "address_line1", "city", "postal_code", "phone"]),
        ("HK", "Asia/Hong_Kong", ["contact_name", "address_line1", "city", "region", "phone"]),
        ("US", "America/Chicago", ["contact_name", "address_line1", "city", "region", "postal_code", "phone"]),
    ],
)
def test_the_fields_a_ship_from_needs_follow_its_country(country, timezone_name, missing):
    warehouse = _create(country=country, timezone_name=timezone_name)

    assert warehouse_address_missing(warehouse) == missing


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"postal_code": ""}, "postal_code", "postal_code is required for a ship-from address"),
        ({"postal_code": "90210"}, "postal_code", "postal_code 90210 is not a valid postal code for CA"),
        ({"phone": "555-01"}, "phone", "phone 555-01 is not a valid phone number for CA"),
        ({"region": "Texas"}, "region", "region Texas is not a province of CA"),
        ({"contact_name": " "}, "contact_name", "contact_name is required for a ship-from address"),
    ],
)
def test_warehouse_create_refuses_a_bad_address_and_creates_nothing(change, field, message):
    with pytest.raises(InventoryError) as refused:
        _create(**(MISSISSAUGA | change))

    assert refused.value.field == field
    assert refused.value.message.startswith(message)
    assert refused.value.status == 422
    assert not Warehouse.objects.filter(code="TOR").exists()
    assert not Location.objects.filter(warehouse__code="TOR").exists()


def test_a_refusal_names_every_field_at_fault():
    with pytest.raises(InventoryError) as refused:
        _create(**(MISSISSAUGA | {"postal_code": "12345", "phone": "555", "city": ""}))

    assert [(e["field"], e["code"]) for e in refused.value.errors] == [
        ("city", "required"),
        ("postal_code", "invalid"),
        ("phone", "invalid"),
    ]


# -- update ------------------------------------------------------------------------------------


def test_warehouse_update_address_sets_an_address_on_a_warehouse_without_one():
    warehouse = inv.warehouse()

    returned = warehouse_update_address(warehouse=warehouse, **MISSISSAUGA)

    assert returned is warehouse
    assert (warehouse.postal_code, warehouse.phone, warehouse.region) == ("L5T 2Z5", "+19055550100", "ON")
    assert _address_of(Warehouse.objects.get(pk=warehouse.pk))["postal_code"] == "L5T 2Z5"
    assert warehouse_address_missing(warehouse) == []


def test_warehouse_update_address_changes_only_the_parts_given():
    warehouse = _create(**MISSISSAUGA)
    before = _address_of(warehouse)

    warehouse_update_address(warehouse=warehouse, address_line1="6000 Freight Rd", phone="905 555 0199")

    assert _address_of(warehouse) == before | {"address_line1": "6000 Freight Rd", "phone": "+19055550199"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"postal_code": ""}, "postal_code"),
        ({"postal_code": "L5T 2Z"}, "postal_code"),
        ({"postal_code": "90210"}, "postal_code"),
        ({"phone": "+1 555"}, "phone"),
        ({"city": "", "address_line1": "1 Other St"}, "city"),
        ({"country": "US"}, "country"),
        ({"tiemzone": "UTC"}, "tiemzone"),
        ({"phone": None}, "phone"),
    ],
)
def test_warehouse_update_address_refuses_a_bad_address_and_changes_nothing(change, field):
    warehouse = _create(**MISSISSAUGA)
    before = _address_of(warehouse)

    with pytest.raises(InventoryError) as refused:
        warehouse_update_address(warehouse=warehouse, **change)

    assert refused.value.field == field
    assert _address_of(warehouse) == before
    assert Warehouse.objects.get(pk=warehouse.pk).country == "CA"


def test_a_partial_address_is_refused_on_a_warehouse_without_one():
    warehouse = inv.warehouse()

    with pytest.raises(InventoryError) as refused:
        warehouse_update_address(warehouse=warehouse, phone="+19055550100")

    assert [e["field"] for e in refused.value.errors] == [
        "contact_name",
        "address_line1",
        "city",
        "region",
        "postal_code",
    ]
    assert _address_of(warehouse) == dict.fromkeys(ADDRESS_FIELDS, "")


def test_the_admin_form_validates_and_normalises_the_address():
    warehouse = inv.warehouse()
    warehouse.postal_code = "l5t2z5"

    with pytest.raises(ValidationError) as refused:
        warehouse.full_clean()
    assert set(refused.value.message_dict) == {"contact_name", "address_line1", "city", "region", "phone"}

    for field, value in MISSISSAUGA.items():
        setattr(warehouse, field, value)
    warehouse.full_clean()
    assert (warehouse.postal_code, warehouse.phone, warehouse.region) == ("L5T 2Z5", "+19055550100", "ON")


# -- create_warehouse --------------------------------------------------------------------------


def _command(*options) -> list[str]:
    out = StringIO()
    call_command("create_warehouse", "tor", "--name", "Toronto", "--aisles", "1", "--bays", "1", "--levels", "1",
                 *options, stdout=out)  # fmt: skip
    return out.getvalue().strip().splitlines()


ADDRESS_OPTIONS = [
    "--company", "Demo Fulfillment Inc.",
    "--contact", "Shipping Desk",
    "--address-line1", "100 Logistics Dr",
    "--address-line2", "Dock 4",
    "--city", "Mississauga",
    "--region", "on",
    "--postal-code", "L5T2Z5",
    "--phone", "905-555-0100",
]  # fmt: skip


def test_create_warehouse_takes_the_ship_from_address():
    lines = _command(*ADDRESS_OPTIONS)

    assert lines[-1] == "TOR"
    warehouse = Warehouse.objects.get(code="TOR")
    assert warehouse_address(warehouse) == {
        "name": "Shipping Desk",
        "company": "Demo Fulfillment Inc.",
        "line1": "100 Logistics Dr",
        "line2": "Dock 4",
        "city": "Mississauga",
        "region": "ON",
        "postal_code": "L5T 2Z5",
        "country": "CA",
        "phone": "+19055550100",
        "email": "",
    }


def test_create_warehouse_takes_an_address_in_another_country():
    _command(
        "--country", "us", "--timezone", "America/Chicago", "--contact", "Receiving", "--address-line1",
        "500 W Madison St", "--city", "Chicago", "--region", "Illinois", "--postal-code", "60661",
        "--phone", "(312) 555-0142",
    )  # fmt: skip

    warehouse = Warehouse.objects.get(code="TOR")
    assert (warehouse.country, warehouse.region, warehouse.postal_code, warehouse.phone) == (
        "US",
        "IL",
        "60661",
        "+13125550142",
    )
    assert warehouse_address_missing(warehouse) == []


def test_create_warehouse_refuses_a_bad_address_with_every_reason_and_creates_nothing():
    options = list(ADDRESS_OPTIONS)
    options[options.index("L5T2Z5")] = "1234"
    options[options.index("905-555-0100")] = "12"

    with pytest.raises(CommandError) as refused:
        _command(*options)

    assert str(refused.value) == (
        "postal_code 1234 is not a valid postal code for CA (e.g. H3Z 2Y7, V8X 3X4); "
        "phone 12 is not a valid phone number for CA"
    )
    assert not Warehouse.objects.filter(code="TOR").exists()
