"""Adjustments: reason codes, approval thresholds, manager approval, the ledger."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from fulfillment.tenancy.actor import Actor
from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token
from inventory.models import Adjustment, AdjustmentStatus, Product, StockBalance, StockMovement
from inventory.services import adjustments, ledger_differences, stock_reserve
from inventory.services.stock import InsufficientStock, InventoryError
from inventory.tests import factories as inv

pytestmark = pytest.mark.django_db

MANAGER = Actor(kind="staff", user_id=1, role="manager", label="mia")
ASSOCIATE = Actor(kind="staff", user_id=2, role="associate", label="al")


@pytest.fixture
def shop():
    tenant = TenantFactory(slug="acme")
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE")
    Product.objects.filter(pk=tee.pk).update(unit_value=Decimal("5.00"))
    inv.stock(tenant, tee, wh, "01-01-1", 30, lot="L1")
    return tenant, wh, tee


def on_hand(product, code="01-01-1") -> int:
    return sum(StockBalance.objects.filter(product=product, location__code=code).values_list("on_hand", flat=True))


def adjust(shop, delta, **kwargs):
    tenant, wh, tee = shop
    return adjustments.adjustment_create(
        tenant_id=tenant.pk,
        warehouse_id=wh.pk,
        sku="TEE",
        location_code=kwargs.pop("location", "01-01-1"),
        quantity_delta=delta,
        reason=kwargs.pop("reason", "lost" if delta < 0 else "found"),
        actor="al",
        **kwargs,
    )


# -- services ------------------------------------------------------------------------------


def test_small_adjustment_posts_at_once_with_a_ledger_movement(shop):
    # given 30 units worth 5.00 each; when 4 are lost (4 units, 20.00: under both thresholds)
    adjustment = adjust(shop, -4, reason="damaged", note="crushed")
    # then it is posted and the units left for V-ADJUSTMENT
    assert adjustment.status == AdjustmentStatus.POSTED
    assert adjustment.value == Decimal("20.00")
    assert on_hand(shop[2]) == 26
    movement = adjustment.movement
    assert (movement.from_location.code, movement.to_location.code, movement.quantity) == ("01-01-1", "V-ADJUSTMENT", 4)
    assert movement.lot.code == "L1"
    assert ledger_differences() == []


def test_adjustment_over_the_unit_threshold_moves_nothing_until_approved(shop):
    # given 30 units; when 11 are reported lost (over 10 units)
    adjustment = adjust(shop, -11)
    # then it waits and nothing moved
    assert adjustment.status == AdjustmentStatus.PENDING_APPROVAL
    assert adjustment.movement is None
    assert on_hand(shop[2]) == 30
    assert StockMovement.objects.filter(to_location__code="V-ADJUSTMENT").count() == 0
    # when a manager approves
    adjustments.adjustment_approve(adjustment_id=adjustment.pk, actor=MANAGER)
    # then it posts
    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.decided_by) == (AdjustmentStatus.POSTED, "mia")
    assert adjustment.decided_at is not None
    assert on_hand(shop[2]) == 19
    assert ledger_differences() == []


def test_adjustment_over_the_value_threshold_waits_even_for_few_units(shop):
    # given a unit value of 30.00; when 4 units (120.00 > 100.00) are found
    Product.objects.filter(pk=shop[2].pk).update(unit_value=Decimal("30.00"))
    adjustment = adjust(shop, 4)
    assert adjustment.status == AdjustmentStatus.PENDING_APPROVAL
    assert adjustment.value == Decimal("120.00")
    assert on_hand(shop[2]) == 30


def test_thresholds_come_from_settings(shop, settings):
    settings.ADJUSTMENT_APPROVAL_UNITS = 3
    assert adjust(shop, -4).status == AdjustmentStatus.PENDING_APPROVAL
    settings.ADJUSTMENT_APPROVAL_UNITS = 50
    assert adjust(shop, -20).status == AdjustmentStatus.POSTED
    assert on_hand(shop[2]) == 10


def test_an_associate_cannot_approve(shop):
    adjustment = adjust(shop, -12)
    with pytest.raises(PermissionDenied):
        adjustments.adjustment_approve(adjustment_id=adjustment.pk, actor=ASSOCIATE)
    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.decided_by) == (AdjustmentStatus.PENDING_APPROVAL, "")
    assert on_hand(shop[2]) == 30


def test_approval_refused_when_the_units_are_reserved_meanwhile_changes_nothing(shop):
    # given a pending removal of 12 of 30 units
    tenant, wh, tee = shop
    adjustment = adjust(shop, -12)
    # when orders reserve 20 of them (only 10 are free now)
    with transaction.atomic():
        stock_reserve(tenant_id=tenant.pk, warehouse_id=wh.pk, needs={tee.pk: 20})
    with pytest.raises(InsufficientStock):
        adjustments.adjustment_approve(adjustment_id=adjustment.pk, actor=MANAGER)
    # then it stays pending and nothing moved
    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.decided_by, adjustment.movement_id) == ("pending_approval", "", None)
    balance = StockBalance.objects.get(product=tee, location__code="01-01-1")
    assert (balance.on_hand, balance.allocated) == (30, 20)
    assert ledger_differences() == []


def test_rejecting_moves_nothing_and_cannot_be_decided_twice(shop):
    adjustment = adjust(shop, 15)
    adjustments.adjustment_reject(adjustment_id=adjustment.pk, actor=MANAGER, note="miscount")
    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.note) == (AdjustmentStatus.REJECTED, "rejected: miscount")
    with pytest.raises(adjustments.AdjustmentStateError):
        adjustments.adjustment_approve(adjustment_id=adjustment.pk, actor=MANAGER)
    assert on_hand(shop[2]) == 30
    assert Adjustment.objects.get().movement_id is None


def test_removing_more_than_the_free_units_is_refused_and_records_nothing(shop):
    with pytest.raises(InsufficientStock):
        adjust(shop, -31)
    assert Adjustment.objects.count() == 0
    assert on_hand(shop[2]) == 30


def test_unknown_reason_code_is_refused(shop):
    with pytest.raises(InventoryError) as refused:
        adjust(shop, 1, reason="gift")
    assert refused.value.field == "reason"
    assert Adjustment.objects.count() == 0


def test_found_units_in_a_sellable_location_re_run_backorder_allocation(shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        adjust(shop, 2, lot="L1")
    assert len(callbacks) == 1  # the reallocate_backorders task, sent after commit
    assert on_hand(shop[2]) == 32


def test_stock_adjust_still_posts_at_once_and_returns_the_movement(shop):
    tenant, wh, tee = shop
    movement = adjustments.stock_adjust(
        tenant_id=tenant.pk, warehouse_id=wh.pk, sku="TEE", location_code="01-01-1", quantity_delta=-25, reason="lost"
    )
    assert movement.quantity == 25
    assert Adjustment.objects.get().status == AdjustmentStatus.POSTED
    assert on_hand(tee) == 5
    assert ledger_differences() == []


# -- API -----------------------------------------------------------------------------------


@pytest.fixture
def staff(shop):
    wh = shop[1]
    _, manager_key = staff_with_token(username="mia", role="manager", warehouse=wh)
    _, associate_key = staff_with_token(username="al", role="associate", warehouse=wh)
    return manager_key, associate_key


def body(**kwargs):
    return {"tenant": "acme", "sku": "TEE", "location": "01-01-1", "quantity_delta": -3, "reason": "lost", **kwargs}


def test_api_small_adjustment_is_201_and_posted(shop, staff, api_as):
    response = api_as(staff[1]).post("/api/v1/inventory/adjustments/", body(note="torn"), format="json")
    assert response.status_code == 201
    data = response.json()
    assert (data["status"], data["quantity_delta"], data["value"], data["note"]) == ("posted", -3, "15.00", "torn")
    assert data["movement"]["to_location"] == "V-ADJUSTMENT"
    assert on_hand(shop[2]) == 27


def test_api_large_adjustment_is_202_and_approved_by_a_manager(shop, staff, api_as):
    response = api_as(staff[1]).post("/api/v1/inventory/adjustments/", body(quantity_delta=-12), format="json")
    assert response.status_code == 202
    adjustment_id = response.json()["id"]
    assert response.json()["movement"] is None
    # an associate is refused
    refused = api_as(staff[1]).post(f"/api/v1/inventory/adjustments/{adjustment_id}/approve/")
    assert refused.status_code == 403
    assert on_hand(shop[2]) == 30
    # the list shows it pending
    listed = api_as(staff[0]).get("/api/v1/inventory/adjustments/?status=pending_approval").json()["results"]
    assert [a["id"] for a in listed] == [adjustment_id]
    approved = api_as(staff[0]).post(f"/api/v1/inventory/adjustments/{adjustment_id}/approve/")
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("posted", "mia")
    assert on_hand(shop[2]) == 18
    again = api_as(staff[0]).post(f"/api/v1/inventory/adjustments/{adjustment_id}/approve/")
    assert again.status_code == 409
    assert on_hand(shop[2]) == 18


def test_api_approval_of_units_no_longer_there_is_409_and_stays_pending(shop, staff, api_as):
    tenant, wh, tee = shop
    adjustment_id = (
        api_as(staff[0]).post("/api/v1/inventory/adjustments/", body(quantity_delta=-25), format="json").json()["id"]
    )
    adjust(shop, -8)  # meanwhile 8 more are lost: 22 left, 25 cannot go
    response = api_as(staff[0]).post(f"/api/v1/inventory/adjustments/{adjustment_id}/approve/")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert Adjustment.objects.get(pk=adjustment_id).status == AdjustmentStatus.PENDING_APPROVAL
    assert on_hand(tee) == 22


def test_api_reject_by_manager(shop, staff, api_as):
    adjustment_id = (
        api_as(staff[1])
        .post("/api/v1/inventory/adjustments/", body(quantity_delta=40, reason="found", lot="L1"), format="json")
        .json()["id"]
    )
    assert api_as(staff[1]).post(f"/api/v1/inventory/adjustments/{adjustment_id}/reject/").status_code == 403
    response = api_as(staff[0]).post(f"/api/v1/inventory/adjustments/{adjustment_id}/reject/", {"note": "no"})
    assert (response.status_code, response.json()["status"]) == (200, "rejected")
    assert on_hand(shop[2]) == 30


def test_api_bad_input_is_422_with_fields_and_changes_nothing(shop, staff, api_as):
    response = api_as(staff[0]).post(
        "/api/v1/inventory/adjustments/", body(reason="gift", quantity_delta=0), format="json"
    )
    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["errors"]) == ["quantity_delta", "reason"]
    assert Adjustment.objects.count() == 0


def test_api_merchant_key_is_refused(shop, api_as):
    from fulfillment.tenancy.services import api_key_create

    _, raw = api_key_create(tenant=shop[0])
    assert api_as(raw).post("/api/v1/inventory/adjustments/", body(), format="json").status_code == 403
    assert api_as(raw).get("/api/v1/inventory/adjustments/").status_code == 403


def test_api_staff_of_another_warehouse_gets_404(shop, staff, api_as):
    adjustment = adjust(shop, -12)
    other = inv.warehouse("WEST")
    _, outsider = staff_with_token(username="olga", role="manager", warehouse=other)
    assert api_as(outsider).get(f"/api/v1/inventory/adjustments/{adjustment.pk}/").status_code == 404
    assert api_as(outsider).post(f"/api/v1/inventory/adjustments/{adjustment.pk}/approve/").status_code == 404
    assert api_as(outsider).get("/api/v1/inventory/adjustments/").json()["results"] == []
    assert Adjustment.objects.get().status == AdjustmentStatus.PENDING_APPROVAL
