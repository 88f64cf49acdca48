"""A short-picked location is held out of allocation until it is counted: the next wave does not
send a picker back to the place just reported empty, and the waiting orders are allocated again
when the count closes (posted within tolerance, approved, or the recount of a rejected count)."""

from functools import partial

import pytest

from fulfillment.tenancy.actor import Actor
from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.models import CountReason, CountStatus, CycleCount, Location, StockBalance
from inventory.selectors import stock_levels
from inventory.services import counts, ledger_differences
from inventory.services.counts import CountLineInput
from inventory.tests import factories as inv
from orders.models import OrderAllocation, Status
from orders.tests.factories import order
from picking import services
from picking.models import TaskStatus
from picking.tests.factories import order_status, pick_in_full, short, stock_at
from tests.threads import run_together

pytestmark = pytest.mark.django_db

MANAGER = Actor(kind="staff", role="admin", label="mia")


@pytest.fixture
def shop(django_capture_on_commit_callbacks):
    """10 TEE at 01-03-1, 3 more at 02-05-1 for nobody; an order of 2 TEE allocated at 01-03-1 and on a pick list."""
    tenant = TenantFactory()
    wh = inv.warehouse(aisles=4, bays=10, levels=1)
    tee = inv.product(tenant, "TEE", barcode="0012345678905")
    inv.stock(tenant, tee, wh, "01-03-1", 10)
    with django_capture_on_commit_callbacks(execute=True):
        first = order(tenant, external_id="H1", lines=[("TEE", 2)])
    pick_list = services.wave_build(warehouse=wh, strategy="discrete", max_orders=1).pick_lists.get()
    return tenant, wh, tee, first, pick_list


def _short_nothing_found(capture, pick_list):
    task = pick_list.tasks.select_related("location").get()
    with capture(execute=True):
        return short(pick_list, task, actor="ana")


def _live_allocations(o):
    """(location, quantity) of the order's allocations that still hold stock."""
    return sorted(
        OrderAllocation.objects.filter(line__order_id=o.pk, released=False).values_list("location__code", "quantity")
    )


def _location(wh, code="01-03-1"):
    return Location.objects.get(warehouse=wh, code=code)


def _held(wh, code="01-03-1"):
    location = _location(wh, code)
    return (location.is_sellable, location.held_since is not None)


def _count(wh, code="01-03-1", **filters):
    return CycleCount.objects.get(location=_location(wh, code), **filters)


def _submit(capture, count, quantity):
    with capture(execute=True):
        return counts.count_submit(count_id=count.pk, lines=[CountLineInput(sku="TEE", counted_quantity=quantity)])


# -- the finding: short, then allocated again at the same place ---------------------------------


def test_short_picked_location_is_not_allocated_again_until_its_count_closes(shop, django_capture_on_commit_callbacks):
    tenant, wh, tee, first, pick_list = shop

    task = _short_nothing_found(django_capture_on_commit_callbacks, pick_list)

    # The order went back to backordered and was offered to allocation at once: the 8 units left
    # at 01-03-1 are not taken, since the picker just found none of the 2 expected there.
    assert task.status == TaskStatus.SHORT
    assert order_status(first) == Status.BACKORDERED
    assert _live_allocations(first) == []
    assert _held(wh) == (False, True)
    assert stock_at("01-03-1", tee) == (8, 0)
    count = _count(wh)
    assert (count.reason, count.status) == (CountReason.SHORT_PICK, CountStatus.OPEN)
    level = stock_levels(balances=StockBalance.objects.filter(product=tee))[(tee.pk, wh.pk)]
    assert (level["on_hand"], level["available"]) == (8, 0)
    assert ledger_differences() == []

    # The count finds what the ledger says: the hold ends and the backorder is allocated there.
    closed = _submit(django_capture_on_commit_callbacks, count, 8)

    assert closed.status == CountStatus.CLOSED
    assert _held(wh) == (True, False)
    assert order_status(first) == Status.ALLOCATED
    assert _live_allocations(first) == [("01-03-1", 2)]
    assert stock_at("01-03-1", tee) == (8, 2)
    assert ledger_differences() == []


def test_allocations_made_before_the_short_stay_and_are_picked_while_new_orders_wait(
    shop, django_capture_on_commit_callbacks
):
    tenant, wh, tee, first, _list = shop
    with django_capture_on_commit_callbacks(execute=True):
        second = order(tenant, external_id="H2", lines=[("TEE", 3)])
    assert _live_allocations(second) == [("01-03-1", 3)]
    second_list = services.wave_build(warehouse=wh, strategy="discrete", max_orders=1).pick_lists.get()

    _short_nothing_found(django_capture_on_commit_callbacks, _list)
    with django_capture_on_commit_callbacks(execute=True):
        third = order(tenant, external_id="H3", lines=[("TEE", 1)])

    assert _held(wh) == (False, True)
    assert _live_allocations(second) == [("01-03-1", 3)]  # already promised: the picker may still find it
    assert order_status(third) == Status.BACKORDERED  # 5 units free at 01-03-1, but it is held
    assert stock_at("01-03-1", tee) == (8, 3)
    level = stock_levels(balances=StockBalance.objects.filter(product=tee))[(tee.pk, wh.pk)]
    assert (level["on_hand"], level["allocated"], level["available"]) == (8, 3, 0)

    with django_capture_on_commit_callbacks(execute=True):
        pick_in_full(second_list, second_list.tasks.get(), actor="ana")

    assert order_status(second) == Status.PICKED
    assert stock_at("01-03-1", tee) == (5, 0)
    assert _held(wh) == (False, True)  # a pick is no count

    _submit(django_capture_on_commit_callbacks, _count(wh), 5)

    assert _held(wh) == (True, False)
    assert (order_status(first), order_status(third)) == (Status.ALLOCATED, Status.ALLOCATED)
    assert (_live_allocations(first), _live_allocations(third)) == ([("01-03-1", 2)], [("01-03-1", 1)])
    assert ledger_differences() == []


def test_short_that_finds_the_units_elsewhere_holds_only_the_short_location(shop, django_capture_on_commit_callbacks):
    tenant, wh, tee, first, pick_list = shop
    inv.stock(tenant, tee, wh, "02-05-1", 2)

    _short_nothing_found(django_capture_on_commit_callbacks, pick_list)

    assert _held(wh) == (False, True)
    assert _held(wh, "02-05-1") == (True, False)
    assert _live_allocations(first) == [("02-05-1", 2)]
    assert order_status(first) == Status.PICKING
    assert ledger_differences() == []


# -- the count's close paths -----------------------------------------------------------------------


def test_count_within_tolerance_posts_the_variance_and_ends_the_hold(shop, django_capture_on_commit_callbacks):
    tenant, wh, tee, first, pick_list = shop
    inv.stock(tenant, tee, wh, "01-03-1", 40)
    _short_nothing_found(django_capture_on_commit_callbacks, pick_list)
    assert stock_at("01-03-1", tee) == (48, 0)

    closed = _submit(django_capture_on_commit_callbacks, _count(wh), 47)  # 1 of 48 less: within tolerance

    assert (closed.status, closed.has_variance) == (CountStatus.CLOSED, True)
    assert _held(wh) == (True, False)
    assert stock_at("01-03-1", tee) == (47, 2)
    assert _live_allocations(first) == [("01-03-1", 2)]
    assert ledger_differences() == []


def test_count_in_review_keeps_the_hold_until_a_manager_approves_it(shop, django_capture_on_commit_callbacks):
    tenant, wh, tee, first, pick_list = shop
    _short_nothing_found(django_capture_on_commit_callbacks, pick_list)

    reviewed = _submit(django_capture_on_commit_callbacks, _count(wh), 3)  # 5 of 8 missing: a manager decides

    assert reviewed.status == CountStatus.IN_REVIEW
    assert _held(wh) == (False, True)
    assert order_status(first) == Status.BACKORDERED

    with django_capture_on_commit_callbacks(execute=True):
        approved = counts.count_approve(count_id=reviewed.pk, actor=MANAGER)

    assert approved.status == CountStatus.CLOSED
    assert _held(wh) == (True, False)
    assert stock_at("01-03-1", tee) == (3, 2)
    assert _live_allocations(first) == [("01-03-1", 2)]
    assert ledger_differences() == []


def test_rejected_count_keeps_the_hold_for_its_recount(shop, django_capture_on_commit_callbacks):
    tenant, wh, tee, first, pick_list = shop
    _short_nothing_found(django_capture_on_commit_callbacks, pick_list)
    reviewed = _submit(django_capture_on_commit_callbacks, _count(wh), 0)

    with django_capture_on_commit_callbacks(execute=True):
        recount = counts.count_reject(count_id=reviewed.pk, actor=MANAGER)

    # The rejected figures say nothing of what is there: still held, the order still waits.
    assert CycleCount.objects.get(pk=reviewed.pk).status == CountStatus.CANCELLED
    assert (recount.status, recount.reason) == (CountStatus.OPEN, CountReason.SHORT_PICK)
    assert _held(wh) == (False, True)
    assert order_status(first) == Status.BACKORDERED
    assert stock_at("01-03-1", tee) == (8, 0)

    closed = _submit(django_capture_on_commit_callbacks, recount, 8)

    assert closed.status == CountStatus.CLOSED
    assert _held(wh) == (True, False)
    assert _live_allocations(first) == [("01-03-1", 2)]
    assert ledger_differences() == []


def test_count_submitted_before_the_short_cannot_end_its_hold_and_a_new_count_is_requested(
    shop, django_capture_on_commit_callbacks
):
    tenant, wh, tee, first, pick_list = shop
    earlier = counts.count_create(warehouse_id=wh.pk, location_code="01-03-1")
    reviewed = _submit(django_capture_on_commit_callbacks, earlier, 20)  # 10 more than the ledger: review
    assert reviewed.status == CountStatus.IN_REVIEW

    _short_nothing_found(django_capture_on_commit_callbacks, pick_list)  # keeps the count in review
    assert list(CycleCount.objects.values_list("pk", flat=True)) == [earlier.pk]
    with django_capture_on_commit_callbacks(execute=True):
        approved = counts.count_approve(count_id=earlier.pk, actor=MANAGER)

    assert approved.status == CountStatus.CLOSED
    assert _held(wh) == (False, True)
    assert order_status(first) == Status.BACKORDERED
    fresh = _count(wh, status=CountStatus.OPEN)
    assert fresh.reason == CountReason.SHORT_PICK

    _submit(django_capture_on_commit_callbacks, fresh, 18)

    assert _held(wh) == (True, False)
    assert _live_allocations(first) == [("01-03-1", 2)]
    assert ledger_differences() == []


# -- concurrency (PostgreSQL) ----------------------------------------------------------------------


def _open_counts(wh):
    return CycleCount.objects.filter(
        location=_location(wh), status__in=[CountStatus.OPEN, CountStatus.IN_REVIEW]
    ).count()


@pytest.mark.django_db(transaction=True)
def test_a_short_and_the_approval_of_its_locations_count_at_once_end_held_with_a_new_count(shop):
    """The short locks the balances, then the location; the approval the count, the balances, then
    the location: whichever goes first, neither waits for the other in a circle, and the hold ends
    only with a count made after the short."""
    _, wh, tee, first, pick_list = shop
    task = pick_list.tasks.select_related("location").get()
    earlier = counts.count_create(warehouse_id=wh.pk, location_code="01-03-1")
    counts.count_submit(count_id=earlier.pk, lines=[CountLineInput(sku="TEE", counted_quantity=5)])

    errors = run_together(
        [partial(short, pick_list, task, actor="ana"), lambda: counts.count_approve(count_id=earlier.pk, actor=MANAGER)]
    )

    assert errors == []
    assert CycleCount.objects.get(pk=earlier.pk).status == CountStatus.CLOSED
    assert _held(wh) == (False, True)
    assert _count(wh, status=CountStatus.OPEN).reason == CountReason.SHORT_PICK
    assert stock_at("01-03-1", tee) == (3, 0)
    assert order_status(first) == Status.BACKORDERED
    assert ledger_differences() == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("counted", [8, 10])
def test_a_short_and_a_count_submitted_at_once_never_deadlock_and_a_held_location_keeps_a_count(shop, counted):
    _, wh, _, _, pick_list = shop
    task = pick_list.tasks.select_related("location").get()
    count = counts.count_create(warehouse_id=wh.pk, location_code="01-03-1")

    def submit():
        counts.count_submit(count_id=count.pk, lines=[CountLineInput(sku="TEE", counted_quantity=counted)])

    errors = run_together([partial(short, pick_list, task, actor="ana"), submit])

    assert errors == []
    assert CycleCount.objects.get(pk=count.pk).status in (CountStatus.CLOSED, CountStatus.IN_REVIEW)
    sellable, held = _held(wh)
    assert sellable is not held
    assert not held or _open_counts(wh) == 1  # a held location always has the count that can end it
    assert StockBalance.objects.get(location__code="01-03-1").allocated in (0, 2)
    assert ledger_differences() == []
