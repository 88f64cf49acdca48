"""Short picks: the units are sought at another location or lot of the same owner, else the line
waits (the whole order when ship-complete, a split order with partial shipments), and the short
location is counted at once."""

from datetime import timedelta
from functools import partial

import pytest
from django.db.models import F, Sum
from django.utils import timezone

from fulfillment.tenancy.tests.factories import TenantFactory, staff_client
from fulfillment.webhooks.models import OutboxEvent
from inventory import services as inventory
from inventory.models import CountStatus, CycleCount, Location, Lot, StockBalance, Zone
from inventory.services import counts, ledger_differences
from inventory.tests import factories as inv
from orders.models import Order, OrderAllocation, OrderEvent, OrderLine, Status
from orders.tests.factories import order
from picking import services
from picking.models import PickList, PickTask, TaskStatus
from picking.tests.factories import order_status, pick_in_full, short, stock_at
from tests.threads import run_together

pytestmark = pytest.mark.django_db


# -- helpers ---------------------------------------------------------------------------------


def _lines(o):
    return [
        (line.sku, line.quantity, line.allocated_quantity, line.picked_quantity, line.backordered_quantity)
        for line in OrderLine.objects.filter(order_id=o.pk).order_by("sku")
    ]


def _short_events(o):
    return list(OrderEvent.objects.filter(order_id=o.pk, type="short_pick").values_list("message", flat=True))


def _wave(wh, strategy="discrete", max_orders=1):
    return services.wave_build(warehouse=wh, strategy=strategy, max_orders=max_orders).pick_lists.get()


def _listed(capture, tenant, wh, external_id, lines):
    """An order of ``lines``, allocated, and the pick list a discrete wave made of it."""
    with capture(execute=True):
        made = order(tenant, external_id=external_id, lines=lines)
    return made, _wave(wh)


def _task(pick_list, code, **filters):
    return pick_list.tasks.select_related("location").get(location__code=code, **filters)


def _pick(pick_list, task):
    return pick_in_full(pick_list, task, actor="ana")


def _walks(pick_list, *codes):
    """Given the list walks its locations in this order (a tour is as long either way: fix the direction)."""
    for sequence, code in enumerate(codes, start=1):
        PickTask.objects.filter(pick_list=pick_list, location__code=code).update(sequence=sequence)


def _route(pick_list):
    """(location, quantity, status) of the list's tasks in sequence order."""
    return [
        (t.location.code, t.quantity, t.status)
        for t in PickList.objects.get(pk=pick_list.pk).tasks.select_related("location").order_by("sequence", "id")
    ]


def _receive(tenant, product, wh, code, quantity, *, lot, expiry):
    shipment = inventory.inbound_create(
        tenant_id=tenant.pk,
        warehouse=wh,
        lines=[inventory.InboundLineInput(sku=product.sku, quantity=quantity, lot=lot, expiry_date=expiry)],
    )
    inventory.inbound_receive(
        shipment_id=shipment.pk,
        lines=[
            inventory.ReceiptLineInput(sku=product.sku, quantity=quantity, location=code, lot=lot, expiry_date=expiry)
        ],
    )


@pytest.fixture
def shop():
    tenant = TenantFactory()
    wh = inv.warehouse(aisles=4, bays=10, levels=1)
    tee = inv.product(tenant, "TEE", barcode="0012345678905")
    mug = inv.product(tenant, "MUG")
    return tenant, wh, tee, mug


def _partial(tenant):
    tenant.allow_partial_shipments = True
    tenant.save(update_fields=["allow_partial_shipments"])


# -- found elsewhere -------------------------------------------------------------------------


def test_short_pick_finds_the_units_at_another_location_and_requests_a_count(shop, django_capture_on_commit_callbacks):
    tenant, wh, tee, _ = shop
    inv.stock(tenant, tee, wh, "01-03-1", 2)
    inv.stock(tenant, tee, wh, "02-05-1", 2)
    o, pick_list = _listed(django_capture_on_commit_callbacks, tenant, wh, "F1", [("TEE", 2)])
    assert float(pick_list.distance_m) == 5.0  # depot, 01-03-1 (2.5 m up aisle 1) and back

    short(pick_list, _task(pick_list, "01-03-1"), actor="ana")

    assert _route(pick_list) == [("01-03-1", 0, TaskStatus.SHORT), ("02-05-1", 2, TaskStatus.OPEN)]
    replacement = _task(pick_list, "02-05-1")
    assert (replacement.tote, replacement.order_id, replacement.lot_id) == (
        "T1",
        o.pk,
        OrderAllocation.objects.get(pk=replacement.allocation_id).lot_id,
    )
    assert _short_events(o) == ["2 x TEE missing at 01-03-1: found at 02-05-1 (2). Count of 01-03-1 requested."]
    (count,) = CycleCount.objects.all()
    assert (count.location.code, count.reason, count.status) == ("01-03-1", "short_pick", CountStatus.OPEN)
    assert stock_at("01-03-1", tee) == (0, 0)  # written off until the count finds them
    assert stock_at("02-05-1", tee) == (2, 2)
    assert order_status(o) == Status.PICKING
    # depot -> 01-03-1 (2.5) -> 02-05-1 (2.5 + 3 + 4.5, by the front) -> depot (4.5 + 3)
    assert float(PickList.objects.get(pk=pick_list.pk).distance_m) == 20.0
    assert ledger_differences() == []

    _pick(pick_list, replacement)

    assert order_status(o) == Status.PICKED
    assert _lines(o) == [("TEE", 2, 2, 2, 0)]
    assert stock_at("PACKING", tee) == (2, 0)
    assert PickList.objects.get(pk=pick_list.pk).status == "done"
    assert ledger_differences() == []


def test_replacement_goes_into_the_same_tote_of_a_batch(shop, django_capture_on_commit_callbacks):
    tenant, wh, tee, _ = shop
    inv.stock(tenant, tee, wh, "01-03-1", 4)
    inv.stock(tenant, tee, wh, "02-05-1", 2)
    with django_capture_on_commit_callbacks(execute=True):
        first = order(tenant, external_id="B0", lines=[("TEE", 2)])
        second = order(tenant, external_id="B1", lines=[("TEE", 2)])
    pick_list = _wave(wh, strategy="batch", max_orders=2)
    shorted = _task(pick_list, "01-03-1", order=second)

    short(pick_list, shorted, actor="ana")

    replacement = _task(pick_list, "02-05-1")
    assert (replacement.order_id, replacement.tote) == (second.pk, shorted.tote)
    other = _task(pick_list, "01-03-1", order=first)
    assert _route(pick_list)[-2:] == [("01-03-1", 2, TaskStatus.OPEN), ("02-05-1", 2, TaskStatus.OPEN)]
    assert other.sequence < replacement.sequence
    # Only the missing units were written off: the first order's two are still there.
    assert stock_at("01-03-1", tee) == (2, 2)
    _pick(pick_list, other)
    _pick(pick_list, replacement)
    assert (order_status(first), order_status(second)) == (Status.PICKED, Status.PICKED)
    assert ledger_differences() == []


def test_missing_units_are_spread_over_lots_first_expiring_first_and_never_under_shelf_life(
    django_capture_on_commit_callbacks,
):
    tenant = TenantFactory()
    wh = inv.warehouse(aisles=4, bays=10, levels=1)
    milk = inv.product(tenant, "MILK", expiry_tracked=True, min_shelf_life_days=30)
    today = timezone.localdate()
    _receive(tenant, milk, wh, "01-03-1", 3, lot="L1", expiry=today + timedelta(days=200))
    _receive(tenant, milk, wh, "02-05-1", 5, lot="L3", expiry=today + timedelta(days=300))
    _receive(tenant, milk, wh, "03-02-1", 1, lot="L2", expiry=today + timedelta(days=250))
    _receive(tenant, milk, wh, "04-01-1", 5, lot="L0", expiry=today + timedelta(days=10))  # too short to ship
    o, pick_list = _listed(django_capture_on_commit_callbacks, tenant, wh, "M1", [("MILK", 3)])
    assert _route(pick_list) == [("01-03-1", 3, TaskStatus.OPEN)]

    short(pick_list, _task(pick_list, "01-03-1"), actor="ana")

    assert _short_events(o) == [
        "3 x MILK missing at 01-03-1: found at 03-02-1 (1), 02-05-1 (2). Count of 01-03-1 requested."
    ]
    lots = dict(pick_list.tasks.filter(status=TaskStatus.OPEN).values_list("location__code", "lot__code"))
    assert lots == {"03-02-1": "L2", "02-05-1": "L3"}
    # From 01-03-1: 02-05-1 then 03-02-1 and back is as short as the other way round (29 m); the
    # first cheapest place wins.
    assert _route(pick_list) == [
        ("01-03-1", 0, TaskStatus.SHORT),
        ("02-05-1", 2, TaskStatus.OPEN),
        ("03-02-1", 1, TaskStatus.OPEN),
    ]
    assert float(PickList.objects.get(pk=pick_list.pk).distance_m) == 29.0
    assert stock_at("04-01-1", milk) == (5, 0)
    for task in pick_list.tasks.filter(status=TaskStatus.OPEN):
        _pick(pick_list, task)
    assert order_status(o) == Status.PICKED
    assert _lines(o) == [("MILK", 3, 3, 3, 0)]
    assert ledger_differences() == []


def test_replacement_is_inserted_where_the_route_grows_least_not_appended(django_capture_on_commit_callbacks):
    tenant = TenantFactory()
    wh = inv.warehouse(aisles=3, bays=10, levels=1)
    a, b = inv.product(tenant, "A"), inv.product(tenant, "B")
    inv.stock(tenant, a, wh, "01-02-1", 1)
    inv.stock(tenant, b, wh, "03-05-1", 1)
    inv.stock(tenant, a, wh, "01-06-1", 1)
    _, pick_list = _listed(django_capture_on_commit_callbacks, tenant, wh, "R1", [("A", 1), ("B", 1)])
    _walks(pick_list, "01-02-1", "03-05-1")  # A, then B

    short(pick_list, _task(pick_list, "01-02-1"), actor="ana")

    # Up aisle 1 from 01-02-1 to 01-06-1 on the way, then B: 1.5 + 4 + 16 + 10.5 = 32 m; appending
    # 01-06-1 after B would walk 1.5 + 12 + 16 + 5.5 = 35 m.
    assert _route(pick_list) == [
        ("01-02-1", 0, TaskStatus.SHORT),
        ("01-06-1", 1, TaskStatus.OPEN),
        ("03-05-1", 1, TaskStatus.OPEN),
    ]
    assert list(pick_list.tasks.order_by("sequence").values_list("sequence", flat=True)) == [1, 2, 3]
    assert float(PickList.objects.get(pk=pick_list.pk).distance_m) == 32.0
    assert services.next_task(pick_list=pick_list).location.code == "01-06-1"
    assert ledger_differences() == []


def test_replacement_off_the_grid_goes_last(shop, django_capture_on_commit_callbacks):
    tenant, wh, tee, mug = shop
    storage = Zone.objects.get(warehouse=wh, code="STORAGE")
    Location.objects.create(warehouse=wh, zone=storage, code="BULK-1", kind="storage", is_sellable=True)
    inv.stock(tenant, tee, wh, "01-02-1", 2)
    inv.stock(tenant, mug, wh, "03-05-1", 1)
    inv.stock(tenant, tee, wh, "BULK-1", 2)
    _, pick_list = _listed(django_capture_on_commit_callbacks, tenant, wh, "G1", [("TEE", 2), ("MUG", 1)])
    _walks(pick_list, "01-02-1", "03-05-1")

    short(pick_list, _task(pick_list, "01-02-1"), actor="ana")

    assert _route(pick_list) == [
        ("01-02-1", 0, TaskStatus.SHORT),
        ("03-05-1", 1, TaskStatus.OPEN),
        ("BULK-1", 2, TaskStatus.OPEN),
    ]
    # Off-grid stops are not in the distance: depot, 01-02-1, 03-05-1, depot (1.5 + 12 + 10.5).
    assert float(PickList.objects.get(pk=pick_list.pk).distance_m) == 24.0
    assert ledger_differences() == []


# -- nothing (or not enough) elsewhere -------------------------------------------------------


def test_ship_complete_short_backorders_the_order_and_the_next_wave_picks_only_the_rest(
    shop, django_capture_on_commit_callbacks
):
    tenant, wh, tee, _ = shop
    inv.stock(tenant, tee, wh, "01-03-1", 4)
    inv.stock(tenant, tee, wh, "02-05-1", 1)  # not enough for the 3 missing: none is taken
    o, pick_list = _listed(django_capture_on_commit_callbacks, tenant, wh, "S1", [("TEE", 4)])

    with django_capture_on_commit_callbacks(execute=True):
        short(pick_list, _task(pick_list, "01-03-1"), picked=1, actor="ana")

    assert _route(pick_list) == [("01-03-1", 1, TaskStatus.SHORT)]
    assert _short_events(o) == [
        "3 x TEE missing at 01-03-1: none elsewhere; backordered, the order waits for it (ship complete)."
        " Count of 01-03-1 requested."
    ]
    assert order_status(o) == Status.BACKORDERED
    assert _lines(o) == [("TEE", 4, 1, 1, 3)]
    assert stock_at("PACKING", tee) == (1, 0)  # the picked unit waits at packing
    assert stock_at("02-05-1", tee) == (1, 0)
    assert not Order.objects.filter(parent=o).exists()
    assert ledger_differences() == []

    with django_capture_on_commit_callbacks(execute=True):
        inv.stock(tenant, tee, wh, "03-01-1", 2)

    assert order_status(o) == Status.ALLOCATED
    assert _lines(o) == [("TEE", 4, 4, 1, 0)]
    second = _wave(wh)
    assert sorted((code, qty) for code, qty, _ in _route(second)) == [("02-05-1", 1), ("03-01-1", 2)]
    for task in second.tasks.all():
        _pick(second, task)
    assert order_status(o) == Status.PICKED
    assert _lines(o) == [("TEE", 4, 4, 4, 0)]
    assert stock_at("PACKING", tee) == (4, 0)
    assert ledger_differences() == []


def test_partial_shipments_short_splits_the_missing_units_off_when_the_order_is_picked(
    shop, django_capture_on_commit_callbacks
):
    tenant, wh, tee, mug = shop
    _partial(tenant)
    inv.stock(tenant, tee, wh, "01-03-1", 3)
    inv.stock(tenant, mug, wh, "01-04-1", 1)
    o, pick_list = _listed(django_capture_on_commit_callbacks, tenant, wh, "P1", [("TEE", 3), ("MUG", 1)])

    short(pick_list, _task(pick_list, "01-03-1"), picked=1, actor="ana")

    assert _short_events(o) == [
        "2 x TEE missing at 01-03-1: none elsewhere; backordered (partial shipments: the rest of the order may"
        " ship first). Count of 01-03-1 requested."
    ]
    assert order_status(o) == Status.PICKING
    with django_capture_on_commit_callbacks(execute=True):
        _pick(pick_list, _task(pick_list, "01-04-1"))

    o.refresh_from_db()
    assert o.status == Status.PICKED
    assert _lines(o) == [("MUG", 1, 1, 1, 0), ("TEE", 1, 1, 1, 0)]
    split = Order.objects.get(parent=o)
    assert (split.number, split.external_id, split.status, split.created_at, split.priority) == (
        f"{o.number}-2",
        "P1",
        Status.BACKORDERED,
        o.created_at,
        o.priority,
    )
    assert _lines(split) == [("TEE", 2, 0, 0, 2)]
    assert OrderEvent.objects.get(order=o, type="split").message == f"Split: 2 x TEE backordered as {split.number}"
    assert OrderEvent.objects.get(order=o, to_status=Status.PICKED).message == (
        f"Picked what was there; the rest ships later as {split.number}"
    )
    assert OrderEvent.objects.get(order=split, type="created").message == (
        f"Backordered rest of {o.number} (short pick, partial shipment)"
    )
    assert OutboxEvent.objects.filter(type="order.backordered", data__id=str(split.pk)).count() == 1
    assert not OutboxEvent.objects.filter(type="order.backordered", data__id=str(o.pk)).exists()
    assert ledger_differences() == []

    with django_capture_on_commit_callbacks(execute=True):
        inv.stock(tenant, tee, wh, "02-01-1", 2)
    assert order_status(split) == Status.ALLOCATED
    assert _lines(split) == [("TEE", 2, 2, 0, 0)]


def test_partial_shipments_short_takes_what_is_elsewhere_and_splits_only_the_rest(
    shop, django_capture_on_commit_callbacks
):
    tenant, wh, tee, _ = shop
    _partial(tenant)
    inv.stock(tenant, tee, wh, "01-03-1", 3)
    inv.stock(tenant, tee, wh, "02-05-1", 1)
    o, pick_list = _listed(django_capture_on_commit_callbacks, tenant, wh, "P2", [("TEE", 3)])

    short(pick_list, _task(pick_list, "01-03-1"), picked=1, actor="ana")

    assert _short_events(o) == [
        "2 x TEE missing at 01-03-1: found at 02-05-1 (1); 1 backordered (partial shipments)."
        " Count of 01-03-1 requested."
    ]
    assert _lines(o) == [("TEE", 3, 2, 1, 1)]
    with django_capture_on_commit_callbacks(execute=True):
        _pick(pick_list, _task(pick_list, "02-05-1"))
    assert order_status(o) == Status.PICKED
    assert _lines(o) == [("TEE", 2, 2, 2, 0)]
    assert _lines(Order.objects.get(parent=o)) == [("TEE", 1, 0, 0, 1)]
    assert ledger_differences() == []


def test_partial_shipments_order_with_nothing_picked_waits_unsplit_and_splits_later_by_allocation(
    shop, django_capture_on_commit_callbacks
):
    tenant, wh, tee, mug = shop
    _partial(tenant)
    inv.stock(tenant, tee, wh, "01-03-1", 2)
    inv.stock(tenant, mug, wh, "01-04-1", 1)
    o, pick_list = _listed(django_capture_on_commit_callbacks, tenant, wh, "P3", [("TEE", 2), ("MUG", 1)])
    mug_line = OrderLine.objects.get(order=o, sku="MUG")

    with django_capture_on_commit_callbacks(execute=True):
        short(pick_list, _task(pick_list, "01-03-1"), actor="ana")
        short(pick_list, _task(pick_list, "01-04-1"), actor="ana")

    assert order_status(o) == Status.BACKORDERED
    assert not Order.objects.filter(parent=o).exists()
    assert _lines(o) == [("MUG", 1, 0, 0, 1), ("TEE", 2, 0, 0, 2)]
    assert OrderAllocation.objects.filter(line__order=o, released=False).count() == 0
    assert ledger_differences() == []

    # TEE arrives, MUG does not: allocation splits the MUG line off. It moves whole, with the
    # pick history of its short task (a picked-from line cannot be deleted).
    with django_capture_on_commit_callbacks(execute=True):
        inv.stock(tenant, tee, wh, "02-01-1", 2)

    assert order_status(o) == Status.ALLOCATED
    assert _lines(o) == [("TEE", 2, 2, 0, 0)]
    split = Order.objects.get(parent=o)
    assert (split.status, list(split.lines.values_list("pk", flat=True))) == (Status.BACKORDERED, [mug_line.pk])
    assert _lines(split) == [("MUG", 1, 0, 0, 1)]
    assert PickTask.objects.get(allocation__line=mug_line).status == TaskStatus.SHORT
    second = _wave(wh)
    assert [(code, qty) for code, qty, _ in _route(second)] == [("02-01-1", 2)]
    assert ledger_differences() == []


# -- the count of the short location ---------------------------------------------------------


def test_two_shorts_at_one_location_request_one_count_that_the_nightly_schedule_does_not_repeat(
    shop, django_capture_on_commit_callbacks
):
    tenant, wh, tee, _ = shop
    inv.stock(tenant, tee, wh, "01-03-1", 4)
    with django_capture_on_commit_callbacks(execute=True):
        first = order(tenant, external_id="C0", lines=[("TEE", 2)])
        second = order(tenant, external_id="C1", lines=[("TEE", 2)])
    pick_list = _wave(wh, strategy="batch", max_orders=2)

    short(pick_list, _task(pick_list, "01-03-1", order=first), actor="ana")
    short(pick_list, _task(pick_list, "01-03-1", order=second), actor="ana")

    (count,) = CycleCount.objects.all()
    assert (count.location.code, count.reason, count.status) == ("01-03-1", "short_pick", CountStatus.OPEN)
    data = OrderEvent.objects.filter(type="short_pick").values_list("data__count", flat=True)
    assert sorted(data) == [str(count.pk), str(count.pk)]
    created = counts.cycle_counts_schedule()
    assert "01-03-1" not in [c.location.code for c in created]
    assert CycleCount.objects.filter(location__code="01-03-1").count() == 1

    # Like any count: on the handheld list, counted blind, then reviewed by a manager.
    listing = staff_client("al", "associate", wh).get("/handheld/count/").content.decode()
    assert f'data-count="{count.pk}"' in listing
    counts.count_submit(count_id=count.pk, lines=[counts.CountLineInput(sku="TEE", counted_quantity=3)], actor="al")
    review = staff_client("mia", "manager", wh).get("/inventory/counts/").content.decode()
    assert f'data-count="{count.pk}"' in review
    assert "Short Pick · counted by al" in review
    assert "01-03-1" not in [c.location.code for c in counts.cycle_counts_schedule()]
    assert CycleCount.objects.filter(location__code="01-03-1").count() == 1
    assert ledger_differences() == []


def test_a_short_at_a_location_with_an_open_count_keeps_that_count(shop, django_capture_on_commit_callbacks):
    tenant, wh, tee, _ = shop
    inv.stock(tenant, tee, wh, "01-03-1", 2)
    with django_capture_on_commit_callbacks(execute=True):
        o = order(tenant, external_id="C2", lines=[("TEE", 2)])
    manual = counts.count_create(warehouse_id=wh.pk, location_code="01-03-1")
    pick_list = _wave(wh)

    task = short(pick_list, _task(pick_list, "01-03-1"), actor="ana")

    assert task.status == TaskStatus.SHORT
    assert list(CycleCount.objects.values_list("pk", "reason")) == [(manual.pk, "manual")]
    assert OrderEvent.objects.get(order=o, type="short_pick").data["count"] == str(manual.pk)


def test_count_request_is_harmless_when_a_count_is_in_review_or_the_location_virtual(shop):
    tenant, wh, tee, _ = shop
    inv.stock(tenant, tee, wh, "01-03-1", 2)
    reviewed = counts.count_create(warehouse_id=wh.pk, location_code="01-03-1")
    counts.count_submit(count_id=reviewed.pk, lines=[counts.CountLineInput(sku="TEE", counted_quantity=9)])
    location = Location.objects.get(warehouse=wh, code="01-03-1")
    virtual = Location.objects.get(warehouse=wh, code="V-ADJUSTMENT")

    again = counts.count_request(location_id=location.pk)
    nothing = counts.count_request(location_id=virtual.pk)

    assert (again[0].pk, again[0].status, again[1]) == (reviewed.pk, CountStatus.IN_REVIEW, False)
    assert nothing == (None, False)
    assert CycleCount.objects.count() == 1


# -- concurrency (PostgreSQL) ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("picked", "replaced"), [(0, 1), (1, 2)])
def test_two_pickers_short_picking_one_product_at_once_never_double_allocate_the_replacement(picked, replaced):
    """Each short location still shows free units that the other picker looks for, so without the
    locks taken before the pick the two transactions would wait for each other (deadlock)."""
    tenant = TenantFactory()
    wh = inv.warehouse(aisles=4, bays=10, levels=1)
    tee = inv.product(tenant, "TEE")
    inv.stock(tenant, tee, wh, "01-01-1", 3, lot="A")
    inv.stock(tenant, tee, wh, "02-01-1", 3, lot="B")
    first = order(tenant, external_id="X0", lines=[("TEE", 2)])  # allocated on commit: lot A, the oldest
    # Make lot B the oldest, so that the second order is allocated at 02-01-1.
    Lot.objects.filter(code="B").update(received_at=F("received_at") - timedelta(days=30))
    second = order(tenant, external_id="X1", lines=[("TEE", 2)])
    inv.stock(tenant, tee, wh, "03-01-1", 1, lot="C")
    services.wave_build(warehouse=wh, strategy="discrete", max_orders=2)
    tasks = {
        t.order_id: t
        for t in PickTask.objects.select_related("location", "pick_list", "product").filter(order__in=[first, second])
    }
    assert (tasks[first.pk].location.code, tasks[second.pk].location.code) == ("01-01-1", "02-01-1")

    def report_short(task: PickTask) -> None:
        services.pick_confirm(
            pick_list=task.pick_list,
            task_id=task.pk,
            location_barcode=task.location.code,
            product_barcode="TEE",
            quantity=picked,
            short=True,
            actor="picker",
        )

    errors = run_together([partial(report_short, t) for t in tasks.values()])

    assert errors == []
    replacements = PickTask.objects.filter(status=TaskStatus.OPEN)
    assert replacements.values("order_id").distinct().count() == replaced
    assert sum(replacements.values_list("quantity", flat=True)) == replaced * (2 - picked)
    for balance in StockBalance.objects.filter(product=tee, location__is_sellable=True):
        held = (
            OrderAllocation.objects.filter(balance=balance, released=False)
            .annotate(left=F("quantity") - F("picked_quantity"))
            .aggregate(units=Sum("left"))["units"]
            or 0
        )
        assert 0 <= balance.allocated == held <= balance.on_hand, balance.location.code
    assert sorted(CycleCount.objects.values_list("location__code", flat=True)) == ["01-01-1", "02-01-1"]
    assert ledger_differences() == []
