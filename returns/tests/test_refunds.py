"""A return's statuses through inspection, the policy's refund and the merchant's confirmation,
closing, and the order that comes all the way back."""

from decimal import Decimal

import pytest

from fulfillment.tenancy.tests.factories import TenantFactory
from fulfillment.webhooks.models import OutboxEvent
from inventory.tests import factories as inv
from orders import services as orders
from orders.models import OrderEvent
from orders.models import Status as OrderStatus
from orders.tests.factories import order as new_order
from returns import services
from returns.models import Resolution, Return, ReturnPolicy, ReturnRefund, ReturnStatus
from returns.tests.factories import shipped_order
from tests.threads import run_together

pytestmark = pytest.mark.django_db


@pytest.fixture
def priced(shop):
    """The shop with a policy of fees (15 % restocking, 5.00 return shipping) and a priced order,
    shipped: 3 x TEE-RED-M at 19.99 and 2 x MUG-BLUE at 12.50."""
    policy(shop.tenant, restocking_fee_percent=Decimal("15"), return_shipping_fee=Decimal("5.00"))
    shop.priced = shipped_order(
        shop.tenant, external_id="SHOP-P", lines=[("TEE-RED-M", 3, Decimal("19.99")), ("MUG-BLUE", 2, Decimal("12.50"))]
    )
    return shop


def policy(tenant, **fields) -> ReturnPolicy:
    values = {"resolutions": list(Resolution.values), "reasons": ["Too small"], **fields}
    return ReturnPolicy.objects.update_or_create(tenant=tenant, defaults=values)[0]


def request(shop, lines, *, order=None, **kwargs) -> Return:
    order = order or shop.priced
    return services.return_create(
        tenant_id=shop.tenant.pk,
        order_id=order.pk,
        lines=[{"sku": sku, "quantity": quantity, "reason": "x"} for sku, quantity in lines],
        **kwargs,
    )


def receive(rma, *receipts, actor="alice") -> Return:
    """receipts: (sku, quantity, grade); disposition quarantine (no location needed)."""
    return services.return_receive(
        return_id=rma.pk,
        lines=[{"sku": s, "quantity": q, "condition": g, "disposition": "quarantine"} for s, q, g in receipts],
        actor=actor,
    )


def inspected(shop, *receipts) -> Return:
    rma = request(shop, [(sku, quantity) for sku, quantity, _ in receipts])
    return receive(rma, *receipts)


def snapshot(rma) -> tuple:
    """What a refused action must leave as it was."""
    return (
        Return.objects.filter(pk=rma.pk).values_list("status", "closed_at", "updated_at").get(),
        list(ReturnRefund.objects.filter(rma=rma).values_list("status", "amount", "method", "refunded_at", "note")),
        OutboxEvent.objects.count(),
        OrderEvent.objects.count(),
    )


# -- statuses --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [ReturnStatus.LABEL_ISSUED, ReturnStatus.IN_TRANSIT])
def test_a_return_with_a_label_or_on_its_way_is_received_on_its_first_parcel(priced, status):
    rma = request(priced, [("TEE-RED-M", 2)])
    Return.objects.filter(pk=rma.pk).update(status=status)

    received = receive(rma, ("TEE-RED-M", 1, "new"))

    assert received.status == ReturnStatus.RECEIVED
    assert received.received_at is not None and received.inspected_at is None


def test_the_return_is_inspected_once_every_unit_of_every_line_is_in(priced):
    rma = request(priced, [("TEE-RED-M", 2), ("MUG-BLUE", 1)])

    first = receive(rma, ("TEE-RED-M", 2, "new"))
    assert (first.status, first.inspected_at) == (ReturnStatus.RECEIVED, None)
    last = receive(rma, ("MUG-BLUE", 1, "opened"))

    assert last.status == ReturnStatus.INSPECTED
    assert last.inspected_at is not None and last.received_at == first.received_at
    event = OutboxEvent.objects.filter(type="return.received").latest("created_at")
    assert event.data["status"] == "inspected"


def test_the_order_is_returned_once_every_shipped_unit_is_back_on_its_returns(priced):
    one = request(priced, [("TEE-RED-M", 3)])
    other = request(priced, [("MUG-BLUE", 2)])
    receive(one, ("TEE-RED-M", 3, "new"))
    priced.priced.refresh_from_db()
    assert priced.priced.status == OrderStatus.SHIPPED

    receive(other, ("MUG-BLUE", 1, "new"))
    receive(other, ("MUG-BLUE", 1, "damaged"), actor="bob")

    priced.priced.refresh_from_db()
    assert priced.priced.status == OrderStatus.RETURNED
    change = OrderEvent.objects.get(order=priced.priced, type="status_changed", to_status="returned")
    assert (change.from_status, change.actor) == ("shipped", "bob")
    assert change.message == f"Returned: every shipped unit came back (last on {other.number})"


def test_a_delivered_order_is_returned_too(shop):
    delivered = shipped_order(shop.tenant, external_id="SHOP-D", lines=[("MUG-BLUE", 1)], deliver=True)

    inspected_rma = receive(request(shop, [("MUG-BLUE", 1)], order=delivered), ("MUG-BLUE", 1, "new"))

    delivered.refresh_from_db()
    assert inspected_rma.status == ReturnStatus.INSPECTED
    assert delivered.status == OrderStatus.RETURNED


def test_only_a_shipped_delivered_or_exception_order_can_be_marked_returned(priced):
    open_order = new_order(priced.tenant, external_id="SHOP-O", lines=[("TEE-RED-M", 1)])
    events = OrderEvent.objects.count()

    with pytest.raises(orders.InvalidTransition) as refused:
        orders.order_mark_returned(order_id=open_order.pk)

    assert refused.value.status == 409
    open_order.refresh_from_db()
    assert open_order.status == OrderStatus.RECEIVED
    assert OrderEvent.objects.count() == events
    returned = orders.order_mark_returned(order_id=priced.priced.pk, actor="ada")
    again = orders.order_mark_returned(order_id=priced.priced.pk, actor="ada")
    assert returned.status == again.status == OrderStatus.RETURNED
    assert OrderEvent.objects.filter(order=priced.priced, to_status="returned").count() == 1


# -- the policy's figure ---------------------------------------------------------------------


def test_quote_keeps_the_restocking_fee_of_opened_and_damaged_units_and_the_return_shipping_once(priced):
    rma = inspected(
        priced,
        ("TEE-RED-M", 3, "opened"),
        ("MUG-BLUE", 2, "defective"),
    )

    amount_due, currency, breakdown = services.refund_quote(rma)

    # 3 x 19.99 = 59.97, fee 15 % = 8.9955 -> 9.00; 2 x 12.50 defective: no fee; shipping 5.00.
    assert (amount_due, currency) == (Decimal("70.97"), "CAD")
    assert breakdown == {
        "lines": [
            {
                "sku": "TEE-RED-M",
                "grade": "opened",
                "quantity": 3,
                "unit_price": "19.99",
                "amount": "59.97",
                "restocking_fee": "9.00",
                "net": "50.97",
            },
            {
                "sku": "MUG-BLUE",
                "grade": "defective",
                "quantity": 2,
                "unit_price": "12.50",
                "amount": "25.00",
                "restocking_fee": "0.00",
                "net": "25.00",
            },
        ],
        "subtotal": "84.97",
        "restocking_fee_percent": "15.00",
        "restocking_fees": "9.00",
        "return_shipping_fee": "5.00",
        "return_shipping_note": "",
        "amount_due": "70.97",
    }


def test_each_receipt_is_a_line_of_its_own_grade(priced):
    rma = request(priced, [("TEE-RED-M", 3)])
    receive(rma, ("TEE-RED-M", 1, "new"))
    receive(rma, ("TEE-RED-M", 1, "damaged"))
    rma = receive(rma, ("TEE-RED-M", 1, "defective"))

    amount_due, _, breakdown = services.refund_quote(rma)

    assert [(row["grade"], row["restocking_fee"]) for row in breakdown["lines"]] == [
        ("new", "0.00"),
        ("damaged", "3.00"),  # 2.9985 rounded half-up
        ("defective", "0.00"),
    ]
    assert amount_due == Decimal("59.97") - Decimal("3.00") - Decimal("5.00")


def test_no_return_shipping_is_kept_when_every_unit_received_is_defective(priced):
    rma = inspected(priced, ("TEE-RED-M", 1, "defective"), ("MUG-BLUE", 1, "defective"))

    amount_due, _, breakdown = services.refund_quote(rma)

    assert amount_due == Decimal("32.49")
    assert breakdown["return_shipping_fee"] == "0.00"
    assert breakdown["return_shipping_note"] == "waived: every unit received is defective"


def test_the_amount_due_is_never_below_zero(shop):
    policy(shop.tenant, restocking_fee_percent=Decimal("15"), return_shipping_fee=Decimal("5.00"))
    cheap = shipped_order(shop.tenant, external_id="SHOP-C", lines=[("MUG-BLUE", 1, Decimal("2.00"))])
    rma = receive(request(shop, [("MUG-BLUE", 1)], order=cheap), ("MUG-BLUE", 1, "opened"))

    assert services.refund_quote(rma)[0] == Decimal("0.00")
    assert rma.refund.amount_due == Decimal("0.00")


def test_fees_are_rounded_half_up_to_cents_per_line(shop):
    policy(shop.tenant, restocking_fee_percent=Decimal("10"))
    order = shipped_order(shop.tenant, external_id="SHOP-R", lines=[("MUG-BLUE", 1, Decimal("0.25"))])
    rma = receive(request(shop, [("MUG-BLUE", 1)], order=order), ("MUG-BLUE", 1, "opened"))

    _, _, breakdown = services.refund_quote(rma)

    # 0.025: half-up is 0.03 (banker's rounding would say 0.02)
    assert breakdown["lines"][0]["restocking_fee"] == "0.03"
    assert breakdown["amount_due"] == "0.22"


def test_a_line_without_a_price_counts_zero(shop):
    rma = receive(request(shop, [("TEE-RED-M", 1)], order=shop.order), ("TEE-RED-M", 1, "new"))

    amount_due, _, breakdown = services.refund_quote(rma)

    assert amount_due == Decimal("0.00")
    assert breakdown["lines"][0]["unit_price"] == "0.00"


def test_a_free_exchange_keeps_no_fee(priced):
    rma = request(
        priced, [("TEE-RED-M", 1)], resolution=Resolution.EXCHANGE, exchange_lines=[{"sku": "TEE-RED-M", "quantity": 1}]
    )
    rma = receive(rma, ("TEE-RED-M", 1, "opened"))

    amount_due, _, breakdown = services.refund_quote(rma)

    assert amount_due == Decimal("19.99")
    assert (breakdown["restocking_fees"], breakdown["return_shipping_fee"]) == ("0.00", "0.00")
    assert breakdown["return_shipping_note"] == "waived: free exchanges"


def test_the_pending_refund_follows_each_parcel(priced):
    rma = request(priced, [("TEE-RED-M", 2)])
    assert not ReturnRefund.objects.exists()

    receive(rma, ("TEE-RED-M", 1, "new"))
    pending = ReturnRefund.objects.get(rma=rma)
    assert (pending.status, pending.amount_due, pending.amount, pending.method) == (
        "pending",
        Decimal("14.99"),
        None,
        "original_payment",
    )
    receive(rma, ("TEE-RED-M", 1, "opened"))

    pending.refresh_from_db()
    # 2 x 19.99 - 3.00 restocking of the opened one - 5.00 shipping
    assert pending.amount_due == Decimal("31.98")
    assert pending.currency == "CAD"
    assert OutboxEvent.objects.filter(type="return.received").latest("created_at").data["refund"]["amount_due"] == (
        "31.98"
    )


# -- the merchant's confirmation -------------------------------------------------------------


def test_the_merchant_confirms_the_amount_due(priced):
    rma = inspected(priced, ("TEE-RED-M", 2, "new"))

    refund = services.return_refund(return_id=rma.pk, tenant_id=priced.tenant.pk, actor="merchant:ada")

    rma.refresh_from_db()
    assert rma.status == ReturnStatus.REFUNDED
    assert (refund.status, refund.amount, refund.method, refund.refunded_by) == (
        "refunded",
        Decimal("34.98"),
        "original_payment",
        "merchant:ada",
    )
    assert refund.refunded_at is not None
    note = OrderEvent.objects.get(order=priced.priced, type="return_refunded")
    assert note.message == f"Return {rma.number} refunded: 34.98 CAD, original payment"
    assert note.actor == "merchant:ada"
    event = OutboxEvent.objects.get(type="return.refunded")
    assert event.tenant_id == priced.tenant.pk
    assert event.data["status"] == "refunded"
    assert {k: event.data["refund"][k] for k in ("amount", "amount_due", "currency", "status", "method")} == {
        "amount": "34.98",
        "amount_due": "34.98",
        "currency": "CAD",
        "status": "refunded",
        "method": "original_payment",
    }


def test_the_merchant_may_lower_the_amount_with_a_note(priced):
    rma = inspected(priced, ("TEE-RED-M", 2, "new"))

    refund = services.return_refund(
        return_id=rma.pk, tenant_id=priced.tenant.pk, amount=Decimal("20.00"), note="goodwill", actor="ada"
    )

    assert (refund.amount_due, refund.amount, refund.note) == (Decimal("34.98"), Decimal("20.00"), "goodwill")
    assert OrderEvent.objects.get(type="return_refunded").message == (
        f"Return {rma.number} refunded: 20.00 CAD (lowered from 34.98), original payment; goodwill"
    )


def test_a_store_credit_return_is_refunded_as_store_credit(priced):
    rma = receive(request(priced, [("MUG-BLUE", 1)], resolution=Resolution.STORE_CREDIT), ("MUG-BLUE", 1, "new"))

    refund = services.return_refund(return_id=rma.pk, tenant_id=priced.tenant.pk, actor="ada")

    assert (refund.method, refund.amount) == ("store_credit", Decimal("7.50"))


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (Decimal("34.99"), "exceeds_due"),
        (Decimal("-1.00"), "negative"),
        (Decimal("1.005"), "max_decimal_places"),
        ("lots", "invalid"),
    ],
)
def test_a_bad_amount_is_refused_and_nothing_changes(priced, amount, code):
    rma = inspected(priced, ("TEE-RED-M", 2, "new"))
    before = snapshot(rma)

    with pytest.raises(services.ReturnError) as refused:
        services.return_refund(return_id=rma.pk, tenant_id=priced.tenant.pk, amount=amount, actor="ada")

    assert refused.value.status == 422
    assert [(e["field"], e["code"]) for e in refused.value.errors] == [("amount", code)]
    assert snapshot(rma) == before


def test_store_credit_for_a_refund_return_is_refused_and_nothing_changes(priced):
    rma = inspected(priced, ("TEE-RED-M", 1, "new"))
    before = snapshot(rma)

    with pytest.raises(services.ReturnError) as refused:
        services.return_refund(return_id=rma.pk, tenant_id=priced.tenant.pk, method="store_credit", actor="ada")

    assert [(e["field"], e["code"]) for e in refused.value.errors] == [("method", "not_allowed")]
    assert snapshot(rma) == before


def test_a_return_not_inspected_yet_cannot_be_refunded(priced):
    rma = request(priced, [("TEE-RED-M", 2)])
    receive(rma, ("TEE-RED-M", 1, "new"))
    before = snapshot(rma)

    with pytest.raises(services.ReturnError) as refused:
        services.return_refund(return_id=rma.pk, tenant_id=priced.tenant.pk, actor="ada")

    assert (refused.value.status, refused.value.code) == (409, "invalid_state")
    assert refused.value.errors[0]["code"] == "not_inspected"
    assert snapshot(rma) == before


def test_a_refund_is_never_paid_twice(priced):
    rma = inspected(priced, ("TEE-RED-M", 2, "new"))
    services.return_refund(return_id=rma.pk, tenant_id=priced.tenant.pk, amount=Decimal("10.00"), actor="ada")
    before = snapshot(rma)

    with pytest.raises(services.ReturnError) as refused:
        services.return_refund(return_id=rma.pk, tenant_id=priced.tenant.pk, actor="ada")

    assert (refused.value.status, refused.value.code) == (409, "already_refunded")
    assert snapshot(rma) == before
    assert OutboxEvent.objects.filter(type="return.refunded").count() == 1


def test_another_tenants_return_is_not_found(priced):
    rma = inspected(priced, ("TEE-RED-M", 1, "new"))
    before = snapshot(rma)

    with pytest.raises(services.ReturnError) as foreign:
        services.return_refund(return_id=rma.pk, tenant_id=TenantFactory().pk, actor="eve")
    with pytest.raises(services.ReturnError) as missing:
        services.return_refund(return_id="not-a-uuid", tenant_id=priced.tenant.pk, actor="ada")
    with pytest.raises(services.ReturnError) as closing:
        services.return_close(return_id=rma.pk, tenant_id=TenantFactory().pk, actor="eve")

    assert foreign.value.status == missing.value.status == closing.value.status == 404
    assert snapshot(rma) == before


# -- closing ----------------------------------------------------------------------------------


def test_the_merchant_closes_a_return_whose_units_never_arrive(priced):
    rma = request(priced, [("TEE-RED-M", 1)])

    closed = services.return_close(return_id=rma.pk, tenant_id=priced.tenant.pk, note="never sent", actor="ada")

    assert closed.status == ReturnStatus.CLOSED and closed.closed_at is not None
    note = OrderEvent.objects.get(order=priced.priced, type="return_closed")
    assert (note.message, note.actor) == (f"Return {rma.number} closed: never sent", "ada")


def test_a_closed_return_receives_nothing_and_pays_nothing(priced):
    rma = request(priced, [("TEE-RED-M", 2)])
    receive(rma, ("TEE-RED-M", 1, "new"))
    services.return_close(return_id=rma.pk, tenant_id=priced.tenant.pk, actor="ada")
    before = snapshot(rma)

    with pytest.raises(services.ReturnError) as refund:
        services.return_refund(return_id=rma.pk, tenant_id=priced.tenant.pk, actor="ada")
    with pytest.raises(services.ReturnError) as parcel:
        receive(rma, ("TEE-RED-M", 1, "new"))
    with pytest.raises(services.ReturnError) as again:
        services.return_close(return_id=rma.pk, tenant_id=priced.tenant.pk, actor="ada")

    assert [e.value.status for e in (refund, parcel, again)] == [409, 409, 409]
    assert snapshot(rma) == before
    # The pending figure stays as the record of what was due.
    assert ReturnRefund.objects.get(rma=rma).status == "pending"


def test_a_refunded_return_cannot_be_closed(priced):
    rma = inspected(priced, ("TEE-RED-M", 1, "new"))
    services.return_refund(return_id=rma.pk, tenant_id=priced.tenant.pk, actor="ada")
    before = snapshot(rma)

    with pytest.raises(services.ReturnError) as refused:
        services.return_close(return_id=rma.pk, tenant_id=priced.tenant.pk, actor="ada")

    assert refused.value.code == "invalid_state"
    assert snapshot(rma) == before


def test_a_too_long_close_note_is_refused(priced):
    rma = request(priced, [("TEE-RED-M", 1)])
    before = snapshot(rma)

    with pytest.raises(services.ReturnError) as refused:
        services.return_close(return_id=rma.pk, tenant_id=priced.tenant.pk, note="x" * 301, actor="ada")

    assert [(e["field"], e["code"]) for e in refused.value.errors] == [("note", "max_length")]
    assert snapshot(rma) == before


# -- two confirmations at once ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_once_pay_once():
    tenant = TenantFactory()
    wh = inv.warehouse()
    inv.stock(tenant, inv.product(tenant, "TEE-RED-M"), wh, "01-01-1", 4)
    shipped = shipped_order(tenant, external_id="S-1", lines=[("TEE-RED-M", 2, Decimal("19.99"))])
    rma = services.return_create(
        tenant_id=tenant.pk, order_id=shipped.pk, lines=[{"sku": "TEE-RED-M", "quantity": 2, "reason": "x"}]
    )
    receive(rma, ("TEE-RED-M", 2, "new"))

    refused = run_together(
        [
            lambda: services.return_refund(return_id=rma.pk, tenant_id=tenant.pk, actor="ada"),
            lambda: services.return_refund(return_id=rma.pk, tenant_id=tenant.pk, amount=Decimal("1.00"), actor="bob"),
        ],
        timeout=30,
        barrier_timeout=10,
    )

    assert [(e.status, e.code) for e in refused] == [(409, "already_refunded")]
    refund = ReturnRefund.objects.get(rma=rma)
    assert refund.status == "refunded"
    assert refund.amount == {"ada": Decimal("39.98"), "bob": Decimal("1.00")}[refund.refunded_by]
    assert OutboxEvent.objects.filter(type="return.refunded").count() == 1
    assert OrderEvent.objects.filter(type="return_refunded").count() == 1
    assert Return.objects.get(pk=rma.pk).status == ReturnStatus.REFUNDED
