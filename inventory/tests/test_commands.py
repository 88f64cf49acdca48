from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from fulfillment.tenancy.authentication import resolve_bearer
from fulfillment.tenancy.models import StaffToken
from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.models import Location, StockBalance, Warehouse
from inventory.tests import factories as inv

pytestmark = pytest.mark.django_db

SPECIAL = ["PACKING", "QUARANTINE", "RECEIVING", "RETURNS", "SHIPPING", "V-ADJUSTMENT", "V-CUSTOMER", "V-SCRAP"]


def _run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def _warehouse(code="MAIN"):
    return _run("create_warehouse", code, "--name", "Main", "--aisles", "2", "--bays", "3", "--levels", "2")


# -- create_warehouse ----------------------------------------------------------------------


def test_create_warehouse_builds_locations_and_prints_the_code_last():
    lines = _run("create_warehouse", "east", "--name", "East DC", "--aisles", "2", "--bays", "3", "--levels", "2")

    assert lines[-1] == "EAST"
    warehouse = Warehouse.objects.get(code="EAST")
    assert (warehouse.name, warehouse.aisles, warehouse.bays, warehouse.levels) == ("East DC", 2, 3, 2)
    storage = Location.objects.filter(warehouse=warehouse, kind="storage")
    assert storage.count() == 12
    assert storage.filter(code="01-03-2", is_sellable=True).exists()
    others = set(Location.objects.filter(warehouse=warehouse).exclude(kind="storage").values_list("code", flat=True))
    assert others == {*SPECIAL, "V-SUPPLIER"}


def test_create_warehouse_refuses_a_duplicate_code_and_changes_nothing():
    _warehouse()
    locations = Location.objects.count()

    with pytest.raises(CommandError, match="warehouse MAIN already exists"):
        _run("create_warehouse", "main", "--name", "Again", "--aisles", "1", "--bays", "1", "--levels", "1")

    assert list(Warehouse.objects.values_list("name", flat=True)) == ["Main"]
    assert Location.objects.count() == locations


def test_create_warehouse_refuses_an_impossible_layout():
    with pytest.raises(CommandError, match="levels must be between 1 and 9"):
        _run("create_warehouse", "main", "--name", "Main", "--aisles", "1", "--bays", "1", "--levels", "0")

    assert not Warehouse.objects.exists()


def test_create_warehouse_defaults_to_one_block_with_the_depot_at_aisle_one():
    _warehouse()

    warehouse = Warehouse.objects.get(code="MAIN")
    assert (float(warehouse.aisle_pitch_m), float(warehouse.bay_width_m)) == (3.0, 1.0)
    assert (warehouse.cross_aisles, warehouse.blocks, warehouse.depot_aisle) == ([], 1, 1)
    zones = set(Location.objects.filter(warehouse=warehouse, kind="storage").values_list("zone__code", flat=True))
    assert zones == {"STORAGE"}


def test_create_warehouse_sets_geometry_blocks_and_zones():
    lines = _run(
        "create_warehouse", "west", "--name", "West", "--aisles", "4", "--bays", "30", "--levels", "1",
        "--aisle-pitch", "3.5", "--bay-width", "1.2", "--blocks", "3", "--depot-aisle", "2",
        "--zone", "a=1-2", "--zone", "B=3",
    )  # fmt: skip

    assert lines[-1] == "WEST"
    warehouse = Warehouse.objects.get(code="WEST")
    assert (float(warehouse.aisle_pitch_m), float(warehouse.bay_width_m)) == (3.5, 1.2)
    # Middle cross aisles split 30 bays into three blocks of 10.
    assert (warehouse.cross_aisles, warehouse.blocks, warehouse.depot_aisle) == ([10, 20], 3, 2)
    zone_of = dict(
        Location.objects.filter(warehouse=warehouse, kind="storage", bay=1).values_list("aisle", "zone__code")
    )
    assert zone_of == {1: "A", 2: "A", 3: "B", 4: "STORAGE"}


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--blocks", "4"], "blocks must be between 1 and 3"),
        (["--depot-aisle", "3"], "the depot must be at an aisle between 1 and 2"),
        (["--aisle-pitch", "0"], "aisle pitch must be between 0.5 and 50 m"),
        (["--bay-width", "-1"], "bay width must be between 0.1 and 20 m"),
        (["--zone", "A=1-3"], "zone A: aisles 1-3 must lie within 1-2"),
        (["--zone", "A=1-2", "--zone", "B=2"], "aisle 2 is in zones A and B"),
        (["--zone", "PACKING=1"], "zone code PACKING is reserved"),
        (["--zone", "A"], "must look like CODE=FIRST-LAST"),
    ],
)
def test_create_warehouse_refuses_a_bad_geometry_and_creates_nothing(extra, message):
    with pytest.raises(CommandError, match=message):
        _run("create_warehouse", "main", "--name", "Main", "--aisles", "2", "--bays", "3", "--levels", "1", *extra)

    assert not Warehouse.objects.exists()
    assert not Location.objects.exists()


# -- create_staff --------------------------------------------------------------------------


def test_create_staff_assigns_the_warehouse_and_prints_a_working_token_last():
    _warehouse()

    lines = _run("create_staff", "alice", "--password", "s3cret-pass", "--role", "associate", "--warehouse", "main")

    user = get_user_model().objects.get(username="alice")
    assert user.check_password("s3cret-pass")
    assert list(user.warehouses.values_list("code", flat=True)) == ["MAIN"]
    returned_user, actor = resolve_bearer(lines[-1])
    assert returned_user == user
    assert (actor.kind, actor.role, actor.user_id) == ("staff", "associate", user.pk)


def test_create_staff_again_updates_the_user_and_adds_the_warehouse():
    _warehouse("MAIN")
    _warehouse("EAST")
    _run("create_staff", "alice", "--password", "first-pass", "--role", "associate", "--warehouse", "MAIN")

    token = _run("create_staff", "alice", "--password", "second-pass", "--role", "manager", "--warehouse", "EAST")[-1]

    user = get_user_model().objects.get(username="alice")
    assert user.check_password("second-pass") and user.staff_profile.role == "manager"
    assert sorted(user.warehouses.values_list("code", flat=True)) == ["EAST", "MAIN"]
    assert resolve_bearer(token)[1].role == "manager"
    assert StaffToken.objects.filter(user=user).count() == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--password", "long-enough", "--role", "boss", "--warehouse", "MAIN"], "invalid role 'boss'"),
        (["--password", "long-enough", "--role", "manager", "--warehouse", "NOPE"], "unknown warehouse NOPE"),
        (["--password", "short", "--role", "manager", "--warehouse", "MAIN"], "password refused"),
    ],
)
def test_create_staff_with_bad_input_creates_nothing(args, message):
    _warehouse()

    with pytest.raises(CommandError, match=message):
        _run("create_staff", "alice", *args)

    assert not get_user_model().objects.exists()
    assert not StaffToken.objects.exists()


# -- check_ledger --------------------------------------------------------------------------


def test_check_ledger_prints_ledger_ok_when_movements_match_balances():
    tenant = TenantFactory()
    wh = inv.warehouse()
    inv.stock(tenant, inv.product(tenant, "TEE-RED-M"), wh, "01-01-1", 5)

    assert _run("check_ledger") == ["ledger ok"]


def test_check_ledger_reports_a_tampered_balance_and_exits_1():
    tenant = TenantFactory()
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE-RED-M")
    inv.stock(tenant, tee, wh, "01-01-1", 5)
    balance = StockBalance.objects.get(product=tee, location__code="01-01-1")
    StockBalance.objects.filter(pk=balance.pk).update(on_hand=7)
    out = StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command("check_ledger", stdout=out)

    assert exited.value.code == 1
    assert out.getvalue().splitlines() == [
        f"tenant={tenant.pk} product={tee.pk} location={balance.location_id} lot={balance.lot_id}: "
        "balance 7, movements 5",
        f"tenant={tenant.pk} product={tee.pk}: balances sum to 2, not 0",
    ]
