import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fulfillment.webhooks.models import OutboxEvent
from inventory.models import StockBalance, StockMovement
from inventory.services import ledger_differences
from inventory.tests import factories as inv
from orders import services as orders_services
from orders.models import Order, OrderEvent, Status
from packing.models import Shipment, ShipmentStatus
from packing.tests.factories import packed_order
from packing.tests.pdf import pdf_text
from shipping import services, tasks
from shipping.models import Carrier, ServiceLevel, TrackingEvent
from shipping.tests.factories import carrier, shipped, stocked_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant():
    return stocked_tenant(inv.warehouse())


def _customer_units(tenant_obj) -> int:
    return sum(
        StockBalance.objects.filter(tenant=tenant_obj, location__code="V-CUSTOMER").values_list("on_hand", flat=True)
    )


def test_packing_buys_the_cheapest_label_and_ships_the_order(tenant, django_capture_on_commit_callbacks):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S1")

    assert shipment.status == ShipmentStatus.LABEL_PURCHASED
    assert (shipment.carrier_code, shipment.service_code) == ("sandbox", "standard")
    assert re.fullmatch(r"SBX\d{12}", shipment.tracking_number)
    assert (shipment.rate_amount, shipment.rate_currency) == (Decimal("8.28"), "CAD")
    assert shipment.estimated_delivery_date == order.promised_delivery_date
    label = bytes(shipment.label_pdf)
    assert label.startswith(b"%PDF")
    assert f"TRACKING # {shipment.tracking_number}" in pdf_text(label)
    assert f"^FD{shipment.tracking_number}^FS" in shipment.label_zpl
    assert list(TrackingEvent.objects.filter(shipment=shipment).values_list("code", flat=True)) == ["label_created"]
    assert order.status == Status.SHIPPED
    shipped_event = OrderEvent.objects.get(order=order, to_status="shipped")
    assert shipped_event.data["tracking_number"] == shipment.tracking_number
    assert _customer_units(tenant) == 2
    assert OutboxEvent.objects.filter(type="shipment.tracking_updated").get().data["event"]["code"] == "label_created"
    assert ledger_differences() == []


def test_purchase_label_run_twice_buys_one_label(tenant, django_capture_on_commit_callbacks):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S2")
    movements = StockMovement.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        tasks.purchase_label(shipment_id=str(shipment.pk))
        services.shipment_purchase_label(shipment_id=shipment.pk)

    again = Shipment.objects.get(pk=shipment.pk)
    assert (again.tracking_number, bytes(again.label_pdf)) == (shipment.tracking_number, bytes(shipment.label_pdf))
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 1
    assert OrderEvent.objects.filter(order=order, to_status="shipped").count() == 1
    assert StockMovement.objects.count() == movements
    assert OutboxEvent.objects.filter(type="shipment.tracking_updated").count() == 1


def test_rate_shopping_picks_the_cheapest_carrier_for_the_order_shipping_method(
    tenant, django_capture_on_commit_callbacks
):
    carrier("cheap", standard_base="3.00")
    carrier("dear", standard_base="5.00")

    _, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S3")

    assert (shipment.carrier_code, shipment.service_code, shipment.rate_amount) == (
        "cheap",
        "standard",
        Decimal("3.00"),
    )


def test_inactive_carriers_are_not_rate_shopped(tenant, django_capture_on_commit_callbacks):
    cheap = carrier("cheap", standard_base="3.00")
    Carrier.objects.filter(pk=cheap.pk).update(is_active=False)

    _, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S4")

    assert shipment.carrier_code == "sandbox"


def test_an_express_order_ships_express(tenant, django_capture_on_commit_callbacks):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S5", shipping_method="express")

    assert (shipment.service_code, shipment.rate_amount) == ("express", Decimal("15.63"))
    assert shipment.estimated_delivery_date == order.promised_delivery_date


def test_no_label_is_bought_for_an_order_cancelled_after_packing(tenant, django_capture_on_commit_callbacks):
    order, shipment = packed_order(tenant, external_id="S6", lines=[("TEE", 1)])
    orders_services.order_cancel(order_id=order.pk)

    result = services.shipment_purchase_label(shipment_id=shipment.pk)

    assert (result.status, result.tracking_number, result.has_label) == (ShipmentStatus.PACKED, "", False)
    assert TrackingEvent.objects.count() == 0
    assert Order.objects.get(pk=order.pk).status == Status.CANCELLED
    assert ledger_differences() == []


def test_no_label_is_bought_when_no_carrier_offers_the_shipping_method(tenant):
    order, shipment = packed_order(tenant, external_id="S7", lines=[("TEE", 1)], shipping_method="same_day")
    ServiceLevel.objects.filter(code="same_day").update(is_active=False)

    result = services.shipment_purchase_label(shipment_id=shipment.pk)

    assert (result.status, result.has_label) == (ShipmentStatus.PACKED, False)
    assert Order.objects.get(pk=order.pk).status == Status.PACKED


def test_estimated_delivery_is_the_promise_unless_the_parcel_left_too_late_for_it(tenant):
    order = Order(promised_delivery_date=date(2026, 3, 6))  # a Friday

    on_time = services.estimated_delivery_date(order=order, ship_date=date(2026, 3, 2), transit_business_days=2)
    late = services.estimated_delivery_date(order=order, ship_date=date(2026, 3, 5), transit_business_days=2)
    weekend = services.estimated_delivery_date(order=order, ship_date=date(2026, 3, 7), transit_business_days=0)

    assert on_time == date(2026, 3, 6)
    assert late == date(2026, 3, 9)  # Thursday + 2 weekdays = Monday
    assert weekend == date(2026, 3, 9)  # a Saturday same-day parcel arrives on Monday


def test_tracking_poll_with_step_zero_delivers_the_order_and_a_second_poll_adds_nothing(
    tenant, settings, django_capture_on_commit_callbacks
):
    settings.SANDBOX_CARRIER_STEP_SECONDS = 0
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S8")

    with django_capture_on_commit_callbacks(execute=True):
        added = services.tracking_poll()

    assert added == 3
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED
    assert shipment.delivered_at == shipment.label_purchased_at
    assert order.status == Status.DELIVERED
    assert list(TrackingEvent.objects.filter(shipment=shipment).values_list("code", flat=True)) == [
        "label_created",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    assert [
        e.data["status"] for e in OutboxEvent.objects.filter(type="shipment.tracking_updated").order_by("created_at")
    ] == [
        "label_purchased",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    assert OutboxEvent.objects.filter(type="order.delivered").count() == 1
    events, outbox = TrackingEvent.objects.count(), OutboxEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.tracking_poll() == 0
        assert services.shipment_track(shipment_id=shipment.pk) == 0

    assert (TrackingEvent.objects.count(), OutboxEvent.objects.count()) == (events, outbox)
    assert OrderEvent.objects.filter(order=order, to_status="delivered").count() == 1
    assert ledger_differences() == []


def test_tracking_poll_moves_a_parcel_one_step_per_interval(tenant, settings, django_capture_on_commit_callbacks):
    settings.SANDBOX_CARRIER_STEP_SECONDS = 60
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S9")
    t0 = shipment.label_purchased_at

    assert services.tracking_poll(now=t0 + timedelta(seconds=30)) == 0
    assert services.tracking_poll(now=t0 + timedelta(seconds=61)) == 1
    assert Shipment.objects.get(pk=shipment.pk).status == ShipmentStatus.IN_TRANSIT
    assert services.tracking_poll(now=t0 + timedelta(seconds=125)) == 1
    assert Shipment.objects.get(pk=shipment.pk).status == ShipmentStatus.OUT_FOR_DELIVERY
    assert Order.objects.get(pk=order.pk).status == Status.SHIPPED
    assert services.tracking_poll(now=t0 + timedelta(seconds=190)) == 1

    assert Shipment.objects.get(pk=shipment.pk).status == ShipmentStatus.DELIVERED
    assert Order.objects.get(pk=order.pk).status == Status.DELIVERED


def test_poll_tracking_buys_labels_of_shipments_stuck_in_packed(tenant, settings, django_capture_on_commit_callbacks):
    settings.SANDBOX_CARRIER_STEP_SECONDS = 3600
    # The label task message was lost: packing committed but nothing ran it.
    order, stuck = packed_order(tenant, external_id="S10", lines=[("TEE", 1)])
    _, recent = packed_order(tenant, external_id="S11", lines=[("MUG", 1)])
    Shipment.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(minutes=2))

    with django_capture_on_commit_callbacks(execute=True):
        tasks.poll_tracking()

    stuck.refresh_from_db()
    recent.refresh_from_db()
    assert (stuck.status, stuck.has_label) == (ShipmentStatus.LABEL_PURCHASED, True)
    assert Order.objects.get(pk=order.pk).status == Status.SHIPPED
    assert (recent.status, recent.has_label) == (ShipmentStatus.PACKED, False)


def test_ledger_stays_balanced_after_shipping_several_orders(tenant, settings, django_capture_on_commit_callbacks):
    settings.SANDBOX_CARRIER_STEP_SECONDS = 0
    shipped(django_capture_on_commit_callbacks, tenant, external_id="S12", lines=[("TEE", 3), ("MUG", 2)])
    shipped(django_capture_on_commit_callbacks, tenant, external_id="S13", lines=[("MUG", 30)])

    with django_capture_on_commit_callbacks(execute=True):
        tasks.poll_tracking()

    assert ledger_differences() == []
    assert _customer_units(tenant) == 35
    assert set(Order.objects.values_list("status", flat=True)) == {Status.DELIVERED}
