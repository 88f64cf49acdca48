"""Cycle counts: scheduling by ABC class and exceptions, blind submission, variances, review, accuracy."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from fulfillment.jobs import send_now
from fulfillment.tenancy.actor import Actor
from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory.models import (
    Adjustment,
    AdjustmentReason,
    CountReason,
    CountStatus,
    CycleCount,
    Location,
    Product,
    StockBalance,
    StockMovement,
)
from inventory.selectors_counts import count_lines, inventory_accuracy
from inventory.services import counts, ledger_differences, stock_reserve, stock_write_off_missing
from inventory.services.counts import CountLineInput
from inventory.services.stock import InventoryError
from inventory.tests import factories as inv

pytestmark = pytest.mark.django_db

MANAGER = Actor(kind="staff", role="admin", label="mia")
ASSOCIATE = Actor(kind="staff", user_id=999, role="associate", label="al")


@pytest.fixture
def shop():
    tenant = TenantFactory(slug="acme")
    wh = inv.warehouse()
    return tenant, wh


def product(tenant, sku, abc="C"):
    p = inv.product(tenant, sku)
    Product.objects.filter(pk=p.pk).update(abc_class=abc)
    return p


def location(wh, code):
    return Location.objects.get(warehouse=wh, code=code)


def counted_at(wh, code, days_ago, *, now=None):
    """A past count of the location (closed, no variance), ``days_ago`` days before now."""
    when = (now or timezone.now()) - timedelta(days=days_ago)
    return CycleCount.objects.create(
        warehouse=wh,
        location=location(wh, code),
        reason=CountReason.SCHEDULED,
        status=CountStatus.CLOSED,
        scheduled_for=when.date(),
        submitted_at=when,
        closed_at=when,
    )


def open_count(wh, code):
    return counts.count_create(warehouse_id=wh.pk, location_code=code)


def on_hand(product_obj, code):
    return sum(StockBalance.objects.filter(product=product_obj, location__code=code).values_list("on_hand", flat=True))


# -- scheduling ----------------------------------------------------------------------------


def test_scheduler_picks_locations_by_abc_class_and_exceptions_and_runs_once(shop):
    tenant, wh = shop
    a, b, c = product(tenant, "A1", "A"), product(tenant, "B1", "B"), product(tenant, "C1", "C")
    inv.stock(tenant, a, wh, "01-01-1", 5)  # A, never counted: due
    inv.stock(tenant, a, wh, "01-02-1", 5)  # A, counted 10 days ago: not due
    counted_at(wh, "01-02-1", 10)
    inv.stock(tenant, b, wh, "01-03-1", 5)  # B, counted 100 days ago: due (90)
    counted_at(wh, "01-03-1", 100)
    inv.stock(tenant, c, wh, "01-04-1", 5)  # C, counted 100 days ago: not due (365)
    counted_at(wh, "01-04-1", 100)
    inv.stock(tenant, c, wh, "01-05-1", 5)  # C and A together: the A interval (30) applies
    inv.stock(tenant, a, wh, "01-05-1", 1)
    counted_at(wh, "01-05-1", 40)
    inv.stock(tenant, c, wh, "02-01-1", 5)  # C counted 10 days ago, then a short pick: exception
    counted_at(wh, "02-01-1", 10)
    stock_write_off_missing(
        balance_id=StockBalance.objects.get(location__code="02-01-1").pk, quantity=1, reference="short pick, order 7"
    )
    inv.stock(tenant, c, wh, "02-02-1", 5)  # C counted 10 days ago, availability negative: exception
    counted_at(wh, "02-02-1", 10)
    StockBalance.objects.filter(location__code="02-02-1").update(on_hand=-2)
    inv.stock(tenant, a, wh, "RECEIVING", 5)  # not a storage location: no scheduled count

    created = counts.cycle_counts_schedule()

    assert sorted((cc.location.code, cc.reason) for cc in created) == [
        ("01-01-1", "scheduled"),
        ("01-03-1", "scheduled"),
        ("01-05-1", "scheduled"),
        ("02-01-1", "short_pick"),
        ("02-02-1", "negative_availability"),
    ]
    assert all(cc.status == CountStatus.OPEN for cc in created)
    # when it runs again (the nightly task, through its Celery name): nothing more
    before = CycleCount.objects.count()
    send_now("inventory.tasks.schedule_cycle_counts")
    assert CycleCount.objects.count() == before
    assert counts.cycle_counts_schedule() == []


def test_a_short_pick_before_the_last_count_is_not_an_exception(shop):
    tenant, wh = shop
    c = product(tenant, "C1", "C")
    inv.stock(tenant, c, wh, "02-01-1", 5)
    stock_write_off_missing(
        balance_id=StockBalance.objects.get(location__code="02-01-1").pk, quantity=1, reference="short pick, order 7"
    )
    now = timezone.now() + timedelta(hours=1)
    counted_at(wh, "02-01-1", 0, now=now - timedelta(minutes=30))  # counted after the short pick
    assert counts.cycle_counts_schedule(now=now) == []


def test_interval_days_are_tunable(shop, settings):
    tenant, wh = shop
    inv.stock(tenant, product(tenant, "C1", "C"), wh, "01-01-1", 5)
    counted_at(wh, "01-01-1", 20)
    assert counts.cycle_counts_schedule() == []
    settings.COUNT_INTERVAL_DAYS = {"C": 14}
    assert [cc.location.code for cc in counts.cycle_counts_schedule()] == ["01-01-1"]


def test_a_manual_count_of_a_location_with_an_open_count_is_refused(shop):
    _, wh = shop
    open_count(wh, "01-01-1")
    with pytest.raises(InventoryError) as refused:
        open_count(wh, "01-01-1")
    assert refused.value.code == "duplicate"
    assert CycleCount.objects.count() == 1


# -- submitting ----------------------------------------------------------------------------


@pytest.fixture
def tee(shop):
    tenant, wh = shop
    p = product(tenant, "TEE")
    inv.stock(tenant, p, wh, "01-01-1", 40, lot="L1")
    return p


def submit(count, *lines, actor="al"):
    return counts.count_submit(count_id=count.pk, lines=[CountLineInput(**line) for line in lines], actor=actor)


def test_count_without_variance_closes(shop, tee):
    count = submit(open_count(shop[1], "01-01-1"), {"sku": "TEE", "counted_quantity": 40})
    assert (count.status, count.has_variance, count.counted_by) == (CountStatus.CLOSED, False, "al")
    line = count.lines.get()
    assert (line.expected_quantity, line.counted_quantity, line.lot.code) == (40, 40, "L1")
    assert Adjustment.objects.count() == 0


def test_variance_within_threshold_posts_count_adjustments_and_the_ledger_balances(shop, tee):
    # given 40 expected; when 38 are counted (2 units, 5%)
    count = submit(open_count(shop[1], "01-01-1"), {"sku": "TEE", "counted_quantity": 38})
    # then the variance is posted through an adjustment with reason count, and the count closes
    assert (count.status, count.has_variance) == (CountStatus.CLOSED, True)
    adjustment = Adjustment.objects.get()
    assert (adjustment.reason, adjustment.quantity_delta, adjustment.status) == (AdjustmentReason.COUNT, -2, "posted")
    assert adjustment.count_line == count.lines.get()
    assert adjustment.movement.reason == "count"
    assert on_hand(tee, "01-01-1") == 38
    assert ledger_differences() == []


def test_a_big_variance_waits_for_review_then_posts_when_approved(shop, tee):
    count = submit(open_count(shop[1], "01-01-1"), {"sku": "TEE", "counted_quantity": 30})
    assert count.status == CountStatus.IN_REVIEW
    assert Adjustment.objects.count() == 0
    assert on_hand(tee, "01-01-1") == 40

    counts.count_approve(count_id=count.pk, actor=MANAGER)

    count.refresh_from_db()
    assert count.status == CountStatus.CLOSED
    assert list(Adjustment.objects.values_list("quantity_delta", "reason", "status")) == [(-10, "count", "posted")]
    assert on_hand(tee, "01-01-1") == 30
    assert ledger_differences() == []


def test_an_associate_cannot_approve_a_count(shop, tee):
    from django.core.exceptions import PermissionDenied

    count = submit(open_count(shop[1], "01-01-1"), {"sku": "TEE", "counted_quantity": 30})
    with pytest.raises(PermissionDenied):
        counts.count_approve(count_id=count.pk, actor=ASSOCIATE)
    count.refresh_from_db()
    assert count.status == CountStatus.IN_REVIEW
    assert on_hand(tee, "01-01-1") == 40


def test_rejecting_a_count_posts_nothing_and_creates_a_recount(shop, tee):
    count = submit(open_count(shop[1], "01-01-1"), {"sku": "TEE", "counted_quantity": 30})
    recount = counts.count_reject(count_id=count.pk, actor=MANAGER)
    count.refresh_from_db()
    assert count.status == CountStatus.CANCELLED
    assert (recount.location.code, recount.status, recount.reason) == ("01-01-1", CountStatus.OPEN, "manual")
    assert Adjustment.objects.count() == 0
    assert on_hand(tee, "01-01-1") == 40


def test_a_count_below_the_reserved_units_posts_what_it_can_and_stays_in_review(shop, tee):
    tenant, wh = shop
    with transaction.atomic():
        stock_reserve(tenant_id=tenant.pk, warehouse_id=wh.pk, needs={tee.pk: 35})
    count = submit(open_count(wh, "01-01-1"), {"sku": "TEE", "counted_quantity": 30})
    assert count.status == CountStatus.IN_REVIEW

    counts.count_approve(count_id=count.pk, actor=MANAGER)

    # only the 5 unreserved units could go; the other 5 stay visible on the line
    count.refresh_from_db()
    assert count.status == CountStatus.IN_REVIEW
    balance = StockBalance.objects.get(product=tee, location__code="01-01-1")
    assert (balance.on_hand, balance.allocated) == (35, 35)
    [line] = count_lines(count=count, actor=MANAGER)
    assert (line.expected_quantity, line.counted_quantity, line.variance, line.posted_quantity) == (40, 30, -10, -5)
    assert ledger_differences() == []


def test_a_small_variance_on_reserved_units_is_left_for_review(shop, tee):
    tenant, wh = shop
    with transaction.atomic():
        stock_reserve(tenant_id=tenant.pk, warehouse_id=wh.pk, needs={tee.pk: 40})
    count = submit(open_count(wh, "01-01-1"), {"sku": "TEE", "counted_quantity": 39})
    assert count.status == CountStatus.IN_REVIEW
    assert Adjustment.objects.count() == 0
    assert on_hand(tee, "01-01-1") == 40


def test_products_not_listed_count_as_zero_and_found_products_are_added(shop, tee):
    tenant, wh = shop
    cap = product(tenant, "CAP")
    inv.stock(tenant, cap, wh, "01-01-1", 3, lot="C1")
    other = TenantFactory(slug="globex")
    mug = product(other, "MUG")
    count = submit(
        open_count(wh, "01-01-1"),
        {"sku": "TEE", "counted_quantity": 40},
        {"sku": "MUG", "tenant": "globex", "counted_quantity": 2},
    )
    lines = {
        (ln.product.sku, ln.expected_quantity, ln.counted_quantity) for ln in count.lines.select_related("product")
    }
    assert lines == {("TEE", 40, 40), ("CAP", 3, 0), ("MUG", 0, 2)}
    assert count.status == CountStatus.IN_REVIEW

    counts.count_approve(count_id=count.pk, actor=MANAGER)

    assert on_hand(cap, "01-01-1") == 0
    assert on_hand(mug, "01-01-1") == 2
    assert StockBalance.objects.get(product=mug, location__code="01-01-1").tenant_id == other.pk
    assert ledger_differences() == []


def test_a_count_without_lots_is_spread_over_the_expected_lots_oldest_first(shop, tee):
    tenant, wh = shop
    inv.stock(tenant, tee, wh, "01-01-1", 10, lot="L2")
    count = submit(open_count(wh, "01-01-1"), {"sku": "TEE", "counted_quantity": 45})
    lines = [(ln.lot.code, ln.expected_quantity, ln.counted_quantity) for ln in count.lines.select_related("lot")]
    assert sorted(lines) == [("L1", 40, 40), ("L2", 10, 5)]


def test_bad_count_input_is_refused_and_changes_nothing(shop, tee):
    count = open_count(shop[1], "01-01-1")
    with pytest.raises(InventoryError) as refused:
        submit(count, {"sku": "TEE", "counted_quantity": 30}, {"sku": "NOPE", "counted_quantity": 1})
    assert refused.value.field == "lines[1].sku"
    count.refresh_from_db()
    assert (count.status, count.lines.count(), count.submitted_at) == (CountStatus.OPEN, 0, None)
    with pytest.raises(counts.CountStateError):
        counts.count_approve(count_id=count.pk, actor=MANAGER)


def test_a_submitted_count_cannot_be_submitted_again(shop, tee):
    count = submit(open_count(shop[1], "01-01-1"), {"sku": "TEE", "counted_quantity": 40})
    with pytest.raises(counts.CountStateError):
        submit(count, {"sku": "TEE", "counted_quantity": 1})
    assert on_hand(tee, "01-01-1") == 40


# -- accuracy ------------------------------------------------------------------------------


def test_accuracy_is_locations_without_variance_over_locations_counted_in_the_period(shop):
    _, wh = shop
    counted_at(wh, "01-01-1", 3)
    counted_at(wh, "01-02-1", 5)
    varied = counted_at(wh, "01-03-1", 6)
    CycleCount.objects.filter(pk=varied.pk).update(has_variance=True)
    counted_at(wh, "01-04-1", 45)  # outside 30 days
    result = inventory_accuracy(actor=MANAGER, days=30)
    assert (result.locations_counted, result.locations_without_variance, str(result.accuracy_percent)) == (
        3,
        2,
        "66.7",
    )
    assert inventory_accuracy(actor=MANAGER, days=60).locations_counted == 4


# -- API -----------------------------------------------------------------------------------


@pytest.fixture
def staff(shop):
    wh = shop[1]
    _, manager_key = staff_with_token(username="mia", role="manager", warehouse=wh)
    _, associate_key = staff_with_token(username="al", role="associate", warehouse=wh)
    return manager_key, associate_key


def test_api_blind_count_hides_expected_quantities_from_an_associate(shop, tee, staff, api_as):
    manager, associate = api_as(staff[0]), api_as(staff[1])
    created = associate.post("/api/v1/cycle-counts/", {"warehouse": "MAIN", "location": "01-01-1"}, format="json")
    assert created.status_code == 201
    count_id = created.json()["id"]
    # before submission: the associate sees no lines, the manager sees what is expected
    assert associate.get(f"/api/v1/cycle-counts/{count_id}/").json()["lines"] == []
    expected = manager.get(f"/api/v1/cycle-counts/{count_id}/").json()["lines"]
    assert [(ln["sku"], ln["lot"], ln["expected_quantity"]) for ln in expected] == [("TEE", "L1", 40)]
    listed = associate.get("/api/v1/cycle-counts/?status=open").json()["results"]
    assert [(c["id"], c["lines"]) for c in listed] == [(count_id, [])]
    assert "has_variance" not in listed[0]

    submitted = associate.post(
        f"/api/v1/cycle-counts/{count_id}/submit/", {"lines": [{"sku": "TEE", "counted_quantity": 31}]}, format="json"
    )

    assert submitted.status_code == 200
    body = submitted.json()
    assert body["status"] == "in_review"
    assert [(ln["counted_quantity"], ln["expected_quantity"], ln["variance"]) for ln in body["lines"]] == [
        (31, None, None)
    ]
    seen = manager.get(f"/api/v1/cycle-counts/{count_id}/").json()
    assert (seen["has_variance"], seen["lines"][0]["expected_quantity"], seen["lines"][0]["variance"]) == (
        True,
        40,
        -9,
    )


def test_api_review_approve_and_reject_are_for_managers(shop, tee, staff, api_as):
    manager, associate = api_as(staff[0]), api_as(staff[1])
    count = submit(open_count(shop[1], "01-01-1"), {"sku": "TEE", "counted_quantity": 30})
    assert associate.post(f"/api/v1/cycle-counts/{count.pk}/approve/").status_code == 403
    assert associate.post(f"/api/v1/cycle-counts/{count.pk}/reject/").status_code == 403
    assert on_hand(tee, "01-01-1") == 40
    approved = manager.post(f"/api/v1/cycle-counts/{count.pk}/approve/")
    assert (approved.status_code, approved.json()["status"]) == (200, "closed")
    assert approved.json()["lines"][0]["posted_quantity"] == -10
    assert manager.post(f"/api/v1/cycle-counts/{count.pk}/approve/").status_code == 409
    assert on_hand(tee, "01-01-1") == 30


def test_api_reject_answers_with_the_recount(shop, tee, staff, api_as):
    count = submit(open_count(shop[1], "01-01-1"), {"sku": "TEE", "counted_quantity": 30})
    response = api_as(staff[0]).post(f"/api/v1/cycle-counts/{count.pk}/reject/")
    assert response.status_code == 201
    assert (response.json()["location"], response.json()["status"]) == ("01-01-1", "open")
    assert response.json()["id"] != str(count.pk)


def test_api_duplicate_open_count_is_409_and_bad_submit_is_422(shop, tee, staff, api_as):
    client = api_as(staff[1])
    count_id = client.post("/api/v1/cycle-counts/", {"warehouse": "MAIN", "location": "01-01-1"}).json()["id"]
    duplicate = client.post("/api/v1/cycle-counts/", {"warehouse": "MAIN", "location": "01-01-1"})
    assert duplicate.status_code == 409
    bad = client.post(
        f"/api/v1/cycle-counts/{count_id}/submit/",
        {"lines": [{"sku": "NOPE", "counted_quantity": 1}, {"sku": "TEE", "counted_quantity": -1}]},
        format="json",
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["lines[1].counted_quantity"]
    unknown = client.post(
        f"/api/v1/cycle-counts/{count_id}/submit/", {"lines": [{"sku": "NOPE", "counted_quantity": 1}]}, format="json"
    )
    assert (unknown.status_code, unknown.json()["errors"][0]["field"]) == (422, "lines[0].sku")
    assert CycleCount.objects.get(pk=count_id).status == CountStatus.OPEN
    assert CycleCount.objects.count() == 1


def test_api_counts_of_another_warehouse_are_404(shop, tee, staff, api_as):
    count = open_count(shop[1], "01-01-1")
    inv.warehouse("WEST")
    _, outsider = staff_with_token(username="olga", role="manager", warehouse=inv.warehouse("EAST"))
    client = api_as(outsider)
    assert client.get(f"/api/v1/cycle-counts/{count.pk}/").status_code == 404
    response = client.post(
        f"/api/v1/cycle-counts/{count.pk}/submit/", {"lines": [{"sku": "TEE", "counted_quantity": 1}]}, format="json"
    )
    assert response.status_code == 404
    assert client.get("/api/v1/cycle-counts/").json()["results"] == []
    assert client.post("/api/v1/cycle-counts/", {"warehouse": "MAIN", "location": "01-02-1"}).status_code == 422
    count.refresh_from_db()
    assert count.status == CountStatus.OPEN


def test_api_accuracy(shop, staff, api_as):
    _, wh = shop
    counted_at(wh, "01-01-1", 3)
    varied = counted_at(wh, "01-02-1", 5)
    CycleCount.objects.filter(pk=varied.pk).update(has_variance=True)
    response = api_as(staff[0]).get("/api/v1/cycle-counts/accuracy/?days=30")
    assert response.status_code == 200
    assert response.json() == {
        "days": 30,
        "locations_counted": 2,
        "locations_without_variance": 1,
        "accuracy_percent": "50.0",
    }
    assert api_as(staff[0]).get("/api/v1/cycle-counts/accuracy/?days=abc").status_code == 422


def test_short_pick_movements_are_what_the_scheduler_reads(shop, tee):
    # The reference orders' allocation_short writes; a change there must show up here.
    balance = StockBalance.objects.get(product=tee, location__code="01-01-1")
    stock_write_off_missing(balance_id=balance.pk, quantity=2, reference="short pick, order 1001")
    movement = StockMovement.objects.get(reason="adjustment")
    assert movement.reference.startswith(counts.SHORT_PICK_PREFIX)
    created = counts.cycle_counts_schedule()
    assert [(cc.location.code, cc.reason) for cc in created] == [("01-01-1", "short_pick")]
