import pytest

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders.models import Order, OrderEvent, Status
from orders.tests.factories import order
from packing import services
from packing.models import Box, Package, Shipment, ShipmentStatus
from packing.tests.factories import ensure_default_boxes, picked_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    tenant = TenantFactory()
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE", length_mm=200, width_mm=150, height_mm=50, weight_g=250)
    mug = inv.product(tenant, "MUG", length_mm=120, width_mm=100, height_mm=100, weight_g=400)
    inv.stock(tenant, tee, wh, "01-01-1", 20)
    inv.stock(tenant, mug, wh, "01-02-1", 20)
    return tenant, wh


def _snapshot(order_obj):
    order_obj.refresh_from_db()
    return (order_obj.status, OrderEvent.objects.filter(order=order_obj).count(), Shipment.objects.count())


def test_the_catalog_migration_creates_six_boxes_once_and_keeps_edited_ones():
    Box.objects.exclude(code="BOX-S").delete()
    Box.objects.filter(code="BOX-S").update(name="Our small box", is_active=False)

    ensure_default_boxes()
    ensure_default_boxes()

    assert list(Box.objects.order_by("code").values_list("code", "is_active")) == [
        ("BOX-L", True),
        ("BOX-M", True),
        ("BOX-S", False),
        ("CARTON-XL", True),
        ("MAILER-L", True),
        ("MAILER-S", True),
    ]
    assert Box.objects.get(code="BOX-S").name == "Our small box"


def test_pack_without_packages_uses_the_box_with_the_least_billable_weight(setup):
    tenant, wh = setup
    picked = picked_order(tenant, external_id="P1", lines=[("TEE", 2)])

    shipment = services.order_pack(order_id=picked.pk, actor="staff:ann")

    picked.refresh_from_db()
    assert picked.status == Status.PACKED
    assert (shipment.status, shipment.tenant_id, shipment.warehouse_id) == (ShipmentStatus.PACKED, tenant.pk, wh.pk)
    assert list(shipment.packages.values_list("number", "box__code", "weight_g", "items")) == [
        # Two tees (200x150x50 mm) fit the large mailer too, but its 5.25 L bill 1,050 g; the
        # small box's 3 L bill 600 g, less than the 650 g the parcel weighs.
        (1, "BOX-S", 2 * 250 + 150, [{"sku": "TEE", "quantity": 2}])
    ]
    event = OrderEvent.objects.filter(order=picked).last()
    assert (event.to_status, event.actor, event.message) == ("packed", "staff:ann", "Packed in 1 package(s): BOX-S")


def test_pack_splits_an_order_that_fits_no_single_box(setup):
    tenant, _ = setup
    # 12 mugs (120x100x100 mm). Without the large boxes, the biggest left is BOX-M (300x230x150 mm): six
    # stand on end in it (3 x 2), so two of them take all twelve (too tall for mailers, too many for BOX-S).
    Box.objects.filter(code__in=["BOX-L", "CARTON-XL"]).update(is_active=False)
    picked = picked_order(tenant, external_id="P2", lines=[("MUG", 12)])

    shipment = services.order_pack(order_id=picked.pk, actor="staff:ann")

    assert list(shipment.packages.values_list("number", "box__code", "items")) == [
        (1, "BOX-M", [{"sku": "MUG", "quantity": 6}]),
        (2, "BOX-M", [{"sku": "MUG", "quantity": 6}]),
    ]


def test_pack_with_packages_records_the_operator_boxes_and_weights(setup):
    tenant, _ = setup
    picked = picked_order(tenant, external_id="P3", lines=[("TEE", 2), ("MUG", 1)])

    shipment = services.order_pack(
        order_id=picked.pk,
        actor="staff:ann",
        packages=[
            {"box": "BOX-S", "weight_g": 700, "items": [{"sku": "MUG", "quantity": 1}, {"sku": "TEE", "quantity": 1}]},
            {"box": "MAILER-L", "items": [{"sku": "TEE", "quantity": 1}]},
        ],
    )

    assert list(shipment.packages.values_list("number", "box__code", "weight_g", "length_mm", "items")) == [
        (1, "BOX-S", 700, 200, [{"sku": "MUG", "quantity": 1}, {"sku": "TEE", "quantity": 1}]),
        (2, "MAILER-L", 250 + 60, 350, [{"sku": "TEE", "quantity": 1}]),
    ]


def test_pack_refuses_an_order_that_is_not_picked_and_changes_nothing(setup):
    tenant, _ = setup
    allocated = order(tenant, external_id="P4", lines=[("TEE", 1)])
    from orders.services import order_allocate

    order_allocate(order_id=allocated.pk)
    before = _snapshot(allocated)

    with pytest.raises(services.PackingError) as refused:
        services.order_pack(order_id=allocated.pk, actor="staff:ann")

    assert refused.value.code == "invalid_state"
    assert _snapshot(allocated) == before == ("allocated", 2, 0)


def test_pack_refuses_an_order_that_is_already_packed(setup):
    tenant, _ = setup
    picked = picked_order(tenant, external_id="P5", lines=[("TEE", 1)])
    services.order_pack(order_id=picked.pk, actor="staff:ann")
    before = _snapshot(picked)

    with pytest.raises(services.PackingError) as refused:
        services.order_pack(order_id=picked.pk, actor="staff:ann")

    assert refused.value.code == "invalid_state"
    assert _snapshot(picked) == before
    assert Package.objects.count() == 1


def test_pack_with_quantities_that_differ_from_the_picked_ones_creates_nothing(setup):
    tenant, _ = setup
    picked = picked_order(tenant, external_id="P6", lines=[("TEE", 2), ("MUG", 1)])
    before = _snapshot(picked)

    with pytest.raises(services.PackingError) as refused:
        services.order_pack(
            order_id=picked.pk,
            actor="staff:ann",
            packages=[{"box": "BOX-M", "items": [{"sku": "TEE", "quantity": 3}]}],
        )

    assert refused.value.code == "invalid"
    assert refused.value.errors == [
        {"field": "packages", "code": "quantity_mismatch", "message": "SKU TEE: 3 packed but 2 picked"},
        {"field": "packages", "code": "quantity_mismatch", "message": "SKU MUG: 0 packed but 1 picked"},
    ]
    assert _snapshot(picked) == before
    assert Package.objects.count() == 0


def test_pack_with_an_unknown_box_or_sku_names_the_fields(setup):
    tenant, _ = setup
    picked = picked_order(tenant, external_id="P7", lines=[("TEE", 1)])
    inv.product(tenant, "HAT")

    with pytest.raises(services.PackingError) as refused:
        services.order_pack(
            order_id=picked.pk,
            actor="staff:ann",
            packages=[
                {"box": "BOX-M", "items": [{"sku": "TEE", "quantity": 1}]},
                {"box": "NOPE", "items": [{"sku": "TEE", "quantity": 1}, {"sku": "HAT", "quantity": 1}]},
            ],
        )

    assert [(e["field"], e["code"]) for e in refused.value.errors] == [
        ("packages[1].box", "unknown_box"),
        ("packages[1].items[1].sku", "not_picked"),
    ]
    assert Shipment.objects.count() == 0


def test_pack_with_an_inactive_box_is_refused(setup):
    tenant, _ = setup
    picked = picked_order(tenant, external_id="P8", lines=[("TEE", 1)])
    Box.objects.filter(code="BOX-M").update(is_active=False)

    with pytest.raises(services.PackingError) as refused:
        services.order_pack(
            order_id=picked.pk, actor="", packages=[{"box": "BOX-M", "items": [{"sku": "TEE", "quantity": 1}]}]
        )

    assert [e["field"] for e in refused.value.errors] == ["packages[0].box"]


def test_pack_for_an_actor_that_cannot_see_the_order_is_not_found(setup):
    tenant, _ = setup
    picked = picked_order(tenant, external_id="P9", lines=[("TEE", 1)])
    from fulfillment.tenancy.actor import Actor

    other = Actor(kind="merchant", tenant_id=TenantFactory().pk)

    with pytest.raises(Order.DoesNotExist):
        services.order_pack(order_id=picked.pk, actor="", actor_obj=other)

    assert Shipment.objects.count() == 0


def test_packing_keeps_the_ledger_balanced(setup):
    tenant, _ = setup
    picked = picked_order(tenant, external_id="P10", lines=[("TEE", 2), ("MUG", 3)])

    services.order_pack(order_id=picked.pk, actor="")

    assert ledger_differences() == []


def test_a_product_bigger_than_every_box_ships_as_is_in_its_own_package(setup):
    tenant, wh = setup
    bike = inv.product(tenant, "BIKE", length_mm=1500, width_mm=250, height_mm=800, weight_g=12000)
    inv.stock(tenant, bike, wh, "01-03-1", 2)
    picked = picked_order(tenant, external_id="P11", lines=[("TEE", 1), ("BIKE", 1)])

    shipment = services.order_pack(order_id=picked.pk, actor="")

    assert list(
        shipment.packages.values_list("number", "box__code", "weight_g", "length_mm", "width_mm", "height_mm", "items")
    ) == [
        (1, "BOX-S", 250 + 150, 200, 150, 100, [{"sku": "TEE", "quantity": 1}]),
        (2, None, 12000, 1500, 800, 250, [{"sku": "BIKE", "quantity": 1}]),
    ]
