"""Shopper e-mails through the real chain: packed, label bought, order shipped, then the tracking
e-mails (out for delivery, delivered, delayed), each branded with the merchant's colour and logo and
linking to the shipment's public tracking page.

Lives outside orders/ because it builds the shipment with the packing and shipping test helpers (the
orders package may not import later stages, its tests included).
"""

import hashlib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from fulfillment.tenancy import services as tenancy_services
from fulfillment.tenancy.models import Tenant
from fulfillment.tenancy.tests.factories import image_bytes
from inventory.models import Warehouse
from inventory.tests.factories import warehouse
from orders import notifications, tasks
from orders.models import Order, OrderEvent, Status
from packing.models import Shipment, ShipmentStatus
from packing.tests.factories import ensure_default_boxes
from shipping import services as shipping_services
from shipping.tests.factories import ensure_default_carrier, shipped, stocked_tenant

pytestmark = pytest.mark.django_db

# A Monday morning in Toronto, before the cut-offs (as the shipping tests).
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("America/Toronto"))
BASE = "https://shop.example"
TRACKING_KINDS = ["out_for_delivery", "delivered", "delayed"]


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(MONDAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def _public_base_url(settings):
    settings.PUBLIC_BASE_URL = BASE


@pytest.fixture
def tenant():
    ensure_default_boxes()
    ensure_default_carrier()
    shop = stocked_tenant(warehouse("MAIN"))
    shop.name, shop.shopper_emails, shop.email_from = "Acme Outfitters", True, "hello@acme.test"
    shop.save(update_fields=["name", "shopper_emails", "email_from"])
    return shop


@pytest.fixture
def branded(tenant):
    """acme's green and its logo; answers the logo's absolute, versioned URL."""
    logo = image_bytes()
    tenancy_services.tenant_branding_update(tenant_id=tenant.pk, brand_color="#0a7e3b", logo=logo)
    return f"{BASE}/brand/{tenant.slug}/logo?v={hashlib.sha256(logo).hexdigest()[:12]}"


def send(order, kind):
    return tasks.send_shopper_email.apply(kwargs={"order_id": str(order.pk), "kind": kind}).get()


def sent_kinds(order):
    return list(
        OrderEvent.objects.filter(order=order, type="email_sent").order_by("created_at").values_list("data", flat=True)
    )


def tracking_url(shipment):
    return f"{BASE}/track/{shipment.public_token}/"


def set_shipment(shipment, **fields):
    Shipment.objects.filter(pk=shipment.pk).update(**fields)
    shipment.refresh_from_db()


def as_kind(shipment, kind):
    """The shipment in the state the tracking service leaves it in before it queues ``kind``."""
    if kind == "out_for_delivery":
        set_shipment(shipment, status=ShipmentStatus.OUT_FOR_DELIVERY)
    elif kind == "delivered":
        set_shipment(shipment, status=ShipmentStatus.DELIVERED, delivered_at=timezone.now())
    else:
        set_shipment(shipment, status=ShipmentStatus.IN_TRANSIT, estimated_delivery_date=date(2026, 3, 13))


@pytest.fixture
def parcel(tenant, django_capture_on_commit_callbacks, mailoutbox):
    """A shipped order of acme's (its confirmation and shipped e-mails sent and cleared)."""
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="SHOP-7", lines=(("TEE", 2),))
    assert [m.subject for m in mailoutbox] == [
        "Acme Outfitters: order SHOP-7 confirmed",
        "Acme Outfitters: order SHOP-7 has shipped",
    ]
    mailoutbox.clear()
    return order, shipment


def test_shipped_email_carries_the_carrier_service_tracking_number_and_link(
    tenant, branded, mailoutbox, django_capture_on_commit_callbacks
):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="SHOP-7", lines=(("TEE", 2),))

    assert order.status == Status.SHIPPED
    assert shipment.tracking_number
    assert [m.subject for m in mailoutbox] == [
        "Acme Outfitters: order SHOP-7 confirmed",
        "Acme Outfitters: order SHOP-7 has shipped",
    ]
    mail = mailoutbox[1]
    assert mail.to == ["Ada Lovelace <ada@example.com>"]
    html = mail.alternatives[0][0]
    for text in (mail.body, html):
        assert shipment.tracking_number in text
        assert shipment.carrier_code.upper() in text
        assert shipment.service_code in text
        assert "Red tee" in text
        assert tracking_url(shipment) in text
    assert f"Tracking number: {shipment.tracking_number}" in mail.body
    assert f"Track your parcel: {tracking_url(shipment)}" in mail.body
    assert f'href="{tracking_url(shipment)}"' in html
    assert f'<img src="{branded}" alt="Acme Outfitters"' in html
    assert "border-top:4px solid #0A7E3B" in html
    assert sent_kinds(order) == [
        {"kind": "confirmation", "to": "ada@example.com"},
        {"kind": "shipped", "to": "ada@example.com"},
    ]


def test_no_shipped_email_when_the_tenant_has_emails_off(tenant, mailoutbox, django_capture_on_commit_callbacks):
    tenant.shopper_emails = False
    tenant.save(update_fields=["shopper_emails"])
    order, _ = shipped(django_capture_on_commit_callbacks, tenant, external_id="SHOP-8")
    assert order.status == Status.SHIPPED
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("kind", "subject", "says"),
    [
        ("out_for_delivery", "Acme Outfitters: order SHOP-7 is out for delivery", "is out for delivery"),
        ("delivered", "Acme Outfitters: order SHOP-7 has been delivered", "has been delivered"),
        ("delayed", "Acme Outfitters: order SHOP-7 is delayed", "we are sorry"),
    ],
)
def test_each_tracking_email_is_sent_once_with_the_tracking_link_and_the_merchants_branding(
    parcel, branded, mailoutbox, kind, subject, says
):
    order, shipment = parcel
    as_kind(shipment, kind)

    assert send(order, kind) == "sent"
    assert send(order, kind) == "already_sent"

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.subject == subject
    assert mail.from_email == "Acme Outfitters <hello@acme.test>"
    assert mail.to == ["Ada Lovelace <ada@example.com>"]
    html, mime = mail.alternatives[0]
    assert mime == "text/html"
    for text in (mail.body, html):
        assert "Hello Ada Lovelace," in text
        assert says in text
        assert "SHOP-7" in text and order.number in text
        assert shipment.tracking_number in text
        assert tracking_url(shipment) in text
        assert "Acme Outfitters" in text
        # Only the shopper's name: no address, phone or item list in a tracking e-mail.
        for private in (order.ship_to["line1"], order.ship_to["postal_code"], order.ship_to["phone"], "Red tee"):
            assert private not in text
    assert f'href="{tracking_url(shipment)}"' in html
    assert f'<img src="{branded}" alt="Acme Outfitters"' in html
    assert "border-top:4px solid #0A7E3B" in html
    assert "background:#0A7E3B;color:#FFFFFF" in html  # the link button, white on the merchant's green
    assert sent_kinds(order)[-1] == {"kind": kind, "to": "ada@example.com"}
    assert [e["kind"] for e in sent_kinds(order)].count(kind) == 1


def test_delivered_says_when_in_the_warehouses_time_zone(parcel, mailoutbox):
    order, shipment = parcel
    Warehouse.objects.filter(pk=shipment.warehouse_id).update(timezone="America/Vancouver")
    set_shipment(
        shipment, status=ShipmentStatus.DELIVERED, delivered_at=datetime(2026, 3, 6, 19, 5, tzinfo=ZoneInfo("UTC"))
    )

    assert send(order, "delivered") == "sent"

    mail = mailoutbox[0]
    assert "Delivered: Friday, March 6, 2026 at 11:05 AM PST" in mail.body
    assert "Delivered: <strong>Friday, March 6, 2026 at 11:05 AM PST</strong>" in mail.alternatives[0][0]


def test_delayed_apologises_and_gives_the_new_estimate(parcel, mailoutbox):
    order, shipment = parcel
    set_shipment(shipment, status=ShipmentStatus.IN_TRANSIT, estimated_delivery_date=date(2026, 3, 13))

    assert send(order, "delayed") == "sent"

    mail = mailoutbox[0]
    promised = order.promised_delivery_date.strftime("%A, %B %-d, %Y")
    assert f"will not arrive by {promised} as we promised" in mail.body
    assert "New estimated delivery: Friday, March 13, 2026" in mail.body
    assert "We apologise for the wait." in mail.body
    html = mail.alternatives[0][0]
    assert "New estimated delivery: <strong>Friday, March 13, 2026</strong>" in html
    assert "We apologise for the wait." in html


def test_delayed_without_a_new_estimate_says_none_is_known_yet(parcel, mailoutbox):
    order, shipment = parcel
    set_shipment(shipment, status=ShipmentStatus.IN_TRANSIT, estimated_delivery_date=None)

    assert send(order, "delayed") == "sent"

    assert "The carrier has not given a new delivery date yet" in mailoutbox[0].body
    assert "New estimated delivery" not in mailoutbox[0].body


def test_without_a_brand_colour_or_logo_the_email_shows_the_name_in_the_default_colour(parcel, mailoutbox):
    order, shipment = parcel
    as_kind(shipment, "out_for_delivery")

    assert send(order, "out_for_delivery") == "sent"

    html = mailoutbox[0].alternatives[0][0]
    assert "<img" not in html
    assert '<p style="margin:0;font-size:18px;font-weight:700;">Acme Outfitters</p>' in html
    assert f"border-top:4px solid {notifications.DEFAULT_BRAND_COLOR}" in html


def test_a_light_brand_colour_gets_dark_text_on_the_tracking_button(parcel, mailoutbox):
    order, shipment = parcel
    tenancy_services.tenant_branding_update(tenant_id=order.tenant_id, brand_color="#FFE066")
    as_kind(shipment, "out_for_delivery")

    send(order, "out_for_delivery")

    assert "background:#FFE066;color:#1F2328" in mailoutbox[0].alternatives[0][0]


@pytest.mark.parametrize("kind", TRACKING_KINDS)
def test_a_kind_the_merchant_opted_out_of_is_not_sent(parcel, mailoutbox, kind):
    order, shipment = parcel
    Tenant.objects.filter(pk=order.tenant_id).update(shopper_email_opt_out=[kind])
    as_kind(shipment, kind)

    assert send(order, kind) == "disabled"

    assert mailoutbox == []
    assert kind not in [e["kind"] for e in sent_kinds(order)]
    other = "out_for_delivery" if kind == "delayed" else "delayed"
    assert send(order, other) == "sent"  # a kind not opted out still goes


@pytest.mark.parametrize("kind", TRACKING_KINDS)
def test_no_tracking_email_for_a_cancelled_order(parcel, mailoutbox, kind):
    order, shipment = parcel
    as_kind(shipment, kind)
    Order.objects.filter(pk=order.pk).update(status=Status.CANCELLED)

    assert send(order, kind) == "cancelled"

    assert mailoutbox == []
    assert kind not in [e["kind"] for e in sent_kinds(order)]


def test_out_for_delivery_is_not_sent_once_the_parcel_was_delivered(parcel, mailoutbox):
    order, shipment = parcel
    as_kind(shipment, "delivered")

    assert send(order, "out_for_delivery") == "already_delivered"
    assert send(order, "delivered") == "sent"

    assert [m.subject for m in mailoutbox] == ["Acme Outfitters: order SHOP-7 has been delivered"]


def test_tracking_scans_send_out_for_delivery_then_delivered_once_each(
    parcel, mailoutbox, django_capture_on_commit_callbacks
):
    order, shipment = parcel
    now = timezone.now()

    for code, at in [("out_for_delivery", now), ("delivered", now + timedelta(hours=3))]:
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            assert (
                shipping_services.shipment_tracking_event_add(shipment_id=shipment.pk, code=code, occurred_at=at) == 1
            )
    assert send(order, "delivered") == "already_sent"  # the same message delivered twice

    assert [m.subject for m in mailoutbox] == [
        "Acme Outfitters: order SHOP-7 is out for delivery",
        "Acme Outfitters: order SHOP-7 has been delivered",
    ]
    assert tracking_url(shipment) in mailoutbox[1].body
    assert "Delivered: Monday, March 2, 2026 at 12:00 PM EST" in mailoutbox[1].body
    assert [e["kind"] for e in sent_kinds(order)] == ["confirmation", "shipped", "out_for_delivery", "delivered"]


@pytest.mark.urls("tests.urls_public_tracking")
def test_the_link_follows_the_public_tracking_url_name_where_it_is_installed(parcel, mailoutbox):
    order, shipment = parcel
    as_kind(shipment, "out_for_delivery")

    send(order, "out_for_delivery")

    assert notifications.tracking_path(shipment.public_token) == f"/t/{shipment.public_token}/"
    assert f"Track your parcel: {BASE}/t/{shipment.public_token}/" in mailoutbox[0].body
