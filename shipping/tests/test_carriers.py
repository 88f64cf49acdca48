import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from inventory.tests import factories as inv
from packing.tests.factories import packed_order
from shipping.carriers.base import CarrierClient, CarrierError, Rate
from shipping.carriers.registry import client_for
from shipping.carriers.sandbox import SandboxCarrier
from shipping.models import Carrier
from shipping.tests.factories import ensure_sandbox_carrier, stocked_tenant

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def sandbox():
    return client_for(Carrier.objects.get(code="sandbox"))


@pytest.fixture
def shipment():
    tenant = stocked_tenant(inv.warehouse())
    _, packed = packed_order(tenant, external_id="C1", lines=[("TEE", 2)])  # one BOX-S of 650 g
    return packed


def test_the_sandbox_migration_creates_the_carrier_with_three_services_once():
    Carrier.objects.all().delete()

    ensure_sandbox_carrier()
    ensure_sandbox_carrier()

    carrier = Carrier.objects.get()

    assert (carrier.kind, carrier.is_active) == ("sandbox", True)
    assert list(carrier.services.values_list("code", "transit_business_days", "base_rate", "per_kg_rate")) == [
        ("same_day", 0, Decimal("24.00"), Decimal("3.00")),
        ("express", 2, Decimal("14.00"), Decimal("2.50")),
        ("standard", 5, Decimal("7.50"), Decimal("1.20")),
    ]


def test_registry_gives_the_client_of_the_carrier_kind(sandbox):
    assert isinstance(sandbox, SandboxCarrier)
    assert isinstance(sandbox, CarrierClient)
    with pytest.raises(CarrierError):
        client_for(Carrier(code="x", name="X", kind="karrio"))


def test_sandbox_rates_are_base_plus_per_kg_for_each_package(sandbox, shipment):
    rates = sandbox.rates(shipment, list(shipment.packages.all()))

    assert rates == [
        Rate("sandbox", "express", "Sandbox Express", Decimal("15.63"), "CAD", 2),
        Rate("sandbox", "same_day", "Sandbox Same Day", Decimal("25.95"), "CAD", 0),
        Rate("sandbox", "standard", "Sandbox Standard", Decimal("8.28"), "CAD", 5),
    ]


def test_sandbox_labels_have_unique_sbx_tracking_numbers(sandbox, shipment):
    rate = sandbox.rates(shipment, list(shipment.packages.all()))[0]

    first = sandbox.buy_label(shipment, rate)
    second = sandbox.buy_label(shipment, rate)

    assert re.fullmatch(r"SBX\d{12}", first.tracking_number)
    assert re.fullmatch(r"SBX\d{12}", second.tracking_number)
    assert first.tracking_number != second.tracking_number
    assert first.label_pdf.startswith(b"%PDF")
    assert first.label_zpl.startswith("^XA")


def test_sandbox_tracking_advances_one_step_per_interval(sandbox, settings):
    settings.SANDBOX_CARRIER_STEP_SECONDS = 60

    def codes(seconds):
        return [u.code for u in sandbox.track("SBX000000000001", T0, now=T0 + timedelta(seconds=seconds))]

    assert codes(59) == ["label_created"]
    assert codes(60) == ["label_created", "in_transit"]
    assert codes(120) == ["label_created", "in_transit", "out_for_delivery"]
    assert codes(180) == ["label_created", "in_transit", "out_for_delivery", "delivered"]
    assert sandbox.track("SBX000000000001", T0, now=T0 + timedelta(seconds=500))[-1].occurred_at == T0 + timedelta(
        seconds=180
    )


def test_sandbox_tracking_with_step_zero_delivers_at_once(sandbox, settings):
    settings.SANDBOX_CARRIER_STEP_SECONDS = 0

    updates = sandbox.track("SBX000000000001", T0, now=T0)

    assert [(u.code, u.occurred_at) for u in updates] == [
        ("label_created", T0),
        ("in_transit", T0),
        ("out_for_delivery", T0),
        ("delivered", T0),
    ]


def test_sandbox_refuses_to_track_a_foreign_tracking_number(sandbox):
    with pytest.raises(CarrierError):
        sandbox.track("1Z999AA10123456784", T0, now=T0)
