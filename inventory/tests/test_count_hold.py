"""The hold a short pick puts on its location (counts.count_request(hold=True)): out of allocation,
out of put-away, shown on the count pages, given back when a count made after it closes."""

import pytest
from django.db import transaction

from fulfillment.tenancy.tests.factories import TenantFactory, staff_client, staff_with_token
from inventory import services
from inventory.models import CountReason, CountStatus, CycleCount, Location, Receipt, StockBalance, StockMovement
from inventory.selectors import stock_levels
from inventory.services import counts, ledger_differences
from inventory.services.counts import CountLineInput
from inventory.services.stock import InventoryError
from inventory.tests import factories as inv

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    tenant = TenantFactory(slug="acme")
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE")
    inv.stock(tenant, tee, wh, "01-03-1", 10)
    inv.stock(tenant, tee, wh, "02-05-1", 4)
    return tenant, wh, tee


def location(wh, code="01-03-1"):
    return Location.objects.get(warehouse=wh, code=code)


def reserve(tenant, wh, product, quantity):
    with transaction.atomic():
        return services.stock_reserve(tenant_id=tenant.pk, warehouse_id=wh.pk, needs={product.pk: quantity})


def test_count_request_with_hold_takes_the_location_out_of_allocation(shop):
    tenant, wh, tee = shop

    count, created = counts.count_request(location_id=location(wh).pk, hold=True)

    assert created and (count.reason, count.status) == (CountReason.SHORT_PICK, CountStatus.OPEN)
    held = location(wh)
    assert (held.is_sellable, held.is_held) == (False, True)
    # Allocation passes it by: the 12 units asked for are not there without its 10.
    assert reserve(tenant, wh, tee, 12) is None
    plan = reserve(tenant, wh, tee, 4)
    assert [(r.location_id, r.quantity) for r in plan[tee.pk]] == [(location(wh, "02-05-1").pk, 4)]
    assert ledger_differences() == []


def test_count_request_without_hold_leaves_the_location_sellable(shop):
    tenant, wh, tee = shop

    counts.count_request(location_id=location(wh).pk)

    assert (location(wh).is_sellable, location(wh).is_held) == (True, False)


def test_hold_leaves_a_location_that_was_not_sellable_alone(shop):
    tenant, wh, tee = shop
    quarantine = location(wh, "QUARANTINE")

    count, created = counts.count_request(location_id=quarantine.pk, hold=True)
    nothing = counts.count_request(location_id=location(wh, "V-ADJUSTMENT").pk, hold=True)

    assert created and count.location_id == quarantine.pk
    assert (location(wh, "QUARANTINE").is_sellable, location(wh, "QUARANTINE").is_held) == (False, False)
    assert nothing == (None, False)
    assert not location(wh, "V-ADJUSTMENT").is_held

    counts.count_submit(count_id=count.pk, lines=[])

    assert (location(wh, "QUARANTINE").is_sellable, location(wh, "QUARANTINE").is_held) == (False, False)


def test_available_leaves_out_the_held_location_and_its_reservations(shop):
    tenant, wh, tee = shop
    reserve(tenant, wh, tee, 3)  # FIFO: the first receipt, at 01-03-1

    counts.count_request(location_id=location(wh).pk, hold=True)

    level = stock_levels(balances=StockBalance.objects.filter(product=tee))[(tee.pk, wh.pk)]
    assert (level["on_hand"], level["allocated"], level["available"]) == (14, 3, 4)


def test_put_away_into_a_held_location_is_refused_and_changes_nothing(shop):
    tenant, wh, tee = shop
    inv.stock(tenant, tee, wh, "RECEIVING", 5)
    receipt = Receipt.objects.get(location__code="RECEIVING")
    counts.count_request(location_id=location(wh).pk, hold=True)
    movements = StockMovement.objects.count()

    with pytest.raises(InventoryError) as refused:
        services.putaway_confirm(receipt_id=receipt.pk, location_barcode="01-03-1", quantity=5)

    assert (refused.value.code, refused.value.field) == ("location_held", "location_barcode")
    assert str(refused.value) == "01-03-1 is held for a count: put away elsewhere"
    assert StockMovement.objects.count() == movements
    assert Receipt.objects.get(pk=receipt.pk).put_away_quantity == 0


def test_a_held_location_whose_count_went_missing_gets_one_from_the_nightly_schedule(shop):
    tenant, wh, tee = shop
    count, _ = counts.count_request(location_id=location(wh).pk, hold=True)
    CycleCount.objects.filter(pk=count.pk).update(status=CountStatus.CANCELLED)  # e.g. by an admin

    created = counts.cycle_counts_schedule(warehouse_id=wh.pk)

    assert [(c.location.code, c.reason) for c in created if c.location.code == "01-03-1"] == [
        ("01-03-1", CountReason.SHORT_PICK)
    ]
    assert location(wh).is_held


# -- pages and API -----------------------------------------------------------------------------


def test_handheld_count_list_puts_held_locations_first_and_says_so(shop):
    tenant, wh, tee = shop
    scheduled = counts.count_create(warehouse_id=wh.pk, location_code="01-01-1")
    held, _ = counts.count_request(location_id=location(wh, "02-05-1").pk, hold=True)
    client = staff_client("al", "associate", wh)

    listing = client.get("/handheld/count/").content.decode()
    page = client.get(f"/handheld/count/{held.pk}/").content.decode()
    other = client.get(f"/handheld/count/{scheduled.pk}/").content.decode()

    assert listing.index(f'data-count="{held.pk}"') < listing.index(f'data-count="{scheduled.pk}"')
    assert listing.count('data-held="1"') == 1
    assert "Held: nothing is picked here until counted" in listing
    assert 'id="count-held"' in page and "Held: nothing is picked here until this count is submitted." in page
    assert 'id="count-held"' not in other


def test_manager_review_shows_the_hold_and_approving_says_it_ended(shop):
    tenant, wh, tee = shop
    count, _ = counts.count_request(location_id=location(wh).pk, hold=True)
    counts.count_submit(count_id=count.pk, lines=[CountLineInput(sku="TEE", counted_quantity=2)])
    client = staff_client("mia", "manager", wh)

    review = client.get("/inventory/counts/").content.decode()
    approved = client.post(f"/inventory/counts/{count.pk}/approve/", follow=True).content.decode()

    assert 'data-held="1"' in review and "01-03-1 is held since" in review
    assert "It was short-picked after this count" not in review
    assert "Variances of 01-03-1 posted. 01-03-1 is no longer held: orders may be allocated its stock again." in (
        approved
    )
    assert (location(wh).is_sellable, location(wh).is_held) == (True, False)
    assert StockBalance.objects.get(location__code="01-03-1").on_hand == 2
    assert ledger_differences() == []


def test_manager_rejecting_a_held_count_is_told_the_location_stays_held(shop):
    tenant, wh, tee = shop
    count, _ = counts.count_request(location_id=location(wh).pk, hold=True)
    counts.count_submit(count_id=count.pk, lines=[CountLineInput(sku="TEE", counted_quantity=0)])
    client = staff_client("mia", "manager", wh)

    rejected = client.post(f"/inventory/counts/{count.pk}/reject/", follow=True).content.decode()

    assert "Count of 01-03-1 rejected: a recount is scheduled. 01-03-1 stays held until the recount is posted." in (
        rejected
    )
    assert location(wh).is_held
    assert CycleCount.objects.get(location__code="01-03-1", status=CountStatus.OPEN).reason == CountReason.SHORT_PICK
    assert StockBalance.objects.get(location__code="01-03-1").on_hand == 10


def test_approving_a_count_made_before_the_short_says_the_location_stays_held(shop):
    tenant, wh, tee = shop
    earlier = counts.count_create(warehouse_id=wh.pk, location_code="01-03-1")
    counts.count_submit(count_id=earlier.pk, lines=[CountLineInput(sku="TEE", counted_quantity=30)])
    counts.count_request(location_id=location(wh).pk, hold=True)  # a short after the count: keeps it in review
    client = staff_client("mia", "manager", wh)

    review = client.get("/inventory/counts/").content.decode()
    approved = client.post(f"/inventory/counts/{earlier.pk}/approve/", follow=True).content.decode()

    assert "It was short-picked after this count: posting it requests a new count." in review
    assert "01-03-1 was short-picked after this count: it stays held for a new count." in approved
    assert location(wh).is_held
    assert CycleCount.objects.filter(location__code="01-03-1", status=CountStatus.OPEN).count() == 1


def test_api_count_says_whether_its_location_is_held(shop, api_as):
    tenant, wh, tee = shop
    _, key = staff_with_token(username="al", role="associate", warehouse=wh)
    held, _ = counts.count_request(location_id=location(wh).pk, hold=True)
    plain = counts.count_create(warehouse_id=wh.pk, location_code="01-01-1")
    client = api_as(key)

    answers = {c: client.get(f"/api/v1/cycle-counts/{c.pk}/").json()["location_held"] for c in (held, plain)}

    assert answers == {held: True, plain: False}
