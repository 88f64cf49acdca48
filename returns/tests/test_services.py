import pytest

from fulfillment.tenancy.tests.factories import TenantFactory
from fulfillment.webhooks.models import OutboxEvent
from inventory.models import Location, StockBalance, StockMovement
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders.models import OrderEvent, Status
from orders.tests.factories import order
from returns import services
from returns.models import Return, ReturnLine, ReturnStatus
from returns.tests.factories import shipped_order

pytestmark = pytest.mark.django_db


def _on_hand(product, code: str, lot: str | None = None) -> int:
    rows = StockBalance.objects.filter(product=product, location__code=code)
    if lot is not None:
        rows = rows.filter(lot__code=lot)
    return sum(rows.values_list("on_hand", flat=True))


def _request(shop, lines, **kwargs):
    return services.return_create(tenant_id=shop.tenant.pk, order_id=shop.order.pk, lines=lines, **kwargs)


def _counts():
    return (
        Return.objects.count(),
        ReturnLine.objects.count(),
        StockMovement.objects.count(),
        OutboxEvent.objects.filter(type__startswith="return.").count(),
    )


# -- return_create -------------------------------------------------------------------------


def test_return_of_shipped_order_is_requested_with_timeline_note_and_event(shop):
    rma = _request(shop, [{"sku": "TEE-RED-M", "quantity": 2, "reason": "too small"}], actor="api_key:abc")

    assert rma.status == ReturnStatus.REQUESTED
    assert rma.number.startswith("RMA-") and len(rma.number) == 12
    assert (rma.order_id, rma.warehouse_id, rma.tenant_id) == (shop.order.pk, shop.wh.pk, shop.tenant.pk)
    line = rma.lines.get()
    assert (line.sku, line.quantity, line.reason, line.received_quantity, line.disposition) == (
        "TEE-RED-M",
        2,
        "too small",
        0,
        "",
    )
    assert line.order_line.sku == "TEE-RED-M" and line.product == shop.tee
    note = OrderEvent.objects.get(order=shop.order, type="return_requested")
    assert note.message == f"Return {rma.number} requested: 2 x TEE-RED-M"
    assert note.actor == "api_key:abc"
    event = OutboxEvent.objects.get(type="return.created")
    assert event.tenant_id == shop.tenant.pk
    assert event.data["id"] == str(rma.id)
    assert event.data["order"] == str(shop.order.pk)
    assert event.data["lines"] == [
        {
            "sku": "TEE-RED-M",
            "quantity": 2,
            "reason": "too small",
            "received_quantity": 0,
            "condition": "",
            "disposition": "",
        }
    ]


def test_delivered_order_can_be_returned(shop):
    delivered = shipped_order(shop.tenant, external_id="SHOP-2", lines=[("MUG-BLUE", 1)], deliver=True)
    assert delivered.status == Status.DELIVERED

    rma = services.return_create(
        tenant_id=shop.tenant.pk, order_id=delivered.pk, lines=[{"sku": "MUG-BLUE", "quantity": 1, "reason": "broken"}]
    )

    assert rma.lines.get().quantity == 1


def test_order_not_yet_shipped_is_refused_as_invalid_state_and_nothing_changes(shop):
    open_order = order(shop.tenant, external_id="SHOP-3", lines=[("TEE-RED-M", 1)])
    before = _counts()

    with pytest.raises(services.ReturnError) as refused:
        services.return_create(
            tenant_id=shop.tenant.pk, order_id=open_order.pk, lines=[{"sku": "TEE-RED-M", "quantity": 1, "reason": "x"}]
        )

    assert refused.value.code == "invalid_state"
    assert _counts() == before


def test_other_tenants_order_reads_exactly_like_a_missing_one(shop):
    stranger = TenantFactory()
    lines = [{"sku": "TEE-RED-M", "quantity": 1, "reason": "x"}]

    with pytest.raises(services.ReturnError) as foreign:
        services.return_create(tenant_id=stranger.pk, order_id=shop.order.pk, lines=lines)
    with pytest.raises(services.ReturnError) as missing:
        services.return_create(tenant_id=stranger.pk, order_id="00000000-0000-0000-0000-000000000000", lines=lines)

    assert foreign.value.code == missing.value.code == "not_found"
    assert (
        foreign.value.errors
        == missing.value.errors
        == [{"field": "order", "code": "not_found", "message": "Order not found."}]
    )
    assert Return.objects.count() == 0


def test_sku_not_on_the_order_is_refused_with_its_field_path(shop):
    inv.product(shop.tenant, "HAT-1")
    before = _counts()

    with pytest.raises(services.ReturnError) as refused:
        _request(
            shop,
            [
                {"sku": "TEE-RED-M", "quantity": 1, "reason": "x"},
                {"sku": "HAT-1", "quantity": 1, "reason": "x"},
            ],
        )

    assert refused.value.code == "invalid"
    assert [(e["field"], e["code"]) for e in refused.value.errors] == [("lines[1].sku", "not_in_order")]
    assert _counts() == before


@pytest.mark.parametrize("quantity", [0, -1, "2", True, None])
def test_quantity_that_is_not_a_positive_integer_is_refused(shop, quantity):
    with pytest.raises(services.ReturnError) as refused:
        _request(shop, [{"sku": "TEE-RED-M", "quantity": quantity, "reason": "x"}])

    assert [(e["field"], e["code"]) for e in refused.value.errors] == [("lines[0].quantity", "invalid")]
    assert Return.objects.count() == 0


def test_quantity_may_not_exceed_shipped_minus_already_requested(shop):
    _request(shop, [{"sku": "TEE-RED-M", "quantity": 2, "reason": "too small"}])
    before = _counts()

    with pytest.raises(services.ReturnError) as refused:
        _request(shop, [{"sku": "TEE-RED-M", "quantity": 2, "reason": "changed my mind"}])

    assert refused.value.errors == [
        {
            "field": "lines[0].quantity",
            "code": "exceeds_returnable",
            "message": "At most 1 x TEE-RED-M can be returned (shipped minus already requested).",
        }
    ]
    assert _counts() == before
    assert _request(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "changed my mind"}]).lines.get().quantity == 1


def test_same_sku_twice_and_missing_reason_are_refused_together(shop):
    with pytest.raises(services.ReturnError) as refused:
        _request(
            shop,
            [
                {"sku": "TEE-RED-M", "quantity": 1, "reason": "x"},
                {"sku": "TEE-RED-M", "quantity": 1, "reason": " "},
            ],
        )

    assert [(e["field"], e["code"]) for e in refused.value.errors] == [
        ("lines[1].reason", "required"),
        ("lines[1].sku", "duplicate"),
    ]


def test_return_without_lines_is_refused(shop):
    with pytest.raises(services.ReturnError) as refused:
        _request(shop, [])

    assert [(e["field"], e["code"]) for e in refused.value.errors] == [("lines", "required")]


# -- return_receive ------------------------------------------------------------------------


def test_restock_moves_units_from_customer_through_returns_to_a_sellable_location_of_the_shipped_lot(
    shop, django_capture_on_commit_callbacks
):
    rma = _request(shop, [{"sku": "TEE-RED-M", "quantity": 2, "reason": "too small"}])

    with django_capture_on_commit_callbacks(execute=True):
        received = services.return_receive(
            return_id=rma.pk,
            lines=[{"sku": "TEE-RED-M", "quantity": 2, "condition": "new", "disposition": "restock"}],
            actor="alice",
        )

    # Every unit came in the one parcel, graded as it came: the inspection is done.
    assert received.status == ReturnStatus.INSPECTED and received.received_at == received.inspected_at
    line = received.lines.get()
    assert (line.received_quantity, line.condition, line.disposition) == (2, "new", "restock")
    # The suggested location is the one already holding the product.
    assert _on_hand(shop.tee, "01-01-1", "LOT-A") == 7 + 2
    assert _on_hand(shop.tee, "RETURNS") == 0
    assert _on_hand(shop.tee, "V-CUSTOMER", "LOT-A") == 3 - 2
    moves = list(
        StockMovement.objects.filter(reference=f"return {rma.number}")
        .order_by("pk")
        .values_list("from_location__code", "to_location__code", "quantity", "reason", "lot__code", "actor")
    )
    assert moves == [
        ("V-CUSTOMER", "RETURNS", 2, "return", "LOT-A", "alice"),
        ("RETURNS", "01-01-1", 2, "restock", "LOT-A", "alice"),
    ]
    assert OrderEvent.objects.get(order=shop.order, type="return_received").message == (
        f"Return {rma.number} received: 2 x TEE-RED-M new, restock"
    )
    event = OutboxEvent.objects.get(type="return.received")
    assert event.data["status"] == "inspected"
    assert event.data["lines"][0]["disposition"] == "restock"
    assert ledger_differences() == []


def test_restock_goes_to_the_given_location(shop):
    rma = _request(shop, [{"sku": "MUG-BLUE", "quantity": 1, "reason": "unwanted"}])

    services.return_receive(
        return_id=rma.pk,
        lines=[{"sku": "MUG-BLUE", "quantity": 1, "condition": "new", "disposition": "restock", "location": "02-05-1"}],
    )

    assert _on_hand(shop.mug, "02-05-1", "LOT-M") == 1


def test_quarantine_and_dispose_go_to_quarantine_and_scrap(shop):
    rma = _request(
        shop,
        [
            {"sku": "TEE-RED-M", "quantity": 3, "reason": "stained"},
            {"sku": "MUG-BLUE", "quantity": 2, "reason": "broken"},
        ],
    )

    services.return_receive(
        return_id=rma.pk,
        lines=[
            {"sku": "TEE-RED-M", "quantity": 3, "condition": "damaged", "note": "stained", "disposition": "quarantine"},
            {"sku": "MUG-BLUE", "quantity": 1, "condition": "damaged", "note": "shattered", "disposition": "dispose"},
        ],
    )

    assert _on_hand(shop.tee, "QUARANTINE", "LOT-A") == 3
    assert _on_hand(shop.mug, "V-SCRAP", "LOT-M") == 1
    assert _on_hand(shop.tee, "01-01-1") == 7 and _on_hand(shop.mug, "01-02-1") == 8
    reasons = list(
        StockMovement.objects.filter(reference=f"return {rma.number}")
        .order_by("pk")
        .values_list("to_location__code", "reason")
    )
    assert reasons == [
        ("RETURNS", "return"),
        ("QUARANTINE", "quarantine"),
        ("RETURNS", "return"),
        ("V-SCRAP", "disposal"),
    ]
    mug_line = rma.lines.get(sku="MUG-BLUE")
    assert (mug_line.quantity, mug_line.received_quantity) == (2, 1)
    assert ledger_differences() == []


def test_second_receive_is_refused_as_invalid_state_and_changes_nothing(shop):
    rma = _request(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "x"}])
    lines = [{"sku": "TEE-RED-M", "quantity": 1, "condition": "new", "disposition": "restock"}]
    services.return_receive(return_id=rma.pk, lines=lines)
    before = _counts()

    with pytest.raises(services.ReturnError) as refused:
        services.return_receive(return_id=rma.pk, lines=lines)

    assert refused.value.code == "invalid_state"
    assert _counts() == before


def test_one_bad_line_changes_nothing(shop):
    rma = _request(
        shop,
        [
            {"sku": "TEE-RED-M", "quantity": 2, "reason": "x"},
            {"sku": "MUG-BLUE", "quantity": 1, "reason": "x"},
        ],
    )
    before = _counts()

    with pytest.raises(services.ReturnError) as refused:
        services.return_receive(
            return_id=rma.pk,
            lines=[
                {"sku": "TEE-RED-M", "quantity": 2, "condition": "new", "disposition": "restock"},
                {"sku": "MUG-BLUE", "quantity": 2, "condition": "new", "disposition": "restock"},
                {"sku": "TEE-RED-M", "quantity": 1, "condition": "new", "disposition": "restock"},
            ],
        )

    assert [(e["field"], e["code"]) for e in refused.value.errors] == [
        ("lines[1].quantity", "exceeds_returned"),
        ("lines[2].quantity", "exceeds_returned"),
    ]
    assert _counts() == before
    rma.refresh_from_db()
    assert rma.status == ReturnStatus.REQUESTED
    assert list(rma.lines.values_list("received_quantity", "disposition")) == [(0, ""), (0, "")]


@pytest.mark.parametrize(
    ("line", "field", "code"),
    [
        ({"sku": "HAT-9", "quantity": 1, "condition": "new", "disposition": "restock"}, "sku", "not_in_return"),
        (
            {"sku": "TEE-RED-M", "quantity": 1, "condition": "new", "disposition": "resell"},
            "disposition",
            "invalid_choice",
        ),
        ({"sku": "TEE-RED-M", "quantity": 1, "condition": "", "disposition": "restock"}, "condition", "invalid_choice"),
        (
            {"sku": "TEE-RED-M", "quantity": 1, "condition": "new", "disposition": "restock", "location": "NOPE"},
            "location",
            "unknown_location",
        ),
        (
            {"sku": "TEE-RED-M", "quantity": 1, "condition": "new", "disposition": "restock", "location": "PACKING"},
            "location",
            "not_sellable",
        ),
        (
            {
                "sku": "TEE-RED-M",
                "quantity": 1,
                "condition": "damaged",
                "disposition": "dispose",
                "location": "01-01-1",
            },
            "location",
            "not_allowed",
        ),
    ],
)
def test_bad_receipt_line_is_refused_with_its_field_path(shop, line, field, code):
    rma = _request(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "x"}])
    movements = StockMovement.objects.count()

    with pytest.raises(services.ReturnError) as refused:
        services.return_receive(return_id=rma.pk, lines=[line])

    assert [(e["field"], e["code"]) for e in refused.value.errors] == [(f"lines[0].{field}", code)]
    assert StockMovement.objects.count() == movements


def test_restock_into_another_warehouses_location_is_refused(shop):
    inv.warehouse("EAST", aisles=1, bays=1, levels=1)
    rma = _request(shop, [{"sku": "TEE-RED-M", "quantity": 1, "reason": "x"}])
    assert Location.objects.filter(code="01-01-1").count() == 2
    Location.objects.filter(warehouse=shop.wh, code="01-01-1").update(code="01-01-9")

    with pytest.raises(services.ReturnError) as refused:
        services.return_receive(
            return_id=rma.pk,
            lines=[
                {"sku": "TEE-RED-M", "quantity": 1, "condition": "new", "disposition": "restock", "location": "01-01-1"}
            ],
        )

    assert refused.value.errors[0]["code"] == "unknown_location"


def test_restocked_units_reallocate_a_backorder(shop, django_capture_on_commit_callbacks):
    # The rest of the stock goes out, so a new order waits for the returned units.
    shipped_order(shop.tenant, external_id="SHOP-8", lines=[("TEE-RED-M", 7)])
    with django_capture_on_commit_callbacks(execute=True):
        waiting = order(shop.tenant, external_id="SHOP-9", lines=[("TEE-RED-M", 2)])
    waiting.refresh_from_db()
    assert waiting.status == Status.BACKORDERED
    rma = _request(shop, [{"sku": "TEE-RED-M", "quantity": 2, "reason": "x"}])

    with django_capture_on_commit_callbacks(execute=True):
        services.return_receive(
            return_id=rma.pk,
            lines=[{"sku": "TEE-RED-M", "quantity": 2, "condition": "new", "disposition": "restock"}],
        )

    waiting.refresh_from_db()
    assert waiting.status == Status.ALLOCATED
    assert waiting.lines.get().allocations.get().location.code == "01-01-1"


def test_units_shipped_from_two_lots_come_back_to_those_lots_in_order(shop):
    inv.stock(shop.tenant, shop.tee, shop.wh, "03-01-1", 5, lot="LOT-B")
    # 7 of LOT-A remain at 01-01-1 (oldest first); 9 units take all 7 and 2 of LOT-B.
    two_lots = shipped_order(shop.tenant, external_id="SHOP-5", lines=[("TEE-RED-M", 9)])
    first = services.return_create(
        tenant_id=shop.tenant.pk, order_id=two_lots.pk, lines=[{"sku": "TEE-RED-M", "quantity": 6, "reason": "x"}]
    )
    second = services.return_create(
        tenant_id=shop.tenant.pk, order_id=two_lots.pk, lines=[{"sku": "TEE-RED-M", "quantity": 3, "reason": "x"}]
    )
    receipt = {"sku": "TEE-RED-M", "condition": "new", "disposition": "quarantine"}

    services.return_receive(return_id=first.pk, lines=[{**receipt, "quantity": 6}])
    services.return_receive(return_id=second.pk, lines=[{**receipt, "quantity": 3}])

    assert _on_hand(shop.tee, "QUARANTINE", "LOT-A") == 7
    assert _on_hand(shop.tee, "QUARANTINE", "LOT-B") == 2
    assert list(
        StockMovement.objects.filter(reference=f"return {second.number}", reason="quarantine")
        .order_by("pk")
        .values_list("lot__code", "quantity")
    ) == [("LOT-A", 1), ("LOT-B", 2)]
    assert ledger_differences() == []


def test_unknown_return_is_not_found():
    with pytest.raises(services.ReturnError) as refused:
        services.return_receive(
            return_id="00000000-0000-0000-0000-000000000000",
            lines=[{"sku": "X", "quantity": 1, "condition": "new", "disposition": "restock"}],
        )

    assert refused.value.code == "not_found"


def test_order_id_that_is_not_a_uuid_is_not_found(shop):
    with pytest.raises(services.ReturnError) as refused:
        services.return_create(
            tenant_id=shop.tenant.pk, order_id="SHOP-1", lines=[{"sku": "TEE-RED-M", "quantity": 1, "reason": "x"}]
        )

    assert refused.value.code == "not_found"
