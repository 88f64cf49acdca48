import pytest

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.models import StockBalance
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders.models import Order, Status
from orders.tests.factories import order
from picking import services
from picking.geometry import Layout, Stop
from picking.heuristics import s_shape
from picking.models import PickTask, TaskStatus
from picking.tests.factories import allocated_orders, short

pytestmark = pytest.mark.django_db


def _status(order):
    return Order.objects.get(pk=order.pk).status


def _balance(code):
    return StockBalance.objects.get(location__code=code, location__warehouse__code="MAIN")


def test_batch_wave_puts_each_order_in_its_own_tote_and_marks_orders_picking(django_capture_on_commit_callbacks):
    _, wh, _, orders = allocated_orders(django_capture_on_commit_callbacks, count=3)
    wave = services.wave_build(warehouse=wh, strategy="batch", max_orders=10)
    (pick_list,) = wave.pick_lists.all()
    assert sorted(pick_list.tasks.values_list("tote", flat=True)) == ["T1", "T2", "T3"]
    assert {_status(o) for o in orders} == {Status.PICKING}


def test_discrete_wave_makes_one_list_per_order(django_capture_on_commit_callbacks):
    _, wh, _, orders = allocated_orders(django_capture_on_commit_callbacks, count=2)
    wave = services.wave_build(warehouse=wh, strategy="discrete", max_orders=10)
    assert wave.pick_lists.count() == 2


def test_wave_without_allocated_orders_is_none(django_capture_on_commit_callbacks):
    _, wh, _, _ = allocated_orders(django_capture_on_commit_callbacks, count=1)
    services.wave_build(warehouse=wh, strategy="batch", max_orders=10)
    assert services.wave_build(warehouse=wh, strategy="batch", max_orders=10) is None


def test_wrong_location_scan_changes_nothing(django_capture_on_commit_callbacks):
    _, wh, _, orders = allocated_orders(django_capture_on_commit_callbacks, count=1)
    pick_list = services.wave_build(warehouse=wh, strategy="discrete", max_orders=1).pick_lists.get()
    task = pick_list.tasks.get()
    with pytest.raises(services.PickingError) as refused:
        services.pick_confirm(
            pick_list=pick_list,
            task_id=task.pk,
            location_barcode="01-04-1",
            product_barcode="0012345678905",
            quantity=2,
        )
    assert refused.value.field == "location_barcode"
    task.refresh_from_db()
    assert (task.status, task.picked_quantity) == (TaskStatus.OPEN, 0)
    assert (_balance("01-03-1").on_hand, _balance("01-03-1").allocated) == (2, 2)


def test_wrong_product_scan_changes_nothing(django_capture_on_commit_callbacks):
    _, wh, _, _ = allocated_orders(django_capture_on_commit_callbacks, count=1)
    pick_list = services.wave_build(warehouse=wh, strategy="discrete", max_orders=1).pick_lists.get()
    task = pick_list.tasks.get()
    with pytest.raises(services.PickingError) as refused:
        services.pick_confirm(
            pick_list=pick_list, task_id=task.pk, location_barcode="01-03-1", product_barcode="999", quantity=2
        )
    assert refused.value.field == "product_barcode"
    assert PickTask.objects.get(pk=task.pk).picked_quantity == 0


def test_confirmed_picks_move_stock_to_packing_and_order_becomes_picked(django_capture_on_commit_callbacks):
    _, wh, _, (order,) = allocated_orders(django_capture_on_commit_callbacks, count=1)
    pick_list = services.wave_build(warehouse=wh, strategy="discrete", max_orders=1).pick_lists.get()
    task = pick_list.tasks.get()
    services.pick_confirm(
        pick_list=pick_list, task_id=task.pk, location_barcode="01-03-1", product_barcode="0012345678905", quantity=1
    )
    assert _status(order) == Status.PICKING
    services.pick_confirm(
        pick_list=pick_list, task_id=task.pk, location_barcode="01-03-1", product_barcode="TEE", quantity=1
    )
    assert _status(order) == Status.PICKED
    assert (_balance("01-03-1").on_hand, _balance("01-03-1").allocated) == (0, 0)
    assert _balance("PACKING").on_hand == 2
    pick_list.refresh_from_db()
    assert pick_list.status == "done"
    assert ledger_differences() == []


def test_short_pick_moves_the_task_to_another_location_with_stock(django_capture_on_commit_callbacks):
    _, wh, _, (order,) = allocated_orders(
        django_capture_on_commit_callbacks, count=1, quantity=2, stock=2, locations=("01-03-1", "02-05-1")
    )
    pick_list = services.wave_build(warehouse=wh, strategy="discrete", max_orders=1).pick_lists.get()
    task = pick_list.tasks.get()
    first_location = task.location.code
    short(pick_list, task)
    replacement = pick_list.tasks.get(status=TaskStatus.OPEN)
    assert replacement.location.code != first_location
    assert replacement.quantity == 2
    services.pick_confirm(
        pick_list=pick_list,
        task_id=replacement.pk,
        location_barcode=replacement.location.code,
        product_barcode="TEE",
        quantity=2,
    )
    assert _status(order) == Status.PICKED
    assert ledger_differences() == []


def test_short_pick_without_other_stock_backorders_the_rest(django_capture_on_commit_callbacks):
    _, wh, _, (order,) = allocated_orders(django_capture_on_commit_callbacks, count=1, quantity=2, stock=2)
    pick_list = services.wave_build(warehouse=wh, strategy="discrete", max_orders=1).pick_lists.get()
    task = pick_list.tasks.get()
    with django_capture_on_commit_callbacks(execute=True):
        short(pick_list, task, picked=1)
    assert _status(order) == Status.BACKORDERED
    line = order.lines.get()
    assert (line.picked_quantity, line.allocated_quantity, line.backordered_quantity) == (1, 1, 1)
    balance = _balance("01-03-1")
    assert (balance.on_hand, balance.allocated) == (0, 0)  # the missing unit is written off until counted
    assert ledger_differences() == []


def test_s_shape_walks_odd_aisles_up_and_even_aisles_down():
    stops = [Stop(1, 5, "a"), Stop(2, 2, "b"), Stop(2, 8, "c"), Stop(3, 4, "d")]
    ordered, distance = s_shape(stops, Layout(bays=10))
    assert [s.key for s in ordered] == ["a", "c", "b", "d"]
    # aisle 1 and 2 walked through (10 m each), aisle 3 in and out to bay 4 (7 m), 2 x 6 m across
    assert distance == 10 + 10 + 7 + 12


def test_pick_list_follows_the_shortest_route_and_reports_its_length(django_capture_on_commit_callbacks):
    # 20 bays of 1 m, 3 m pitch. Up aisle 1, across the back, down aisle 3, across the front (20 + 6 + 20 + 6)
    # with 1 m spurs into aisle 2 from each cross aisle: 54 m. S-shape walks all three aisles: 71 m;
    # location-code order zigzags even more.
    tenant = TenantFactory()
    wh = inv.warehouse(aisles=3, bays=20, levels=1)
    codes = {"A": "01-10-1", "B": "02-01-1", "C": "02-20-1", "D": "03-10-1"}
    for sku, code in codes.items():
        inv.stock(tenant, inv.product(tenant, sku), wh, code, 1)
    with django_capture_on_commit_callbacks(execute=True):
        order(tenant, external_id="R1", lines=[(sku, 1) for sku in codes])
    pick_list = services.wave_build(warehouse=wh, strategy="discrete", max_orders=1).pick_lists.get()
    assert float(pick_list.distance_m) == 54.0
    walked = [t.location.code for t in pick_list.tasks.select_related("location").order_by("sequence")]
    route = [codes[sku] for sku in "ACDB"]
    assert walked in (route, route[::-1])
