from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from fulfillment.webhooks.models import OutboxEvent
from inventory.models import StockBalance, StockMovement
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders import services as orders_services
from orders.models import Order, OrderEvent, Status
from packing.models import Package, Shipment, ShipmentStatus
from packing.tests.factories import packed_order
from shipping import services, tasks
from shipping.carriers import gateway
from shipping.models import (
    CarrierAccount,
    CarrierService,
    LabelPurchase,
    Manifest,
    PurchaseStatus,
    RateShop,
    ShippingException,
    TrackingEvent,
)
from shipping.tests.factories import carrier, shipped, stocked_tenant

pytestmark = pytest.mark.django_db

# A Monday morning in Toronto, before the cut-offs: standard leaves today, arrives in 5 business days.
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("America/Toronto"))


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(MONDAY, tick=False):
        yield


@pytest.fixture
def tenant():
    return stocked_tenant(inv.warehouse())


def _customer_units(tenant_obj) -> int:
    return sum(
        StockBalance.objects.filter(tenant=tenant_obj, location__code="V-CUSTOMER").values_list("on_hand", flat=True)
    )


def test_packing_buys_the_cheapest_label_that_keeps_the_promise_and_ships_the_order(
    tenant, django_capture_on_commit_callbacks
):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S1")

    assert shipment.status == ShipmentStatus.LABEL_PURCHASED
    assert (shipment.carrier_code, shipment.service_code) == ("demo-post", "standard")
    assert (shipment.rate_amount, shipment.rate_currency) == (Decimal("9.50"), "CAD")  # 2 tees, under 1 kg
    assert len(shipment.tracking_number) == 12 and shipment.tracking_number.isdigit()
    assert shipment.estimated_delivery_date <= order.promised_delivery_date
    assert shipment.label_zpl.startswith("^XA")
    assert order.status == Status.SHIPPED
    shop = RateShop.objects.get(shipment=shipment)
    chosen = shop.quotes[shop.chosen]
    assert (chosen["service"], chosen["keeps_promise"]) == ("standard", True)
    assert "promised" in shop.reason
    purchase = LabelPurchase.objects.get(shipment=shipment)
    assert (purchase.status, purchase.tracking_numbers) == (PurchaseStatus.BOUGHT, [shipment.tracking_number])
    assert OrderEvent.objects.get(order=order, to_status="shipped").data["tracking_number"] == shipment.tracking_number
    assert _customer_units(tenant) == 2
    assert OutboxEvent.objects.filter(type="shipment.label_purchased").get().data["rate"] == {
        "amount": "9.50",
        "currency": "CAD",
    }
    assert ledger_differences() == []


def test_the_pdf_label_is_drawn_once_from_the_same_purchase(tenant, django_capture_on_commit_callbacks):
    _, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S1b")

    pdf = services.label_document(shipment=shipment, kind="pdf")

    assert pdf.startswith(b"%PDF")
    assert bytes(Shipment.objects.get(pk=shipment.pk).label_pdf) == pdf
    assert Shipment.objects.get(pk=shipment.pk).tracking_number == shipment.tracking_number
    assert LabelPurchase.objects.filter(shipment=shipment).count() == 1


def test_every_package_of_a_multi_package_shipment_gets_its_own_tracking_number(
    tenant, django_capture_on_commit_callbacks
):
    _, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S1c", lines=[("MUG", 40)])

    numbers = list(
        Package.objects.filter(shipment=shipment).order_by("number").values_list("tracking_number", flat=True)
    )
    assert len(numbers) > 1 and len(set(numbers)) == len(numbers)
    assert numbers[0] == shipment.tracking_number
    assert LabelPurchase.objects.get(shipment=shipment).tracking_numbers == numbers


def test_purchase_label_run_twice_buys_one_label(tenant, django_capture_on_commit_callbacks):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S2")
    movements = StockMovement.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        tasks.purchase_label(shipment_id=str(shipment.pk))
        outcome = services.shipment_purchase_label(shipment_id=shipment.pk)

    assert outcome.result == "skipped"
    again = Shipment.objects.get(pk=shipment.pk)
    assert again.tracking_number == shipment.tracking_number
    assert LabelPurchase.objects.filter(shipment=shipment).count() == 1
    assert OrderEvent.objects.filter(order=order, to_status="shipped").count() == 1
    assert StockMovement.objects.count() == movements


def test_rate_shopping_picks_the_cheapest_account(tenant, django_capture_on_commit_callbacks):
    carrier("cheap", standard_rate="3.00")
    carrier("dear", standard_rate="5.00")

    _, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S3")

    assert (shipment.carrier_code, shipment.rate_amount) == ("cheap", Decimal("3.00"))
    shop = RateShop.objects.get(shipment=shipment)
    assert [q["carrier"] for q in shop.quotes] == ["cheap", "dear", "demo-post", "demo-post"]


def test_a_cheaper_quote_that_misses_the_promise_loses_to_one_that_keeps_it(tenant, django_capture_on_commit_callbacks):
    carrier("slow", standard_rate="1.00", days=9)

    _, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S3b")

    assert shipment.carrier_code == "demo-post"
    slow = next(q for q in RateShop.objects.get(shipment=shipment).quotes if q["carrier"] == "slow")
    assert slow["keeps_promise"] is False


def test_when_no_quote_keeps_the_promise_the_fastest_is_chosen(tenant, django_capture_on_commit_callbacks):
    CarrierService.objects.filter(account__carrier_id="demo-post").update(active=False)
    carrier("slow", standard_rate="1.00", days=9)
    carrier("slower", standard_rate="0.50", days=12)

    _, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S3c")

    assert shipment.carrier_code == "slow"
    assert "fastest" in RateShop.objects.get(shipment=shipment).reason


def test_the_merchants_requested_carrier_wins_over_a_cheaper_one(tenant, django_capture_on_commit_callbacks):
    carrier("cheap", standard_rate="3.00")

    _, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S3d", requested_carrier="demo-post")

    assert shipment.carrier_code == "demo-post"
    assert "Requested by the merchant" in RateShop.objects.get(shipment=shipment).reason


def test_inactive_accounts_are_not_rate_shopped(tenant, django_capture_on_commit_callbacks):
    cheap = carrier("cheap", standard_rate="3.00")
    CarrierAccount.objects.filter(pk=cheap.pk).update(active=False)

    _, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S4")

    assert shipment.carrier_code == "demo-post"


def test_a_same_day_order_goes_only_to_a_same_day_service(tenant, django_capture_on_commit_callbacks):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S5", shipping_method="same_day")

    assert shipment.service_code == "same_day"
    assert {q["level"] for q in RateShop.objects.get(shipment=shipment).quotes} == {"same_day"}


def test_no_label_is_bought_for_an_order_cancelled_after_packing(tenant):
    order, shipment = packed_order(tenant, external_id="S6", lines=[("TEE", 1)])
    orders_services.order_cancel(order_id=order.pk)

    outcome = services.shipment_purchase_label(shipment_id=shipment.pk)

    assert outcome.result == "skipped"
    assert not LabelPurchase.objects.exists()
    assert Order.objects.get(pk=order.pk).status == Status.CANCELLED


def test_no_quote_leaves_the_order_packed_with_a_visible_exception(tenant):
    order, shipment = packed_order(tenant, external_id="S7", lines=[("TEE", 1)], shipping_method="same_day")
    CarrierService.objects.filter(level="same_day").update(active=False)

    outcome = services.shipment_purchase_label(shipment_id=shipment.pk)

    assert outcome.result == "exception"
    assert Order.objects.get(pk=order.pk).status == Status.PACKED
    found = ShippingException.objects.get(shipment=shipment)
    assert (found.code, found.resolved_at) == ("no_quote", None)
    assert OutboxEvent.objects.filter(type="shipment.exception").count() == 1
    # The lost-message sweep leaves it to a person.
    assert services.shipments_recover_labels(older_than_seconds=0, now=timezone.now() + timedelta(minutes=5)) == 0


def test_a_carrier_outage_is_retried_with_backoff_then_waits_in_the_exceptions_queue(
    tenant, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.LABEL_PURCHASE_ATTEMPTS = 3
    calls = []

    def down(*args, **kwargs):
        calls.append(1)
        raise gateway.CarrierError(
            "Demo Post: label purchase failed: TimeoutError", code="carrier_unavailable", retryable=True
        )

    monkeypatch.setattr(gateway, "buy", down)
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S8")

    assert len(calls) == 3
    assert Order.objects.get(pk=order.pk).status == Status.PACKED
    assert list(LabelPurchase.objects.filter(shipment=shipment).values_list("status", flat=True)) == ["failed"] * 3
    assert ShippingException.objects.get(shipment=shipment).code == "label_failed"
    monkeypatch.undo()

    with django_capture_on_commit_callbacks(execute=True):
        services.shipping_exception_retry(exception_id=ShippingException.objects.get().pk, actor="manager")

    assert Order.objects.get(pk=order.pk).status == Status.SHIPPED
    assert ShippingException.objects.get().resolved_at is not None


def test_a_carrier_refusal_is_not_retried(tenant, monkeypatch, django_capture_on_commit_callbacks):
    calls = []

    def refuse(*args, **kwargs):
        calls.append(1)
        raise gateway.CarrierError("Demo Post: the label was refused: bad postal code", code="carrier_refused")

    monkeypatch.setattr(gateway, "buy", refuse)
    _, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S8b")

    assert len(calls) == 1
    assert ShippingException.objects.get(shipment=shipment).code == "carrier_refused"


def test_a_purchase_interrupted_mid_call_is_bought_again_with_the_same_numbers_on_a_rate_sheet(tenant):
    order, shipment = packed_order(tenant, external_id="S9", lines=[("TEE", 1)])
    stale = LabelPurchase.objects.create(
        tenant=tenant,
        shipment=shipment,
        account=CarrierAccount.objects.get(carrier_id="demo-post"),
        service_code="standard",
        started_at=timezone.now() - timedelta(hours=1),
    )

    assert services.purchases_recover() == 1

    stale.refresh_from_db()
    shipment.refresh_from_db()
    assert stale.status == PurchaseStatus.BOUGHT
    assert shipment.tracking_number == gateway.tracking_numbers_for(str(stale.pk), 1)[0]
    assert Order.objects.get(pk=order.pk).status == Status.SHIPPED


def test_an_interrupted_purchase_from_a_real_carrier_waits_for_a_person_instead_of_buying_twice(tenant, monkeypatch):
    fedex = CarrierAccount.objects.create(carrier_name="fedex", carrier_id="fedex-main", display_name="FedEx")
    order, shipment = packed_order(tenant, external_id="S10", lines=[("TEE", 1)])
    LabelPurchase.objects.create(
        tenant=tenant,
        shipment=shipment,
        account=fedex,
        service_code="fedex_ground",
        started_at=timezone.now() - timedelta(hours=1),
    )
    monkeypatch.setattr(gateway, "buy", lambda *a, **k: pytest.fail("must not call the carrier again"))

    services.purchases_recover()

    assert LabelPurchase.objects.get(shipment=shipment).status == PurchaseStatus.INTERRUPTED
    assert ShippingException.objects.get(shipment=shipment).code == "purchase_interrupted"
    assert Order.objects.get(pk=order.pk).status == Status.PACKED


def test_void_puts_the_order_back_to_packed_and_a_new_label_can_be_bought(tenant, django_capture_on_commit_callbacks):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S11")
    first = shipment.tracking_number

    services.shipment_void_label(shipment_id=shipment.pk, actor="manager")

    shipment.refresh_from_db()
    assert (shipment.status, shipment.tracking_number, shipment.has_label) == (ShipmentStatus.PACKED, "", False)
    assert Order.objects.get(pk=order.pk).status == Status.PACKED
    assert _customer_units(tenant) == 0
    assert LabelPurchase.objects.get(shipment=shipment).status == PurchaseStatus.VOIDED
    assert ledger_differences() == []

    with django_capture_on_commit_callbacks(execute=True):
        services.shipment_purchase_label(shipment_id=shipment.pk, actor="manager", refuse=True)

    shipment.refresh_from_db()
    assert shipment.tracking_number and shipment.tracking_number != first
    assert Order.objects.get(pk=order.pk).status == Status.SHIPPED
    assert _customer_units(tenant) == 2
    assert ledger_differences() == []


def test_a_scanned_or_manifested_label_cannot_be_voided(tenant, django_capture_on_commit_callbacks):
    _, moving = shipped(django_capture_on_commit_callbacks, tenant, external_id="S12")
    _, handed = shipped(django_capture_on_commit_callbacks, tenant, external_id="S13")
    services.shipment_tracking_event_add(shipment_id=moving.pk, code="in_transit", occurred_at=timezone.now())
    services.manifest_close(warehouse_code="MAIN", carrier_account="demo-post", actor="manager")

    for shipment, code in [(moving, "in_carrier_hands"), (handed, "manifested")]:
        with pytest.raises(services.LabelError) as refused:
            services.shipment_void_label(shipment_id=shipment.pk, actor="manager")
        assert (refused.value.status, refused.value.code) == (409, code)
        assert Shipment.objects.get(pk=shipment.pk).has_label


def test_a_second_purchase_is_refused_with_409(tenant, django_capture_on_commit_callbacks):
    _, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S14")

    with pytest.raises(services.LabelError) as refused:
        services.shipment_purchase_label(shipment_id=shipment.pk, refuse=True)

    assert refused.value.status == 409
    assert LabelPurchase.objects.filter(shipment=shipment).count() == 1


def test_end_of_day_closes_each_label_once(tenant, django_capture_on_commit_callbacks):
    shipped(django_capture_on_commit_callbacks, tenant, external_id="S15")
    shipped(django_capture_on_commit_callbacks, tenant, external_id="S16", lines=[("MUG", 2)])

    manifest = services.manifest_close(warehouse_code="MAIN", carrier_account="demo-post", actor="manager")

    assert (manifest.shipments_count, manifest.packages_count) == (2, 2)
    assert bytes(manifest.document_pdf).startswith(b"%PDF")
    assert LabelPurchase.objects.filter(manifest=manifest).count() == 2
    with pytest.raises(services.ManifestError) as refused:
        services.manifest_close(warehouse_code="MAIN", carrier_account="demo-post", actor="manager")
    assert refused.value.status == 409
    assert Manifest.objects.count() == 1


def test_a_manual_delivered_scan_delivers_the_order_once(tenant, django_capture_on_commit_callbacks):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S17")

    assert (
        services.shipment_tracking_event_add(shipment_id=shipment.pk, code="delivered", occurred_at=timezone.now()) == 1
    )
    assert (
        services.shipment_tracking_event_add(shipment_id=shipment.pk, code="delivered", occurred_at=timezone.now()) == 0
    )

    assert Order.objects.get(pk=order.pk).status == Status.DELIVERED
    assert Shipment.objects.get(pk=shipment.pk).status == ShipmentStatus.DELIVERED
    assert TrackingEvent.objects.filter(shipment=shipment, code="delivered").count() == 1


def test_poll_tracking_buys_labels_of_shipments_stuck_in_packed(tenant, django_capture_on_commit_callbacks):
    order, stuck = packed_order(tenant, external_id="S18", lines=[("TEE", 1)])
    _, recent = packed_order(tenant, external_id="S19", lines=[("MUG", 1)])
    Shipment.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(minutes=2))

    with django_capture_on_commit_callbacks(execute=True):
        tasks.poll_tracking()

    stuck.refresh_from_db()
    recent.refresh_from_db()
    assert (stuck.status, stuck.has_label) == (ShipmentStatus.LABEL_PURCHASED, True)
    assert Order.objects.get(pk=order.pk).status == Status.SHIPPED
    assert (recent.status, recent.has_label) == (ShipmentStatus.PACKED, False)


def test_a_rate_sheet_prices_a_light_bulky_parcel_by_its_dim_weight():
    account = CarrierAccount.objects.prefetch_related("services").get(carrier_id="demo-post")
    conn = services.rating.selectors.connection(account)
    party = gateway.Party(line1="1 Main St", city="Toronto", region="ON", postal_code="M5H 1A1", country="CA")
    light_bulky = gateway.Parcel(weight_g=250, length_mm=350, width_mm=250, height_mm=60)  # 1.05 kg by volume

    quotes = {
        q.service_code: q.total_charge
        for q in gateway.rates(conn, shipper=party, recipient=party, parcels=[light_bulky])
    }

    assert quotes["standard"] == Decimal("14.50")  # the 1-5 kg band, not the 0-1 kg one
    assert light_bulky.billable_g(5000) == 1050


def test_a_label_bought_but_never_recorded_is_recorded_by_the_sweep(tenant):
    order, shipment = packed_order(tenant, external_id="S20", lines=[("TEE", 1)])
    bought = LabelPurchase.objects.create(
        tenant=tenant,
        shipment=shipment,
        account=CarrierAccount.objects.get(carrier_id="demo-post"),
        service_code="standard",
        status=PurchaseStatus.BOUGHT,
        tracking_numbers=["123456789012"],
        label=b"^XA^XZ",
        label_type="ZPL",
        quoted_charge=Decimal("9.50"),
        total_charge=Decimal("9.50"),
        currency="CAD",
        started_at=timezone.now() - timedelta(minutes=5),
        finished_at=timezone.now() - timedelta(minutes=5),
    )

    services.purchases_recover()

    shipment.refresh_from_db()
    assert (shipment.tracking_number, shipment.label_zpl) == ("123456789012", "^XA^XZ")
    assert Order.objects.get(pk=order.pk).status == Status.SHIPPED
    assert LabelPurchase.objects.filter(shipment=shipment).get() == bought


def test_recording_a_label_that_loses_a_deadlock_is_tried_again(
    tenant, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import OperationalError

    from shipping.services import labels

    real, calls = labels._record, []

    class Deadlock(Exception):
        sqlstate = "40P01"

    def once_deadlocked(purchase_id, *, now):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("deadlock detected") from Deadlock()
        return real(purchase_id, now=now)

    monkeypatch.setattr(labels, "_record", once_deadlocked)
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S21")

    assert len(calls) == 2
    assert shipment.has_label and Order.objects.get(pk=order.pk).status == Status.SHIPPED


def test_shipping_moves_the_units_in_the_balances_key_order_whatever_the_line_order(
    tenant, monkeypatch, django_capture_on_commit_callbacks
):
    """Two orders sharing products lock their PACKING and V-CUSTOMER balances in one order (by
    product, then lot), so that recording their labels at once cannot deadlock."""
    from orders.services import stages

    moved = []
    real = stages.inventory.stock_transfer

    def recording(**kwargs):
        moved.append(kwargs["product_id"])
        return real(**kwargs)

    monkeypatch.setattr(stages.inventory, "stock_transfer", recording)
    shipped(django_capture_on_commit_callbacks, tenant, external_id="S22", lines=[("MUG", 1), ("TEE", 1)])
    first = list(moved)
    moved.clear()
    shipped(django_capture_on_commit_callbacks, tenant, external_id="S23", lines=[("TEE", 1), ("MUG", 1)])

    assert first == moved == sorted(moved)
    assert len(set(moved)) == 2
