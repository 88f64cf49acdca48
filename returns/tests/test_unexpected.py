"""Units nobody announced: recorded, into QUARANTINE when they are a product of the shop, with the
order's timeline told; refused input changes nothing."""

from __future__ import annotations

import pytest

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.models import StockBalance, StockMovement
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders.models import OrderEvent
from returns import services
from returns.models import UnexpectedReturn

pytestmark = pytest.mark.django_db


def _rma(shop, lines=(("TEE-RED-M", 2),)):
    return services.return_create(
        tenant_id=shop.tenant.pk,
        order_id=shop.order.pk,
        lines=[{"sku": sku, "quantity": q, "reason": "too small"} for sku, q in lines],
    )


def _quarantined(product) -> int:
    return sum(
        StockBalance.objects.filter(product=product, location__code="QUARANTINE").values_list("on_hand", flat=True)
    )


def _counts():
    return UnexpectedReturn.objects.count(), StockMovement.objects.count(), OrderEvent.objects.count()


def test_an_extra_sku_in_a_returns_parcel_goes_to_quarantine_with_a_timeline_note(shop):
    rma = _rma(shop)

    record = services.unexpected_return_record(
        warehouse_id=shop.wh.pk,
        rma_id=rma.pk,
        sku="MUG-BLUE",
        quantity=1,
        grade="opened",
        note="in the box",
        actor="ann",
    )

    assert (record.tenant_id, record.rma_id, record.product_id, record.sku) == (
        shop.tenant.pk,
        rma.pk,
        shop.mug.pk,
        "MUG-BLUE",
    )
    assert (record.quantity, record.grade, record.location.code, record.resolved_at) == (
        1,
        "opened",
        "QUARANTINE",
        None,
    )
    assert _quarantined(shop.mug) == 1
    moves = list(StockMovement.objects.filter(reference__startswith="unexpected return").order_by("pk"))
    assert [(m.from_location.code, m.to_location.code, m.reason, m.lot.code) for m in moves] == [
        ("V-CUSTOMER", "RETURNS", "return", "LOT-M"),
        ("RETURNS", "QUARANTINE", "quarantine", "LOT-M"),
    ]
    note = OrderEvent.objects.get(order=shop.order, type="return_unexpected")
    assert note.message == f"Return {rma.number}: 1 x MUG-BLUE (opened) came unannounced, into QUARANTINE"
    assert ledger_differences() == []


def test_a_parcel_without_return_is_recorded_under_the_chosen_merchant(shop):
    record = services.unexpected_return_record(
        warehouse_id=shop.wh.pk, tenant_id=shop.tenant.pk, scanned="1Z999", sku="TEE-RED-M", quantity=2, grade="new"
    )

    assert (record.rma_id, record.scanned, record.product_id, record.location.code) == (
        None,
        "1Z999",
        shop.tee.pk,
        "QUARANTINE",
    )
    assert _quarantined(shop.tee) == 2
    assert not OrderEvent.objects.filter(type="return_unexpected").exists()


def test_an_unknown_sku_is_kept_without_product_or_stock(shop):
    rma = _rma(shop)
    moves = StockMovement.objects.count()

    record = services.unexpected_return_record(
        warehouse_id=shop.wh.pk, rma_id=rma.pk, sku="NOT-OURS", quantity=1, grade="damaged", actor="ann"
    )

    assert (record.product_id, record.location_id, record.sku) == (None, None, "NOT-OURS")
    assert StockMovement.objects.count() == moves
    assert "recorded only" in OrderEvent.objects.get(type="return_unexpected").message


def test_without_a_return_the_merchant_is_required_and_nothing_changes(shop):
    before = _counts()

    with pytest.raises(services.ReturnError) as refused:
        services.unexpected_return_record(warehouse_id=shop.wh.pk, sku="TEE-RED-M", quantity=0, grade="shiny")

    assert refused.value.status == 422
    assert {e["field"] for e in refused.value.errors} == {"tenant", "quantity", "grade"}
    assert _counts() == before


def test_a_sku_the_return_still_expects_is_refused(shop):
    rma = _rma(shop)
    before = _counts()

    with pytest.raises(services.ReturnError) as refused:
        services.unexpected_return_record(
            warehouse_id=shop.wh.pk, rma_id=rma.pk, sku="TEE-RED-M", quantity=1, grade="new"
        )

    assert refused.value.errors[0]["code"] == "on_return"
    assert _counts() == before


def test_another_warehouses_return_is_not_found(shop):
    rma = _rma(shop)
    other = inv.warehouse("EAST")
    before = _counts()

    with pytest.raises(services.ReturnError) as refused:
        services.unexpected_return_record(warehouse_id=other.pk, rma_id=rma.pk, sku="MUG-BLUE", quantity=1, grade="new")

    assert refused.value.status == 404
    assert _counts() == before


def test_another_merchants_return_cannot_be_named(shop):
    rma = _rma(shop)
    before = _counts()

    with pytest.raises(services.ReturnError) as refused:
        services.unexpected_return_record(
            warehouse_id=shop.wh.pk,
            rma_id=rma.pk,
            tenant_id=TenantFactory().pk,
            sku="MUG-BLUE",
            quantity=1,
            grade="new",
        )

    assert refused.value.errors[0]["field"] == "tenant"
    assert _counts() == before


def test_resolving_marks_the_record_once(shop):
    record = services.unexpected_return_record(
        warehouse_id=shop.wh.pk, tenant_id=shop.tenant.pk, sku="TEE-RED-M", quantity=1, grade="new"
    )

    resolved = services.unexpected_return_resolve(unexpected_id=record.pk, actor="mia")

    assert resolved.resolved_at is not None
    at = UnexpectedReturn.objects.get(pk=record.pk).resolved_at
    with pytest.raises(services.ReturnError) as again:
        services.unexpected_return_resolve(unexpected_id=record.pk, actor="mia")
    assert again.value.status == 409
    assert UnexpectedReturn.objects.get(pk=record.pk).resolved_at == at
