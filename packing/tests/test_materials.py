from collections import defaultdict

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.tests import factories as inv
from packing import services
from packing.models import (
    Box,
    Material,
    MaterialAlert,
    MaterialBalance,
    MaterialMovement,
    MaterialReason,
    Package,
)
from packing.tests.factories import picked_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    tenant = TenantFactory()
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE", length_mm=200, width_mm=150, height_mm=50, weight_g=250)
    inv.stock(tenant, tee, wh, "01-01-1", 40)
    box_s = services.material_create(code="M-BOX-S", name="Small box", kind="box", box_code="BOX-S", reorder_point=2)
    return tenant, wh, box_s


def _on_hand(wh, material) -> int:
    return MaterialBalance.objects.get(warehouse=wh, material=material).on_hand


def _pack(tenant, n: int):
    # Two tees go into BOX-S (test_services: the least billable weight).
    picked = picked_order(tenant, external_id=f"M{n}", lines=[("TEE", 2)])
    return picked, services.order_pack(order_id=picked.pk, actor="staff:ann")


def test_packing_consumes_one_unit_of_the_box_material_per_package_with_a_movement(setup):
    tenant, wh, box_s = setup
    services.material_receive(warehouse_id=wh.pk, material_code="M-BOX-S", quantity=10, actor="staff:ann")

    picked, shipment = _pack(tenant, 1)

    package = Package.objects.get(shipment=shipment)
    assert _on_hand(wh, box_s) == 9
    consumed = MaterialMovement.objects.get(reason=MaterialReason.CONSUMED)
    assert (
        consumed.warehouse_id,
        consumed.material_id,
        consumed.quantity_delta,
        consumed.package_id,
        consumed.shipment_id,
        consumed.reference,
        consumed.actor,
    ) == (wh.pk, box_s.pk, -1, package.pk, shipment.pk, f"order {picked.number} package 1", "staff:ann")


def test_a_box_with_void_fill_also_consumes_the_void_fill_material(setup):
    tenant, wh, box_s = setup
    Box.objects.filter(code="BOX-S").update(void_fill_per_package=3)
    fill = services.material_create(code="FILL", name="Paper fill", kind="void_fill", reorder_point=0)
    services.material_receive(warehouse_id=wh.pk, material_code="M-BOX-S", quantity=10)
    services.material_receive(warehouse_id=wh.pk, material_code="FILL", quantity=100)

    _pack(tenant, 1)

    assert (_on_hand(wh, box_s), _on_hand(wh, fill)) == (9, 97)
    assert sorted(
        MaterialMovement.objects.filter(reason="consumed").values_list("material__code", "quantity_delta")
    ) == [("FILL", -3), ("M-BOX-S", -1)]


def test_a_box_without_a_material_consumes_nothing(setup):
    tenant, wh, box_s = setup
    Material.objects.filter(pk=box_s.pk).update(box=None)

    _pack(tenant, 1)

    assert not MaterialMovement.objects.exists()
    assert not MaterialBalance.objects.exists()


def test_a_pack_without_the_box_in_stock_goes_on_below_zero_and_raises_an_alert(setup):
    tenant, wh, box_s = setup

    picked, _ = _pack(tenant, 1)

    picked.refresh_from_db()
    assert picked.status == "packed"
    assert _on_hand(wh, box_s) == -1
    alert = MaterialAlert.objects.get()
    assert (alert.warehouse_id, alert.material_id, alert.on_hand, alert.resolved_at) == (wh.pk, box_s.pk, -1, None)
    assert alert.message == "M-BOX-S negative: more used than the books had: -1 on hand, reorder point 2"


def test_the_low_stock_alert_is_raised_once_per_crossing_and_again_after_a_refill(setup):
    tenant, wh, box_s = setup
    services.material_receive(warehouse_id=wh.pk, material_code="M-BOX-S", quantity=4)

    _pack(tenant, 1)  # 3: above the reorder point (2)
    assert not MaterialAlert.objects.exists()
    _pack(tenant, 2)  # 2: at the reorder point, alerted
    _pack(tenant, 3)  # 1: still the same crossing
    assert list(MaterialAlert.objects.values_list("on_hand", "resolved_at")) == [(2, None)]

    services.material_receive(warehouse_id=wh.pk, material_code="M-BOX-S", quantity=10)  # 11: resolved
    assert MaterialAlert.objects.get().resolved_at is not None
    services.material_movement_record(
        warehouse_id=wh.pk, material_code="M-BOX-S", reason="adjusted", quantity=-9, note="crushed"
    )  # 2: a new crossing

    assert sorted(MaterialAlert.objects.values_list("on_hand", flat=True)) == [2, 2]
    assert MaterialAlert.objects.filter(resolved_at__isnull=True).count() == 1


def test_a_count_records_the_difference_with_the_books(setup):
    _, wh, box_s = setup
    services.material_receive(warehouse_id=wh.pk, material_code="M-BOX-S", quantity=10)

    movement = services.material_movement_record(
        warehouse_id=wh.pk, material_code="M-BOX-S", reason="counted", quantity=7, actor="staff:ann"
    )
    same = services.material_movement_record(warehouse_id=wh.pk, material_code="M-BOX-S", reason="counted", quantity=7)

    assert (movement.quantity_delta, movement.note) == (-3, "counted 7, books 10")
    assert (same.quantity_delta, same.note) == (0, "counted 7, books 7")
    assert _on_hand(wh, box_s) == 7


@pytest.mark.parametrize(
    ("reason", "quantity", "field"),
    [
        ("received", 0, "quantity"),
        ("received", -5, "quantity"),
        ("adjusted", 0, "quantity"),
        ("counted", -1, "quantity"),
        ("consumed", 1, "reason"),
        ("stolen", 1, "reason"),
    ],
)
def test_a_refused_movement_changes_nothing(setup, reason, quantity, field):
    _, wh, box_s = setup
    services.material_receive(warehouse_id=wh.pk, material_code="M-BOX-S", quantity=5)

    with pytest.raises(services.MaterialError) as refused:
        services.material_movement_record(warehouse_id=wh.pk, material_code="M-BOX-S", reason=reason, quantity=quantity)

    assert (refused.value.field, refused.value.status) == (field, 422)
    assert _on_hand(wh, box_s) == 5
    assert MaterialMovement.objects.count() == 1


def test_an_unknown_material_is_not_found_and_changes_nothing(setup):
    _, wh, _ = setup

    with pytest.raises(services.MaterialError) as refused:
        services.material_receive(warehouse_id=wh.pk, material_code="NOPE", quantity=5)

    assert refused.value.status == 404
    assert not MaterialMovement.objects.exists() and not MaterialBalance.objects.exists()


def test_a_box_has_at_most_one_material_and_there_is_one_void_fill(setup):
    services.material_create(code="FILL", name="Fill", kind="void_fill")

    with pytest.raises(services.MaterialError) as same_box:
        services.material_create(code="OTHER", name="Other", kind="box", box_code="BOX-S")
    with pytest.raises(services.MaterialError) as second_fill:
        services.material_create(code="FILL-2", name="Fill", kind="void_fill")
    with pytest.raises(services.MaterialError) as unknown_box:
        services.material_create(code="X", name="X", kind="box", box_code="NOPE")

    assert (same_box.value.code, second_fill.value.code, unknown_box.value.code) == (
        "duplicate_box",
        "duplicate_void_fill",
        "unknown_box",
    )
    assert sorted(Material.objects.values_list("code", flat=True)) == ["FILL", "M-BOX-S"]


def test_the_movements_of_each_material_sum_to_its_balance(setup):
    tenant, wh, _ = setup
    services.material_receive(warehouse_id=wh.pk, material_code="M-BOX-S", quantity=3)
    _pack(tenant, 1)
    services.material_movement_record(warehouse_id=wh.pk, material_code="M-BOX-S", reason="adjusted", quantity=-1)
    services.material_movement_record(warehouse_id=wh.pk, material_code="M-BOX-S", reason="counted", quantity=4)
    _pack(tenant, 2)

    sums = defaultdict(int)
    for row in MaterialMovement.objects.values("warehouse_id", "material_id").annotate(total=Sum("quantity_delta")):
        sums[(row["warehouse_id"], row["material_id"])] = row["total"]
    balances = {(b.warehouse_id, b.material_id): b.on_hand for b in MaterialBalance.objects.all()}
    assert balances == dict(sums)
    assert list(balances.values()) == [3]


def test_the_database_refuses_to_update_or_delete_a_material_movement(setup):
    _, wh, _ = setup
    movement = services.material_receive(warehouse_id=wh.pk, material_code="M-BOX-S", quantity=5)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        MaterialMovement.objects.filter(pk=movement.pk).update(quantity_delta=500)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        MaterialMovement.objects.filter(pk=movement.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE packing_materialmovement SET note = 'edited'")

    kept = MaterialMovement.objects.get(pk=movement.pk)
    assert (kept.quantity_delta, kept.note) == (5, "")
