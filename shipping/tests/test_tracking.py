"""Tracking: karrio's statuses move shipments and orders; out-of-order and duplicate scans; the
poll (batched per account, intervals by status, no starvation, giving up); exceptions; delays.

The carrier is karrio's FedEx connector with ``gateway.track`` answering what a test says (the
recorded FedEx answers themselves are read in test_karrio_carriers.py)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from fulfillment.webhooks.models import OutboxEvent
from inventory.tests import factories as inv
from orders.models import Order, OrderEvent, Status
from packing.models import Shipment, ShipmentStatus
from shipping import services
from shipping.carriers import gateway
from shipping.models import CarrierAccount, TrackingEvent, TrackingState
from shipping.services import tracking
from shipping.tests.factories import shipped, stocked_tenant

pytestmark = pytest.mark.django_db

TORONTO = ZoneInfo("America/Toronto")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=TORONTO)


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def tenant(clock):
    return stocked_tenant(inv.warehouse())


@pytest.fixture
def fedex():
    return CarrierAccount.objects.create(carrier_name="fedex", carrier_id="fedex-main", display_name="FedEx")


def _on_fedex(capture, tenant, external_id, number):
    """A shipped order whose label is FedEx's (bought from the rate sheet, then re-pointed)."""
    order, shipment = shipped(capture, tenant, external_id=external_id)
    Shipment.objects.filter(pk=shipment.pk).update(carrier_code="fedex-main", tracking_number=number)
    shipment.refresh_from_db()
    return order, shipment


def at(hours: float) -> datetime:
    return MONDAY + timedelta(hours=hours)


def push(shipment, code, when, **fields):
    """The carrier pushes a scan a minute after it happened."""
    return services.shipment_tracking_event_add(
        shipment_id=shipment.pk, code=code, occurred_at=when, now=when + timedelta(minutes=1), **fields
    )


def state(shipment) -> TrackingState:
    return TrackingState.objects.get(shipment_id=shipment.pk)


def outbox(type_):
    return list(OutboxEvent.objects.filter(type=type_).order_by("created_at", "id").values_list("data", flat=True))


@pytest.mark.parametrize(
    ("status", "shipment_status", "order_status"),
    [
        ("pending", ShipmentStatus.LABEL_PURCHASED, Status.SHIPPED),
        ("picked_up", ShipmentStatus.IN_TRANSIT, Status.SHIPPED),
        ("in_transit", ShipmentStatus.IN_TRANSIT, Status.SHIPPED),
        ("out_for_delivery", ShipmentStatus.OUT_FOR_DELIVERY, Status.SHIPPED),
        ("delivered", ShipmentStatus.DELIVERED, Status.DELIVERED),
        ("on_hold", ShipmentStatus.IN_TRANSIT, Status.SHIPPED),
        ("delivery_delayed", ShipmentStatus.IN_TRANSIT, Status.SHIPPED),
        ("delivery_failed", ShipmentStatus.EXCEPTION, Status.EXCEPTION),
        ("ready_for_pickup", ShipmentStatus.OUT_FOR_DELIVERY, Status.SHIPPED),
        ("return_to_sender", ShipmentStatus.EXCEPTION, Status.EXCEPTION),
        ("cancelled", ShipmentStatus.LABEL_PURCHASED, Status.SHIPPED),
        ("unknown", ShipmentStatus.LABEL_PURCHASED, Status.SHIPPED),
    ],
)
def test_each_karrio_status_moves_the_shipment_and_the_order(
    tenant, django_capture_on_commit_callbacks, status, shipment_status, order_status
):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S1")

    assert push(shipment, status, at(2), description="Carrier scan") == 1

    assert Shipment.objects.get(pk=shipment.pk).status == shipment_status
    assert Order.objects.get(pk=order.pk).status == order_status
    expected = status if status not in {"pending", "unknown"} else "pending"
    assert state(shipment).status == expected
    assert TrackingEvent.objects.filter(shipment=shipment, status=status, source="push").count() == 1


def test_a_carriers_own_code_is_read_through_its_karrio_connector(tenant, fedex, django_capture_on_commit_callbacks):
    order, shipment = _on_fedex(django_capture_on_commit_callbacks, tenant, "S1", "794699101410")

    push(shipment, "OD", at(30), description="On FedEx vehicle for delivery")
    assert (state(shipment).status, Shipment.objects.get(pk=shipment.pk).status) == (
        "out_for_delivery",
        ShipmentStatus.OUT_FOR_DELIVERY,
    )
    push(shipment, "DL", at(33), description="Delivered")

    assert Order.objects.get(pk=order.pk).status == Status.DELIVERED
    assert list(TrackingEvent.objects.filter(shipment=shipment, source="push").values_list("code", "status")) == [
        ("OD", "out_for_delivery"),
        ("DL", "delivered"),
    ]


def test_an_unreadable_code_is_refused_and_nothing_is_stored(tenant, fedex, django_capture_on_commit_callbacks):
    _, shipment = _on_fedex(django_capture_on_commit_callbacks, tenant, "S1", "794699101410")
    before = TrackingEvent.objects.count()

    with pytest.raises(services.tracking.FieldRefusal) as refused:
        push(shipment, "ZZ-TELEPORTED", at(2))

    assert (refused.value.code, refused.value.field) == ("unknown_status", "code")
    assert TrackingEvent.objects.count() == before
    assert state(shipment).status == "pending"


def test_several_scans_of_one_status_are_kept_and_a_duplicate_is_not(tenant, django_capture_on_commit_callbacks):
    _, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S1")

    assert push(shipment, "in_transit", at(3), location="Mississauga ON") == 1
    assert push(shipment, "in_transit", at(9), location="Kingston ON") == 1
    assert push(shipment, "in_transit", at(9), location="Kingston ON") == 0  # told twice

    assert list(
        TrackingEvent.objects.filter(shipment=shipment, status="in_transit").values_list("location", flat=True)
    ) == ["Mississauga ON", "Kingston ON"]
    assert len(outbox("shipment.tracking_updated")) == 1 + 2  # the label's, then one per new scan


def test_an_older_scan_arriving_late_is_history_and_never_moves_the_status_back(
    tenant, django_capture_on_commit_callbacks
):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S1")
    push(shipment, "out_for_delivery", at(30))
    timeline = OrderEvent.objects.filter(order=order).count()

    assert push(shipment, "in_transit", at(10), location="Kingston ON") == 1

    assert state(shipment).status == "out_for_delivery"
    assert state(shipment).status_at == at(30)
    assert Shipment.objects.get(pk=shipment.pk).status == ShipmentStatus.OUT_FOR_DELIVERY
    assert OrderEvent.objects.filter(order=order).count() == timeline  # no status change to tell
    history = list(TrackingEvent.objects.filter(shipment=shipment).values_list("status", flat=True))
    assert history == ["pending", "in_transit", "out_for_delivery"]  # oldest first


def test_scans_after_delivery_are_history_and_the_parcel_stays_delivered(tenant, django_capture_on_commit_callbacks):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S1")
    push(shipment, "delivered", at(30))

    assert push(shipment, "in_transit", at(31)) == 1
    assert push(shipment, "delivered", at(30)) == 0

    assert state(shipment).status == "delivered"
    assert Order.objects.get(pk=order.pk).status == Status.DELIVERED
    assert state(shipment).next_poll_at is None


def test_a_failed_delivery_puts_the_order_in_exception_once_and_a_delivery_later_clears_it(
    tenant, django_capture_on_commit_callbacks
):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S1")

    push(shipment, "delivery_failed", at(30), description="Nobody home", reason="consignee_not_available")
    push(shipment, "delivery_failed", at(54), description="Nobody home again")

    assert Order.objects.get(pk=order.pk).status == Status.EXCEPTION
    exceptions = outbox("shipment.exception")
    assert len(exceptions) == 1 and exceptions[0]["tracking_status"] == "delivery_failed"
    change = OrderEvent.objects.get(order=order, to_status=Status.EXCEPTION)
    assert "Nobody home" in change.message and "consignee not available" in change.message

    push(shipment, "delivered", at(78))

    assert Order.objects.get(pk=order.pk).status == Status.DELIVERED
    assert Shipment.objects.get(pk=shipment.pk).status == ShipmentStatus.DELIVERED


def test_a_long_hold_puts_the_order_in_exception_and_a_short_one_does_not(
    tenant, clock, django_capture_on_commit_callbacks, settings
):
    settings.TRACKING_ON_HOLD_EXCEPTION_HOURS = 48
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S1")
    push(shipment, "on_hold", at(5), description="Customs delay")

    clock.move_to(at(5 + 47))
    services.tracking.shipments_flag_delays()
    assert Order.objects.get(pk=order.pk).status == Status.SHIPPED

    clock.move_to(at(5 + 49))
    services.tracking.shipments_flag_delays()
    services.tracking.shipments_flag_delays()

    assert Order.objects.get(pk=order.pk).status == Status.EXCEPTION
    assert "more than 48 hours" in state(shipment).reason
    assert len(outbox("shipment.exception")) == 1


def test_a_shipment_that_cannot_keep_its_promise_is_flagged_delayed_once(
    tenant, fedex, django_capture_on_commit_callbacks, monkeypatch
):
    order, shipment = _on_fedex(django_capture_on_commit_callbacks, tenant, "S1", "794699101410")
    promised = Order.objects.get(pk=order.pk).promised_delivery_date
    late = promised + timedelta(days=3)
    answers = [gateway.Tracked("794699101410", "delivery_delayed", False, late, [])]
    monkeypatch.setattr(tracking.gateway, "track", lambda conn, tracking_numbers: answers)

    services.shipment_track(shipment_id=shipment.pk)
    services.shipment_track(shipment_id=shipment.pk)
    services.tracking.shipments_flag_delays()

    assert Shipment.objects.get(pk=shipment.pk).estimated_delivery_date == late
    assert state(shipment).delayed
    delayed = outbox("shipment.delayed")
    assert len(delayed) == 1
    assert (delayed[0]["estimated_delivery_date"], delayed[0]["delayed"]) == (late.isoformat(), True)
    assert OrderEvent.objects.filter(order=order, type="tracking", message__contains="will miss").count() == 1


def test_a_rate_sheet_shipment_past_its_promised_day_is_flagged_by_the_sweep(
    tenant, clock, django_capture_on_commit_callbacks
):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S1")
    promised = Order.objects.get(pk=order.pk).promised_delivery_date

    clock.move_to(datetime.combine(promised, datetime.min.time(), TORONTO) + timedelta(hours=20))
    assert services.tracking.shipments_flag_delays() == 0
    clock.move_to(datetime.combine(promised + timedelta(days=1), datetime.min.time(), TORONTO) + timedelta(hours=9))
    assert services.tracking.shipments_flag_delays() == 1
    assert services.tracking.shipments_flag_delays() == 0

    assert state(shipment).delayed
    assert len(outbox("shipment.delayed")) == 1


def test_a_delivered_shipment_is_never_flagged_late(tenant, clock, django_capture_on_commit_callbacks):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S1")
    push(shipment, "delivered", at(30))
    promised = Order.objects.get(pk=order.pk).promised_delivery_date

    clock.move_to(datetime.combine(promised + timedelta(days=5), datetime.min.time(), TORONTO))
    services.tracking.shipments_flag_delays()

    assert not state(shipment).delayed
    assert outbox("shipment.delayed") == []


def test_out_for_delivery_and_delivered_queue_the_shoppers_emails_once(
    tenant, django_capture_on_commit_callbacks, monkeypatch
):
    tenant.shopper_emails = True
    tenant.save(update_fields=["shopper_emails"])
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S1")
    queued = []
    monkeypatch.setattr(tracking, "enqueue", lambda name, **kwargs: queued.append((name, kwargs["kind"])))

    push(shipment, "out_for_delivery", at(30))
    push(shipment, "in_transit", at(20))  # older: tells nothing
    push(shipment, "delivered", at(33))

    assert queued == [
        ("orders.tasks.send_shopper_email", "out_for_delivery"),
        ("orders.tasks.send_shopper_email", "delivered"),
    ]


# -- polling --------------------------------------------------------------------------------


def _scan(code, hours, location="", status=""):
    return gateway.TrackedEvent(code=code, description=code, occurred_at=at(hours), location=location, status=status)


def test_a_poll_asks_each_account_once_per_batch_and_stores_every_new_scan(
    tenant, fedex, django_capture_on_commit_callbacks, clock, monkeypatch, settings
):
    settings.TRACKING_BATCH_SIZE = {"default": 25, "fedex": 2}
    shipments = [_on_fedex(django_capture_on_commit_callbacks, tenant, f"S{i}", f"79469910141{i}")[1] for i in range(3)]
    calls = []

    def track(conn, tracking_numbers):
        calls.append(list(tracking_numbers))
        return [
            gateway.Tracked(n, "in_transit", False, None, [_scan("PU", 3), _scan("IT", 8, "Kingston ON")])
            for n in tracking_numbers
        ]

    monkeypatch.setattr(tracking.gateway, "track", track)
    clock.move_to(at(7))  # the pending interval (6 h) has passed

    assert services.tracking_poll() == 6

    assert sorted(len(c) for c in calls) == [1, 2]
    for shipment in shipments:
        current = state(shipment)
        assert (current.status, current.last_polled_at) == ("in_transit", at(7))
        assert current.next_poll_at == at(7) + tracking.POLL_EVERY["in_transit"]
    calls.clear()
    assert services.tracking_poll() == 0 and calls == []  # nothing due yet


def test_the_longest_overdue_shipments_are_polled_first_so_none_starves(
    tenant, fedex, django_capture_on_commit_callbacks, clock, monkeypatch
):
    first, second = (
        _on_fedex(django_capture_on_commit_callbacks, tenant, f"S{i}", f"79469910141{i}")[1] for i in range(2)
    )
    TrackingState.objects.filter(shipment_id=second.pk).update(next_poll_at=at(1))
    TrackingState.objects.filter(shipment_id=first.pk).update(next_poll_at=at(2))
    asked = []
    monkeypatch.setattr(tracking.gateway, "track", lambda conn, tracking_numbers: asked.extend(tracking_numbers) or [])
    clock.move_to(at(3))

    services.tracking_poll(limit=1)
    services.tracking_poll(limit=1)

    assert asked == [second.tracking_number, first.tracking_number]


def test_polling_stops_after_thirty_days_without_news(
    tenant, fedex, django_capture_on_commit_callbacks, clock, monkeypatch, settings
):
    settings.TRACKING_GIVE_UP_DAYS = 30
    _, shipment = _on_fedex(django_capture_on_commit_callbacks, tenant, "S1", "794699101410")
    monkeypatch.setattr(
        tracking.gateway,
        "track",
        lambda conn, tracking_numbers: [gateway.Tracked(tracking_numbers[0], "in_transit", False, None, [])],
    )

    clock.move_to(at(24 * 29))
    services.tracking_poll()
    assert state(shipment).next_poll_at is not None
    clock.move_to(at(24 * 31))
    services.tracking_poll()

    assert state(shipment).next_poll_at is None
    assert tracking.selectors.shipments_due_for_tracking(now=at(24 * 40)) == []


def test_a_failing_carrier_is_asked_again_later_and_does_not_hold_back_the_others(
    tenant, fedex, django_capture_on_commit_callbacks, clock, monkeypatch
):
    ups = CarrierAccount.objects.create(carrier_name="ups", carrier_id="ups-main", display_name="UPS")
    _, on_fedex = _on_fedex(django_capture_on_commit_callbacks, tenant, "S1", "794699101410")
    _, on_ups = shipped(django_capture_on_commit_callbacks, tenant, external_id="S2")
    Shipment.objects.filter(pk=on_ups.pk).update(carrier_code=ups.carrier_id, tracking_number="1Z0A1B2C0412345678")

    def track(conn, tracking_numbers):
        if conn.carrier_name == "fedex":
            raise gateway.CarrierError("FedEx is down", code="carrier_unavailable", retryable=True)
        return [gateway.Tracked(tracking_numbers[0], "in_transit", False, None, [_scan("I", 5, status="in_transit")])]

    monkeypatch.setattr(tracking.gateway, "track", track)
    clock.move_to(at(7))

    assert services.tracking_poll() == 1

    assert state(on_ups).status == "in_transit"
    failed = state(on_fedex)
    assert (failed.status, failed.poll_failures) == ("pending", 1)
    assert failed.next_poll_at == at(7) + tracking.RETRY_AFTER_FAILURE


def test_delivered_in_a_poll_delivers_the_order_and_stops_polling(
    tenant, fedex, django_capture_on_commit_callbacks, clock, monkeypatch
):
    order, shipment = _on_fedex(django_capture_on_commit_callbacks, tenant, "S1", "794699101410")
    monkeypatch.setattr(
        tracking.gateway,
        "track",
        lambda conn, tracking_numbers: [
            gateway.Tracked(
                tracking_numbers[0], "delivered", True, date(2026, 3, 4), [_scan("OD", 50), _scan("DL", 53)]
            )
        ],
    )
    clock.move_to(at(60))

    services.tracking_poll()

    assert Order.objects.get(pk=order.pk).status == Status.DELIVERED
    assert Shipment.objects.get(pk=shipment.pk).delivered_at == at(53)
    assert state(shipment).next_poll_at is None
    assert tracking.selectors.shipments_due_for_tracking(now=at(100)) == []


def test_a_kind_the_merchant_opted_out_of_is_not_even_queued(tenant, django_capture_on_commit_callbacks, monkeypatch):
    tenant.shopper_emails = True
    tenant.shopper_email_opt_out = ["out_for_delivery"]
    tenant.save(update_fields=["shopper_emails", "shopper_email_opt_out"])
    _, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S1")
    queued = []
    monkeypatch.setattr(tracking, "enqueue", lambda name, **kwargs: queued.append(kwargs["kind"]))

    push(shipment, "out_for_delivery", at(30))
    push(shipment, "delivered", at(33))

    assert queued == ["delivered"]
