"""Fees are written by the activity that earns them, priced at the card of the day, and never change."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from billing.tests.factories import rate_card
from fulfillment.fees import services as fees
from fulfillment.fees.models import Fee, FeeKind, RateCard
from fulfillment.fees.services import activities
from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.tests import factories as inv
from packing.tests.factories import picked_order
from returns.services import return_create, return_receive
from shipping.tests.factories import shipped, stocked_tenant

pytestmark = pytest.mark.django_db


def _fees(tenant, kind=None):
    qs = Fee.objects.filter(tenant=tenant).order_by("id")
    return list(qs.filter(kind=kind) if kind else qs)


def test_receipt_bills_every_unit_handled_at_the_default_card():
    tenant = TenantFactory()
    wh = inv.warehouse()
    tee = inv.product(tenant, "TEE")
    shipment = inv.services.inbound_create(
        tenant_id=tenant.pk, warehouse=wh, lines=[inv.services.InboundLineInput(sku="TEE", quantity=12)]
    )
    inv.services.inbound_receive(
        shipment_id=shipment.pk,
        lines=[inv.services.ReceiptLineInput(sku=tee.sku, quantity=10, location="01-01-1", damaged_quantity=2)],
        actor="dock",
    )
    [fee] = _fees(tenant)
    assert (fee.kind, fee.quantity, fee.unit_price, fee.amount, fee.currency) == (
        FeeKind.RECEIVING,
        Decimal("12.000000"),
        Decimal("0.2500"),
        Decimal("3.00"),
        "CAD",
    )
    assert (fee.source_type, fee.source_id, fee.warehouse_code, fee.rate_card) == (
        "receipt",
        str(shipment.pk),
        "MAIN",
        "default@2000-01-01",
    )


def test_pick_pack_and_label_fees_follow_the_merchants_card(django_capture_on_commit_callbacks):
    wh = inv.warehouse()
    tenant = stocked_tenant(wh)
    rate_card(tenant)
    before = {f.pk for f in _fees(tenant)}
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="B-1", lines=(("TEE", 3),))
    new = [f for f in _fees(tenant) if f.pk not in before]
    by_kind = {f.kind: f for f in new}
    assert set(by_kind) == {FeeKind.PICK, FeeKind.PICK_EXTRA_UNIT, FeeKind.PACK, FeeKind.MATERIALS, FeeKind.SHIPPING}
    assert (by_kind[FeeKind.PICK].quantity, by_kind[FeeKind.PICK].amount) == (Decimal(1), Decimal("2.00"))
    assert (by_kind[FeeKind.PICK_EXTRA_UNIT].quantity, by_kind[FeeKind.PICK_EXTRA_UNIT].amount) == (
        Decimal(2),
        Decimal("0.80"),
    )
    packages = shipment.packages.count()
    assert by_kind[FeeKind.PACK].amount == fees.money(Decimal("1.10") * packages)
    label = by_kind[FeeKind.SHIPPING]
    assert label.cost == shipment.rate_amount
    assert label.amount == fees.money(shipment.rate_amount * Decimal("1.10"))
    assert label.source_id == str(shipment.pk) and label.rate_card == "tenant@2000-01-01"
    box = shipment.packages.first().box
    materials = by_kind[FeeKind.MATERIALS]
    assert materials.cost == fees.money(box.cost * packages)
    assert materials.amount == fees.money(materials.quantity * fees.money(box.cost * Decimal("1.2")))


def test_a_second_recording_of_the_same_pick_bills_nothing():
    wh = inv.warehouse()
    tenant = stocked_tenant(wh)
    order = picked_order(tenant, external_id="P-1", lines=[("TEE", 2)])
    fees.fees_for_pick(
        tenant_id=tenant.pk, order_id=order.pk, order_number=order.number, units=2, warehouse_code="MAIN"
    )
    assert [f.kind for f in _fees(tenant, FeeKind.PICK)] == [FeeKind.PICK]
    assert len(_fees(tenant, FeeKind.PICK_EXTRA_UNIT)) == 1


def test_a_voided_label_is_credited_by_a_new_row(django_capture_on_commit_callbacks):
    from shipping.services import shipment_void_label

    wh = inv.warehouse()
    tenant = stocked_tenant(wh)
    _order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="V-1")
    [charged] = _fees(tenant, FeeKind.SHIPPING)
    shipment_void_label(shipment_id=shipment.pk, actor="desk")
    charged_again, credit = _fees(tenant, FeeKind.SHIPPING)
    assert charged_again == charged and charged_again.amount == charged.amount  # unchanged
    assert (credit.amount, credit.corrects_id, credit.reason) == (-charged.amount, charged.pk, "label voided")


def test_return_receipt_bills_the_rma_once_and_each_unit(django_capture_on_commit_callbacks):
    from returns.tests.factories import shipped_order

    wh = inv.warehouse()
    tenant = stocked_tenant(wh)
    order = shipped_order(tenant, external_id="R-1", lines=[("TEE", 3)], deliver=True)
    rma = return_create(tenant_id=tenant.pk, order_id=order.pk, lines=[{"sku": "TEE", "quantity": 3, "reason": "size"}])
    for units in (2, 1):
        return_receive(
            return_id=rma.pk,
            lines=[{"sku": "TEE", "quantity": units, "condition": "new", "disposition": "restock"}],
            actor="dock",
        )
    assert [(f.quantity, f.amount) for f in _fees(tenant, FeeKind.RETURN)] == [(Decimal(1), Decimal("3.00"))]
    assert [(f.quantity, f.amount) for f in _fees(tenant, FeeKind.RETURN_UNIT)] == [
        (Decimal(2), Decimal("1.50")),
        (Decimal(1), Decimal("0.75")),
    ]


def test_a_new_card_prices_fees_from_its_day_and_old_fees_keep_their_prices():
    tenant = TenantFactory()
    with time_machine.travel(datetime(2026, 11, 20, 15, 0, tzinfo=UTC), tick=False):
        fees.fees_for_receipt(tenant_id=tenant.pk, shipment_id="a", reference="ASN 1", units=4, warehouse_code="MAIN")
        fees.rate_card_set(
            tenant_id=tenant.pk, prices={"receiving_per_unit": Decimal("0.40")}, effective_from=date(2026, 12, 1)
        )
        fees.fees_for_receipt(tenant_id=tenant.pk, shipment_id="b", reference="ASN 2", units=4, warehouse_code="MAIN")
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), tick=False):
        fees.fees_for_receipt(tenant_id=tenant.pk, shipment_id="c", reference="ASN 3", units=4, warehouse_code="MAIN")
    assert [(f.source_id, f.unit_price, f.amount, f.rate_card) for f in _fees(tenant)] == [
        ("a", Decimal("0.2500"), Decimal("1.00"), "default@2000-01-01"),
        ("b", Decimal("0.2500"), Decimal("1.00"), "default@2000-01-01"),
        ("c", Decimal("0.4000"), Decimal("1.60"), "tenant@2026-12-01"),
    ]


def test_amounts_round_half_up_per_row():
    tenant = TenantFactory()
    rate_card(tenant, receiving_per_unit=Decimal("0.0050"))
    fees.fees_for_receipt(tenant_id=tenant.pk, shipment_id="a", reference="ASN", units=1, warehouse_code="MAIN")
    fees.fees_for_receipt(tenant_id=tenant.pk, shipment_id="b", reference="ASN", units=3, warehouse_code="MAIN")
    assert [f.amount for f in _fees(tenant)] == [Decimal("0.01"), Decimal("0.02")]  # 0.005 -> 0.01, 0.015 -> 0.02


@pytest.mark.parametrize(
    "statement", ["UPDATE fees_fee SET amount = 0 WHERE id = %s", "DELETE FROM fees_fee WHERE id = %s"]
)
def test_the_database_refuses_to_change_or_remove_a_fee(statement):
    tenant = TenantFactory()
    fees.fees_for_receipt(tenant_id=tenant.pk, shipment_id="a", reference="ASN", units=2, warehouse_code="MAIN")
    [fee] = _fees(tenant)
    with pytest.raises(DatabaseError, match="fees are append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(statement, [fee.pk])
    fee.refresh_from_db()
    assert fee.amount == Decimal("0.50")


def test_a_correction_is_a_new_row_with_a_reason_and_cannot_pass_zero():
    tenant = TenantFactory()
    fees.fees_for_receipt(tenant_id=tenant.pk, shipment_id="a", reference="ASN 1", units=8, warehouse_code="MAIN")
    [fee] = _fees(tenant)
    credit = fees.fee_correct(
        tenant_id=tenant.pk, corrects_id=fee.pk, amount=Decimal("-1.50"), reason="miscount", actor="mgr"
    )
    assert (credit.kind, credit.amount, credit.corrects_id, credit.source_ref) == (
        FeeKind.RECEIVING,
        Decimal("-1.50"),
        fee.pk,
        "ASN 1",
    )
    with pytest.raises(fees.FeeError) as refused:
        fees.fee_correct(tenant_id=tenant.pk, corrects_id=fee.pk, amount=Decimal("-0.51"), reason="again", actor="mgr")
    assert refused.value.code == "over_correction"
    with pytest.raises(fees.FeeError) as no_reason:
        fees.fee_correct(tenant_id=tenant.pk, amount=Decimal("5"), reason=" ", actor="mgr")
    assert no_reason.value.errors == [] and no_reason.value.field == "reason"
    assert len(_fees(tenant)) == 2
    adjustment = fees.fee_correct(tenant_id=tenant.pk, amount=Decimal("5"), reason="rush handling", actor="mgr")
    assert (adjustment.kind, adjustment.amount, adjustment.source_type) == (FeeKind.ADJUSTMENT, Decimal("5"), "manual")


def test_a_card_cannot_start_in_the_past():
    tenant = TenantFactory()
    at = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    with time_machine.travel(at, tick=False), pytest.raises(fees.FeeError) as refused:
        fees.rate_card_set(tenant_id=tenant.pk, prices={"pick_per_order": Decimal(3)}, effective_from=date(2026, 12, 4))
    assert refused.value.errors[0]["field"] == "effective_from"
    assert not RateCard.objects.filter(tenant=tenant).exists()


def test_a_card_price_too_large_to_bill_is_refused_with_its_field():
    tenant = TenantFactory()
    with pytest.raises(fees.FeeError) as refused:
        fees.rate_card_set(
            tenant_id=tenant.pk,
            prices={"pick_per_order": Decimal("99999999"), "shipping_markup_percent": Decimal("5000")},
        )
    assert [(e["field"], e["code"]) for e in refused.value.errors] == [
        ("pick_per_order", "too_large"),
        ("shipping_markup_percent", "too_large"),
    ]
    assert not RateCard.objects.filter(tenant=tenant).exists()


def test_a_void_after_a_partial_correction_credits_only_what_is_left():
    tenant = TenantFactory()
    fees.fee_for_label(
        tenant_id=tenant.pk,
        source_type="shipment",
        source_id="s1",
        reference="order 1",
        label_key="p1",
        charge=Decimal("10.00"),
        currency="CAD",
    )
    [label] = _fees(tenant)
    fees.fee_correct(tenant_id=tenant.pk, corrects_id=label.pk, amount=Decimal("-5.00"), reason="discount", actor="m")
    fees.fee_for_label_void(tenant_id=tenant.pk, label_key="p1")
    fees.fee_for_label_void(tenant_id=tenant.pk, label_key="p1")  # twice: nothing more
    assert [f.amount for f in _fees(tenant)] == [Decimal("11.50"), Decimal("-5.00"), Decimal("-6.50")]


def test_a_label_fee_that_cannot_be_written_leaves_the_label_recorded(django_capture_on_commit_callbacks, monkeypatch):
    original = fees.fees_record

    def broken(**kwargs):
        if kwargs["items"][0].kind == FeeKind.SHIPPING:
            raise DatabaseError("numeric field overflow")
        return original(**kwargs)

    monkeypatch.setattr(activities, "fees_record", broken)
    wh = inv.warehouse()
    tenant = stocked_tenant(wh)
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="F-1")
    assert (order.status, shipment.has_label) == ("shipped", True)
    assert not Fee.objects.filter(tenant=tenant, kind=FeeKind.SHIPPING).exists()


def test_a_correction_too_large_for_the_ledger_is_refused():
    tenant = TenantFactory()
    with pytest.raises(fees.FeeError) as refused:
        fees.fee_correct(tenant_id=tenant.pk, amount=Decimal("999999999999.99"), reason="x", actor="m")
    assert (refused.value.field, refused.value.code) == ("amount", "too_large")
    assert not _fees(tenant)
