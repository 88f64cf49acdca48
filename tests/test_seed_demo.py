import io
import re

import pytest
from django.core.management import call_command
from django.test import Client

from inventory.models import StockBalance, Warehouse
from inventory.selectors import warehouse_address, warehouse_address_missing
from inventory.services import ledger_differences
from orders.models import Order, OrderEvent, Status
from packing.models import MaterialAlert, MaterialBalance, MaterialMovement, ShipmentStatus
from shipping.models import TrackingEvent, TrackingState

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_demo_creates_orders_in_every_state_and_prints_working_keys(api_as):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    statuses = set(Order.objects.values_list("status", flat=True))
    expected = {Status.ON_HOLD, Status.BACKORDERED, Status.ALLOCATED, Status.PICKING, Status.PICKED, Status.SHIPPED}
    assert expected | {Status.DELIVERED, Status.CANCELLED} <= statuses
    assert ledger_differences() == []
    # Materials: opening stock received through the ledger, then used by the packs; one low to show.
    opening = dict(MaterialMovement.objects.filter(reason="received").values_list("material__code", "quantity_delta"))
    assert opening["BOX-S"] == 250 and len(opening) == 8
    used = -sum(MaterialMovement.objects.filter(reason="consumed").values_list("quantity_delta", flat=True))
    balances = sum(MaterialBalance.objects.values_list("on_hand", flat=True))
    assert used > 0 and balances == sum(opening.values()) - used
    assert list(MaterialAlert.objects.filter(resolved_at__isnull=True).values_list("material__code", flat=True)) == [
        "CARTON-XL"
    ]
    # acme's FLYER-01 went into each of its packed orders from PACKING.
    packed_acme = Order.objects.filter(tenant__slug="acme", shipments__isnull=False).count()
    assert OrderEvent.objects.filter(type="insert_added", order__tenant__slug="acme").count() == packed_acme == 2
    flyers = StockBalance.objects.filter(product__sku="FLYER-01", location__code="PACKING").get()
    assert flyers.on_hand == 200 - packed_acme
    # Tracking: a parcel on its way with its scans, and one flagged delayed (the late page's).
    moving = TrackingEvent.objects.filter(shipment__order__external_id="DEMO-GLOBEX-1", status="in_transit")
    assert moving.count() == 3
    delayed = TrackingState.objects.filter(delayed_at__isnull=False).select_related("shipment__order")
    assert [s.shipment.order.external_id for s in delayed] == ["DEMO-GLOBEX-2"]
    assert delayed[0].status == "delivery_delayed" and delayed[0].shipment.status == ShipmentStatus.IN_TRANSIT
    manager = Client()
    assert manager.login(username="manager", password="demo-pass-123")
    late_page = manager.get("/shipping/late/").content.decode()
    late_table = re.search(r'<table[^>]*id="late-shipments".*?</table>', late_page, re.S).group(0)
    assert f'data-shipment="{delayed[0].shipment_id}"' in late_table and "Delayed by weather" in late_table
    # The demo warehouse (Toronto's time zone) ships from a complete address near Toronto.
    warehouse = Warehouse.objects.get(code="MAIN")
    assert warehouse_address_missing(warehouse) == []
    assert warehouse_address(warehouse)["postal_code"] == "L5T 2Z5" and warehouse.timezone == "America/Toronto"
    text = out.getvalue()
    assert "manager / demo-pass-123" in text
    key = re.search(r"acme: (fk_\S+)", text).group(1)
    listed = api_as(key).get("/api/v1/orders/").json()["results"]
    assert listed and all(o["external_id"].startswith("DEMO-ACME") for o in listed)
    branding = api_as(key).get("/api/v1/branding/").json()
    assert (branding["brand_color"], branding["logo_content_type"]) == ("#C2410C", "image/png")
    assert branding["slip_message"].startswith("Thanks for shopping")
    assert any(o["gift_message"] for o in listed)


def test_seed_demo_runs_twice_without_duplicating(api_as):
    call_command("seed_demo", stdout=io.StringIO())
    count = Order.objects.count()
    out = io.StringIO()
    call_command("seed_demo", "--base-url", "http://127.0.0.1:8011/", stdout=out)
    assert Order.objects.count() == count
    assert "already present" in out.getvalue()
    # The logins printed point where `make run PORT=8011` serves the app.
    assert "Demo logins (web: http://127.0.0.1:8011/login/)" in out.getvalue()
    assert "Merchant portal logins (web: http://127.0.0.1:8011/portal/)" in out.getvalue()
