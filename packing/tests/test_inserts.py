import pytest

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.models import Location, StockBalance, StockMovement
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders.models import OrderEvent
from orders.tests.factories import ship_to
from packing import selectors, services
from packing.models import InsertRule
from packing.tests.factories import picked_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    tenant = TenantFactory()
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE")
    inv.stock(tenant, tee, wh, "01-01-1", 40)
    flyer = inv.product(tenant, "FLYER-01", name="Spring flyer", weight_g=5, height_mm=1)
    return tenant, wh, flyer


def _at_packing(tenant, product, wh) -> int:
    packing = Location.objects.get(warehouse=wh, code="PACKING")
    return sum(
        StockBalance.objects.filter(tenant=tenant, product=product, location=packing).values_list("on_hand", flat=True)
    )


def _pack(tenant, external_id: str, **fields):
    picked = picked_order(tenant, external_id=external_id, lines=[("TEE", 1)], **fields)
    services.order_pack(order_id=picked.pk, actor="staff:ann")
    return picked


def _notes(order_obj) -> list[str]:
    return list(
        OrderEvent.objects.filter(order=order_obj, type__startswith="insert_")
        .order_by("created_at", "id")
        .values_list("message", flat=True)
    )


def test_an_always_insert_leaves_packing_through_the_ledger_and_is_on_the_timeline(setup):
    tenant, wh, flyer = setup
    inv.stock(tenant, flyer, wh, "PACKING", 10)
    services.insert_rule_create(tenant_id=tenant.pk, sku="FLYER-01", quantity=2, when="always")

    first = _pack(tenant, "I1")
    second = _pack(tenant, "I2")

    assert _at_packing(tenant, flyer, wh) == 6
    moves = StockMovement.objects.filter(product=flyer, reason="insert").order_by("created_at", "id")
    assert [(m.from_location.code, m.to_location.code, m.quantity, m.reference) for m in moves] == [
        ("PACKING", "V-CUSTOMER", 2, f"order {first.number} insert"),
        ("PACKING", "V-CUSTOMER", 2, f"order {second.number} insert"),
    ]
    assert _notes(first) == ["insert FLYER-01 × 2 added (always)"]
    assert ledger_differences() == []


def test_a_first_order_insert_goes_only_into_the_shoppers_first_packed_order(setup):
    tenant, wh, flyer = setup
    inv.stock(tenant, flyer, wh, "PACKING", 10)
    services.insert_rule_create(tenant_id=tenant.pk, sku="FLYER-01", when="first_order")

    ada_first = _pack(tenant, "F1", ship_to=ship_to(email="ada@example.com"))
    ada_again = _pack(tenant, "F2", ship_to=ship_to(email="ADA@example.com "))
    grace = _pack(tenant, "F3", ship_to=ship_to(name="Grace", email="grace@example.com"))

    assert (_notes(ada_first), _notes(ada_again), _notes(grace)) == (
        ["insert FLYER-01 × 1 added (first_order)"],
        [],
        ["insert FLYER-01 × 1 added (first_order)"],
    )
    assert _at_packing(tenant, flyer, wh) == 8


def test_without_an_email_the_first_order_is_told_by_the_ship_to_address(setup):
    tenant, wh, flyer = setup
    inv.stock(tenant, flyer, wh, "PACKING", 10)
    services.insert_rule_create(tenant_id=tenant.pk, sku="FLYER-01", when="first_order")
    _pack(tenant, "A1", ship_to=ship_to(email=""))

    same_address = picked_order(tenant, external_id="A2", lines=[("TEE", 1)], ship_to=ship_to(email=""))
    elsewhere = picked_order(
        tenant, external_id="A3", lines=[("TEE", 1)], ship_to=ship_to(email="", line1="1 Bay St", postal_code="M5J 2R8")
    )

    assert selectors.order_inserts(same_address) == []
    assert [i.sku for i in selectors.order_inserts(elsewhere)] == ["FLYER-01"]


def test_an_order_not_yet_packed_does_not_make_the_next_one_a_repeat(setup):
    tenant, _, _ = setup
    services.insert_rule_create(tenant_id=tenant.pk, sku="FLYER-01", when="first_order")
    waiting = picked_order(tenant, external_id="W1", lines=[("TEE", 1)])
    other = picked_order(tenant, external_id="W2", lines=[("TEE", 1)])

    assert [i.sku for i in selectors.order_inserts(waiting)] == ["FLYER-01"]
    assert [i.sku for i in selectors.order_inserts(other)] == ["FLYER-01"]


def test_an_insert_with_no_stock_at_packing_is_skipped_the_pack_goes_on_and_the_timeline_says_so(setup):
    tenant, wh, flyer = setup
    services.insert_rule_create(tenant_id=tenant.pk, sku="FLYER-01", when="always")
    packed = picked_order(tenant, external_id="S1", lines=[("TEE", 1)])
    movements = StockMovement.objects.count()

    services.order_pack(order_id=packed.pk, actor="staff:ann")

    packed.refresh_from_db()
    assert packed.status == "packed"
    assert _notes(packed) == ["insert FLYER-01 skipped: none at PACKING"]
    # Packing itself moves no stock (picking brought the tee to PACKING; shipping takes it on).
    assert StockMovement.objects.count() == movements
    assert ledger_differences() == []


def test_an_insert_never_takes_units_a_picked_order_still_ships(setup):
    tenant, wh, flyer = setup
    inv.stock(tenant, flyer, wh, "01-02-1", 1)
    # An order of the flyer itself: its unit waits at PACKING for its own parcel.
    buyer = picked_order(tenant, external_id="B1", lines=[("FLYER-01", 1)])
    services.insert_rule_create(tenant_id=tenant.pk, sku="FLYER-01", when="always")

    packed = _pack(tenant, "B2")

    assert _notes(packed) == ["insert FLYER-01 skipped: none at PACKING"]
    assert _at_packing(tenant, flyer, wh) == 1
    services.order_pack(order_id=buyer.pk, actor="staff:ann")  # and the buyer's own pack still has it


def test_an_inactive_rule_puts_nothing_in(setup):
    tenant, wh, flyer = setup
    inv.stock(tenant, flyer, wh, "PACKING", 10)
    services.insert_rule_create(tenant_id=tenant.pk, sku="FLYER-01", when="always", active=False)

    packed = _pack(tenant, "N1")

    assert _notes(packed) == []
    assert _at_packing(tenant, flyer, wh) == 10


def test_a_rule_for_an_unknown_or_another_merchants_sku_is_refused_and_creates_nothing(setup):
    tenant, _, _ = setup
    other = TenantFactory()
    inv.product(other, "THEIRS")

    for sku in ("NOPE", "THEIRS"):
        with pytest.raises(services.InsertRuleError) as refused:
            services.insert_rule_create(tenant_id=tenant.pk, sku=sku)
        assert (refused.value.field, refused.value.code, refused.value.status) == ("sku", "unknown_sku", 422)

    assert not InsertRule.objects.exists()
