"""The shipping manager pages through the Django test client: shipments (re-print, void, quotes and
buy), the exceptions queue, carrier accounts and end of day."""

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import Client

from fulfillment.tenancy.services import merchant_user_create
from fulfillment.tenancy.tests.factories import TenantFactory, staff_client
from inventory.tests import factories as inv
from orders.models import Order, Status
from packing.models import Shipment, ShipmentStatus
from packing.tests.factories import packed_order
from shipping import services
from shipping.carriers import gateway
from shipping.models import (
    CarrierAccount,
    CarrierService,
    LabelPurchase,
    Manifest,
    PurchaseStatus,
    RateShop,
    ShippingException,
)
from shipping.tests.factories import carrier, shipped, stocked_tenant

pytestmark = pytest.mark.django_db

# A Monday morning in Toronto, before the cut-offs (as in test_services).
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("America/Toronto"))


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(MONDAY, tick=False):
        yield


@pytest.fixture
def main():
    return inv.warehouse("MAIN")


@pytest.fixture
def tenant(main):
    return stocked_tenant(main)


@pytest.fixture
def manager(main):
    return staff_client("mia", "manager", main)


@pytest.fixture
def associate(main):
    return staff_client("sam", "associate", main)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _demo_post() -> CarrierAccount:
    return CarrierAccount.objects.get(carrier_id="demo-post")


def _shipment_state(shipment):
    fresh = Shipment.objects.get(pk=shipment.pk)
    return (
        fresh.status,
        fresh.carrier_code,
        fresh.tracking_number,
        fresh.order.status,
        sorted(LabelPurchase.objects.filter(shipment=shipment).values_list("status", flat=True)),
    )


# -- every page --------------------------------------------------------------------------------


def test_each_page_renders_for_a_manager(manager, tenant, django_capture_on_commit_callbacks):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="P1")
    waiting, _ = packed_order(tenant, external_id="P2", lines=[("TEE", 1)])

    for url in (
        "/shipping/",
        f"/shipping/shipments/{shipment.pk}/",
        "/shipping/exceptions/",
        "/shipping/carriers/",
        "/shipping/carriers/new/",
        "/shipping/end-of-day/",
    ):
        response = manager.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "{%" not in body and "{{" not in body, url

    body = manager.get("/shipping/").content.decode()
    row = re.search(rf'<tr data-shipment="{shipment.pk}".*?</tr>', body, re.S).group(0)
    assert f'href="/orders/{order.pk}/"' in row and shipment.tracking_number in row
    assert "demo-post" in row and "9.50 CAD" in row and "Not yet" in row
    assert f'href="/api/v1/shipments/{shipment.pk}/label.pdf"' in row
    assert f'href="/api/v1/shipments/{shipment.pk}/label.zpl"' in row
    assert f'action="/shipping/shipments/{shipment.pk}/void/"' in row and "data-confirm=" in row
    unlabelled = re.search(rf'<tr data-shipment="[^"]+" data-order="{waiting.number}".*?</tr>', body, re.S).group(0)
    assert "#quotes" in unlabelled and "/void/" not in unlabelled and "label.pdf" not in unlabelled


def test_the_menu_shows_shipping_to_staff_and_carriers_to_managers_only(manager, associate):
    manager_page = manager.get("/shipping/").content.decode()
    associate_page = associate.get("/shipping/").content.decode()

    assert 'href="/shipping/"' in manager.get("/").content.decode()
    assert 'href="/shipping/carriers/"' in manager_page
    assert 'href="/shipping/"' in associate_page and 'href="/shipping/carriers/"' not in associate_page


def test_merchants_may_not_open_the_shipping_pages(associate):
    merchant = Client()
    merchant.force_login(merchant_user_create(tenant=TenantFactory(), username="shop", password="pw-123456789"))

    for url in ("/shipping/", "/shipping/exceptions/", "/shipping/end-of-day/", "/shipping/carriers/"):
        assert merchant.get(url).status_code == 403, url
    for url in ("/shipping/", "/shipping/exceptions/", "/shipping/end-of-day/"):
        assert associate.get(url).status_code == 200, url


def test_associates_may_not_open_or_change_carrier_accounts(associate):
    account = _demo_post()
    before = list(CarrierAccount.objects.values_list("carrier_id", "active", "last_checked_at"))

    assert associate.get("/shipping/carriers/").status_code == 403
    assert associate.get("/shipping/carriers/new/").status_code == 403
    assert associate.post("/shipping/carriers/new/", {"carrier_name": "generic", "carrier_id": "x"}).status_code == 403
    assert associate.post(f"/shipping/carriers/{account.pk}/check/").status_code == 403
    assert associate.post(f"/shipping/carriers/{account.pk}/deactivate/").status_code == 403
    assert associate.get(f"/shipping/carriers/{account.pk}/edit/").status_code == 403
    assert associate.post(f"/shipping/carriers/{account.pk}/edit/", {"display_name": "x"}).status_code == 403
    assert list(CarrierAccount.objects.values_list("carrier_id", "active", "last_checked_at")) == before


def test_another_warehouses_shipment_is_not_found_and_not_listed(manager, django_capture_on_commit_callbacks):
    west = inv.warehouse("WEST")
    other = stocked_tenant(west)
    with django_capture_on_commit_callbacks(execute=True):
        _, shipment = packed_order(other, external_id="W1", lines=[("TEE", 1)], warehouse="WEST")
    before = _shipment_state(shipment)

    assert manager.get(f"/shipping/shipments/{shipment.pk}/").status_code == 404
    assert manager.post(f"/shipping/shipments/{shipment.pk}/void/").status_code == 404
    assert str(shipment.pk) not in manager.get("/shipping/").content.decode()
    assert _shipment_state(shipment) == before


def test_the_list_filters_by_carrier_status_and_day(manager, tenant, django_capture_on_commit_callbacks):
    _, bought = shipped(django_capture_on_commit_callbacks, tenant, external_id="F1")
    _, waiting = packed_order(tenant, external_id="F2", lines=[("TEE", 1)])

    def listed(query):
        body = manager.get(f"/shipping/?{query}").content.decode()
        return {s for s in (bought, waiting) if f'data-shipment="{s.pk}"' in body}

    assert listed("") == {bought, waiting}
    assert listed("carrier=demo-post") == {bought}
    assert listed("status=packed") == {waiting}
    assert listed("date_from=2026-03-02&date_to=2026-03-02") == {bought, waiting}
    assert listed("date_from=2026-03-03") == set()
    assert listed("date_to=2026-03-01") == set()
    assert manager.get("/shipping/?date_from=2026-03-05&date_to=2026-03-01").status_code == 400


# -- re-print and void -------------------------------------------------------------------------


def test_the_label_documents_open_with_a_session_login(manager, tenant, django_capture_on_commit_callbacks):
    _, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="L1")

    pdf = manager.get(f"/api/v1/shipments/{shipment.pk}/label.pdf")
    zpl = manager.get(f"/api/v1/shipments/{shipment.pk}/label.zpl")

    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert b"".join(pdf).startswith(b"%PDF")
    assert zpl.status_code == 200 and b"".join(zpl).startswith(b"^XA")


def test_void_from_the_page_puts_the_order_back_to_packed(manager, tenant, django_capture_on_commit_callbacks):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="V1")
    tracking = shipment.tracking_number

    response = manager.post(f"/shipping/shipments/{shipment.pk}/void/", {"next": "/shipping/?status=packed"})

    assert (response.status_code, response["Location"]) == (302, "/shipping/?status=packed")
    assert _messages(response) == [f"Label {tracking} of order {order.number} voided; the order is packed again."]
    shipment.refresh_from_db()
    assert (shipment.status, shipment.has_label, shipment.tracking_number) == (ShipmentStatus.PACKED, False, "")
    assert Order.objects.get(pk=order.pk).status == Status.PACKED
    assert LabelPurchase.objects.get(shipment=shipment).status == PurchaseStatus.VOIDED


def test_voiding_a_manifested_label_shows_the_refusal_and_changes_nothing(
    manager, tenant, django_capture_on_commit_callbacks
):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="V2")
    services.manifest_close(warehouse_code="MAIN", carrier_account="demo-post", actor="mia")
    before = _shipment_state(shipment)

    response = manager.post(f"/shipping/shipments/{shipment.pk}/void/")

    assert response["Location"] == f"/shipping/shipments/{shipment.pk}/"
    assert _messages(response) == [
        f"Order {order.number}: The label is on a closed manifest (end of day): it has been handed over."
    ]
    assert _shipment_state(shipment) == before
    page = manager.get(f"/shipping/shipments/{shipment.pk}/").content.decode()
    assert "/void/" not in page and "manifest.pdf" in page


# -- quotes and buy ----------------------------------------------------------------------------


def test_buying_from_the_quotes_list_buys_that_quote(manager, tenant):
    fast = carrier("fastco", standard_rate="20.00", days=2)
    order, shipment = packed_order(tenant, external_id="Q1", lines=[("TEE", 2)])  # its purchase never ran

    page = manager.get(f"/shipping/shipments/{shipment.pk}/").content.decode()
    assert "No quotes asked for this shipment yet." in page
    response = manager.post(f"/shipping/shipments/{shipment.pk}/quotes/")
    assert response["Location"] == f"/shipping/shipments/{shipment.pk}/#quotes"
    assert RateShop.objects.filter(shipment=shipment).count() == 1

    page = manager.get(f"/shipping/shipments/{shipment.pk}/").content.decode()
    rows = re.findall(r'<tr data-quote="([^"]+)"( class="chosen")?>', page)
    assert rows == [  # cheapest first
        ("demo-post/standard", ' class="chosen"'),
        ("demo-post/express", ""),
        ("fastco/standard", ""),
    ]
    assert "Cheapest of 3 quotes that arrive by the promised" in page
    fast_row = re.search(r'<tr data-quote="fastco/standard".*?</tr>', page, re.S).group(0)
    assert "20.00 CAD" in fast_row and '<span class="badge ok">yes</span>' in fast_row

    response = manager.post(
        f"/shipping/shipments/{shipment.pk}/buy/", {"carrier_account": str(fast.pk), "service": "standard"}
    )

    shipment.refresh_from_db()
    assert (shipment.carrier_code, shipment.service_code, shipment.rate_amount) == (
        "fastco",
        "standard",
        Decimal("20.00"),
    )
    assert Order.objects.get(pk=order.pk).status == Status.SHIPPED
    assert _messages(response) == [
        f"Label bought for order {order.number}: fastco standard, 20.00 CAD, tracking {shipment.tracking_number}."
    ]
    purchase = LabelPurchase.objects.get(shipment=shipment)
    assert (purchase.account_id, purchase.reason) == (fast.pk, "Chosen by mia: fastco standard.")
    page = manager.get(f"/shipping/shipments/{shipment.pk}/").content.decode()
    assert "Chosen by mia: fastco standard." in page and "/buy/" not in page


def test_buying_a_quote_nobody_offers_shows_the_refusal_and_buys_nothing(manager, tenant):
    order, shipment = packed_order(tenant, external_id="Q2", lines=[("TEE", 1)])
    before = _shipment_state(shipment)

    response = manager.post(
        f"/shipping/shipments/{shipment.pk}/buy/", {"carrier_account": str(_demo_post().pk), "service": "overnight"}
    )

    assert response["Location"] == f"/shipping/shipments/{shipment.pk}/"
    assert _messages(response) == [
        f"Order {order.number}: No quote for demo-post overnight: the service is not offered or cannot carry "
        "these parcels there."
    ]
    assert _shipment_state(shipment) == before


def test_buying_a_second_label_is_refused_and_keeps_the_first(manager, tenant, django_capture_on_commit_callbacks):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="Q3")
    before = _shipment_state(shipment)

    response = manager.post(f"/shipping/shipments/{shipment.pk}/buy/", {})

    assert _messages(response) == [f"Order {order.number}: This shipment has a label already; void it first."]
    assert _shipment_state(shipment) == before


def test_after_a_void_the_page_offers_the_quotes_to_buy_again(manager, tenant, django_capture_on_commit_callbacks):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="Q4")
    manager.post(f"/shipping/shipments/{shipment.pk}/void/")

    page = manager.get(f"/shipping/shipments/{shipment.pk}/").content.decode()
    assert "/buy/" in page and '<tr data-purchase="voided">' in page
    manager.post(
        f"/shipping/shipments/{shipment.pk}/buy/", {"carrier_account": str(_demo_post().pk), "service": "express"}
    )

    shipment.refresh_from_db()
    assert (shipment.service_code, Order.objects.get(pk=order.pk).status) == ("express", Status.SHIPPED)
    assert sorted(LabelPurchase.objects.filter(shipment=shipment).values_list("status", flat=True)) == [
        "bought",
        "voided",
    ]


# -- exceptions ---------------------------------------------------------------------------------


def test_the_exceptions_queue_lists_open_exceptions_and_retries_one(
    manager, tenant, django_capture_on_commit_callbacks
):
    CarrierService.objects.filter(level="same_day").update(active=False)
    order, shipment = packed_order(tenant, external_id="E1", lines=[("TEE", 1)], shipping_method="same_day")
    services.shipment_purchase_label(shipment_id=shipment.pk)
    found = ShippingException.objects.get(shipment=shipment)

    body = manager.get("/shipping/exceptions/").content.decode()
    row = re.search(rf'<tr data-exception="{found.pk}".*?</tr>', body, re.S).group(0)
    assert f'href="/orders/{order.pk}/"' in row and f'href="/shipping/shipments/{shipment.pk}/"' in row
    assert "No carrier quotes it" in row and found.message in row

    CarrierService.objects.filter(level="same_day").update(active=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(f"/shipping/exceptions/{found.pk}/retry/")

    assert _messages(response) == [f"Order {order.number}: the label purchase runs again."]
    found.refresh_from_db()
    assert found.resolution == "retried by mia"
    assert Shipment.objects.get(pk=shipment.pk).service_code == "same_day"
    assert Order.objects.get(pk=order.pk).status == Status.SHIPPED
    assert f'data-exception="{found.pk}"' not in manager.get("/shipping/exceptions/").content.decode()


def test_retrying_a_resolved_exception_shows_the_refusal(manager, tenant):
    CarrierService.objects.filter(level="same_day").update(active=False)
    order, shipment = packed_order(tenant, external_id="E2", lines=[("TEE", 1)], shipping_method="same_day")
    services.shipment_purchase_label(shipment_id=shipment.pk)
    found = ShippingException.objects.get(shipment=shipment)
    services.shipping_exception_retry(exception_id=found.pk, actor="someone")
    found.refresh_from_db()

    response = manager.post(f"/shipping/exceptions/{found.pk}/retry/")

    assert _messages(response) == [f"Order {order.number}: This exception is resolved already."]
    assert ShippingException.objects.get(pk=found.pk).resolution == "retried by someone"


# -- carrier accounts ---------------------------------------------------------------------------


def _account_post(**extra):
    data = {
        "carrier_name": "generic",
        "carrier_id": "local-courier",
        "display_name": "Local Courier",
        "account_country": "CA",
        "test_mode": "on",
        "service-0-code": "standard",
        "service-0-name": "Local Standard",
        "service-0-level": "standard",
        "service-0-transit_days": "3",
        "service-0-currency": "CAD",
        "service-0-zone-0-countries": "CA",
        "service-0-zone-0-min_kg": "0",
        "service-0-zone-0-max_kg": "5",
        "service-0-zone-0-rate": "7.25",
        "service-0-zone-0-transit_days": "",
        "service-0-zone-1-countries": "us, MX",
        "service-0-zone-1-min_kg": "",
        "service-0-zone-1-max_kg": "",
        "service-0-zone-1-rate": "19",
        "service-0-zone-1-transit_days": "6",
        "service-0-zone-2-countries": "",  # a blank row is left out
        "service-0-zone-2-rate": "",
        "service-1-code": "",  # a blank service row too
        "service-1-name": "",
        "service-1-level": "",
        "service-1-transit_days": "",
        "service-1-currency": "CAD",
    }
    data.update(extra)
    return data


def test_adding_a_generic_account_with_a_rate_sheet_from_the_form_creates_it(manager):
    response = manager.post("/shipping/carriers/new/", _account_post())

    assert response["Location"] == "/shipping/carriers/#account-local-courier"
    assert _messages(response) == ["Carrier account local-courier added with 1 service."]
    account = CarrierAccount.objects.get(carrier_id="local-courier")
    assert (account.carrier_name, account.display_name, account.test_mode, account.active) == (
        "generic",
        "Local Courier",
        True,
        True,
    )
    service = account.services.get()
    assert (service.service_code, service.level, service.transit_days, service.currency) == (
        "standard",
        "standard",
        3,
        "CAD",
    )
    assert service.zones == [
        {"country_codes": ["CA"], "min_weight_kg": "0", "max_weight_kg": "5", "rate": "7.25", "transit_days": None},
        {
            "country_codes": ["MX", "US"],
            "min_weight_kg": None,
            "max_weight_kg": None,
            "rate": "19.00",
            "transit_days": 6,
        },
    ]
    page = manager.get("/shipping/carriers/").content.decode()
    assert 'id="account-local-courier"' in page and "Local Standard" in page


def _zone_row(body: str, index: int) -> str:
    """The HTML of the first service's zone row ``index`` on the account form."""
    start = body.index(f'<div class="zone-row" data-zone-row="{index}">')
    return body[start : body.index("</div>\n", start)]


def test_a_bad_zone_shows_the_error_and_creates_nothing(manager):
    before = CarrierAccount.objects.count(), CarrierService.objects.count()

    response = manager.post(
        "/shipping/carriers/new/",
        _account_post(**{"service-0-zone-1-countries": "USA", "service-0-zone-0-max_kg": "0"}),
    )

    assert response.status_code == 422
    assert (CarrierAccount.objects.count(), CarrierService.objects.count()) == before
    body = response.content.decode()
    assert "The carrier account has invalid fields. Nothing was added." in body
    assert "max kg: must be above min_weight_kg" in _zone_row(body, 0)
    assert "countries: must be ISO 3166-1 alpha-2 country codes" in _zone_row(body, 1)
    assert 'role="alert"' not in _zone_row(body, 2)
    # What was typed stays, so that only the mistake needs fixing.
    assert 'value="USA"' in body and 'value="Local Courier"' in body


def test_credentials_are_kept_encrypted_and_never_shown(manager):
    post = {
        "carrier_name": "fedex",
        "carrier_id": "fedex-main",
        "display_name": "FedEx",
        "test_mode": "on",
        "cred-fedex-api_key": "key-SECRET-1",
        "cred-fedex-secret_key": "SECRET-2",
        "service-0-code": "fedex_ground",
        "service-0-name": "FedEx Ground",
        "service-0-level": "standard",
        "service-0-transit_days": "5",
        "service-0-currency": "CAD",
    }

    refused = manager.post("/shipping/carriers/new/", post)  # account_number is missing

    assert refused.status_code == 422
    body = refused.content.decode()
    assert "fedex needs account_number" in body
    assert "SECRET" not in body and not CarrierAccount.objects.filter(carrier_id="fedex-main").exists()

    created = manager.post("/shipping/carriers/new/", {**post, "cred-fedex-account_number": "ACC-SECRET-3"})

    assert created.status_code == 302
    account = CarrierAccount.objects.get(carrier_id="fedex-main")
    assert "SECRET" not in account.credentials_encrypted
    assert "SECRET" not in manager.get("/shipping/carriers/").content.decode()
    form = manager.get("/shipping/carriers/new/").content.decode()
    assert 'type="password" name="cred-fedex-api_key" value=""' in form


def test_test_connection_shows_the_result(manager, monkeypatch):
    account = _demo_post()

    response = manager.post(f"/shipping/carriers/{account.pk}/check/")

    assert response["Location"] == "/shipping/carriers/#account-demo-post"
    [message] = _messages(response)
    assert message.startswith("demo-post: connected.") and "quote" in message
    account.refresh_from_db()
    assert account.last_check_ok is True
    page = manager.get("/shipping/carriers/").content.decode()
    section = page[page.index('id="account-demo-post"') :]
    assert '<span class="badge ok">OK</span>' in section and account.last_check_message in section


def test_a_failed_connection_test_shows_the_carriers_answer(manager, monkeypatch):
    account = carrier("fastco", standard_rate="20.00")

    def refuse(*args, **kwargs):
        raise gateway.CarrierError("fastco: authentication failed", code="unauthorized")

    monkeypatch.setattr(gateway, "rates", refuse)

    response = manager.post(f"/shipping/carriers/{account.pk}/check/")

    assert _messages(response) == ["fastco: the connection failed. fastco: authentication failed."]
    account.refresh_from_db()
    assert (account.last_check_ok, account.last_check_message) == (False, "fastco: authentication failed")


def test_deactivate_and_activate_an_account(manager):
    account = carrier("fastco", standard_rate="20.00")

    response = manager.post(f"/shipping/carriers/{account.pk}/deactivate/")
    assert _messages(response) == ["fastco is deactivated: it no longer quotes or buys labels."]
    assert CarrierAccount.objects.get(pk=account.pk).active is False
    page = manager.get("/shipping/carriers/").content.decode()
    assert f'action="/shipping/carriers/{account.pk}/activate/"' in page

    manager.post(f"/shipping/carriers/{account.pk}/activate/")
    assert CarrierAccount.objects.get(pk=account.pk).active is True


# -- end of day ---------------------------------------------------------------------------------


def test_close_the_day_creates_a_manifest(manager, tenant, django_capture_on_commit_callbacks):
    shipped(django_capture_on_commit_callbacks, tenant, external_id="D1")
    shipped(django_capture_on_commit_callbacks, tenant, external_id="D2", lines=[("MUG", 2)])
    account = _demo_post()

    page = manager.get("/shipping/end-of-day/").content.decode()
    row = re.search(r'<tr data-account="demo-post">.*?</tr>', page, re.S).group(0)
    assert '<td class="num waiting">2</td>' in row and "Close the day" in row

    response = manager.post("/shipping/end-of-day/close/", {"warehouse": "MAIN", "carrier_account": str(account.pk)})

    manifest = Manifest.objects.get()
    assert (manifest.warehouse.code, manifest.account_id, manifest.shipments_count, manifest.created_by) == (
        "MAIN",
        account.pk,
        2,
        "mia",
    )
    assert response["Location"] == f"/shipping/end-of-day/?closed={manifest.pk}"
    assert _messages(response) == ["Day closed at MAIN for Demo Post (rate sheet): 2 shipments, 2 packages."]
    page = manager.get(response["Location"]).content.decode()
    assert f'href="/api/v1/manifests/{manifest.pk}/manifest.pdf"' in page
    assert f'<tr data-manifest="{manifest.pk}">' in page
    row = re.search(r'<tr data-account="demo-post">.*?</tr>', page, re.S).group(0)
    assert '<td class="num waiting">0</td>' in row and "nothing to close" in row
    pdf = manager.get(f"/api/v1/manifests/{manifest.pk}/manifest.pdf")
    assert pdf.status_code == 200 and b"".join(pdf).startswith(b"%PDF")


def test_closing_a_day_with_nothing_waiting_shows_the_refusal(manager):
    response = manager.post(
        "/shipping/end-of-day/close/", {"warehouse": "MAIN", "carrier_account": str(_demo_post().pk)}
    )

    assert response["Location"] == "/shipping/end-of-day/"
    assert _messages(response) == [
        "MAIN · demo-post: Demo Post (rate sheet) has no labels at MAIN waiting for end of day."
    ]
    assert not Manifest.objects.exists()


def test_another_warehouses_day_cannot_be_closed(manager, django_capture_on_commit_callbacks):
    west = inv.warehouse("WEST")
    other = stocked_tenant(west)
    with django_capture_on_commit_callbacks(execute=True):
        packed_order(other, external_id="W2", lines=[("TEE", 1)], warehouse="WEST")

    response = manager.post(
        "/shipping/end-of-day/close/", {"warehouse": "WEST", "carrier_account": str(_demo_post().pk)}
    )

    assert response.status_code == 404
    assert not Manifest.objects.exists()
    assert 'data-warehouse="WEST"' not in manager.get("/shipping/end-of-day/").content.decode()


def test_editing_an_account_changes_its_rate_sheet_and_keeps_blank_credentials(manager):
    manager.post("/shipping/carriers/new/", _account_post())
    account = CarrierAccount.objects.get(carrier_id="local-courier")
    form = manager.get(f"/shipping/carriers/{account.pk}/edit/").content.decode()
    assert 'value="7.25"' in form and "Save changes" in form

    saved = manager.post(
        f"/shipping/carriers/{account.pk}/edit/",
        {
            "display_name": "Local Courier West",
            "test_mode": "on",
            "service-0-code": "standard",
            "service-0-name": "Local Standard",
            "service-0-level": "standard",
            "service-0-transit_days": "2",
            "service-0-currency": "CAD",
            "service-0-zone-0-countries": "CA",
            "service-0-zone-0-rate": "6.50",
        },
    )

    assert saved.status_code == 302
    account.refresh_from_db()
    service = account.services.get()
    assert (account.display_name, account.carrier_name, service.transit_days) == ("Local Courier West", "generic", 2)
    assert [z["rate"] for z in service.zones] == ["6.50"]


def test_a_bad_edit_shows_the_error_and_changes_nothing(manager):
    manager.post("/shipping/carriers/new/", _account_post())
    account = CarrierAccount.objects.get(carrier_id="local-courier")
    zones = account.services.get().zones

    refused = manager.post(
        f"/shipping/carriers/{account.pk}/edit/",
        {
            "display_name": "Renamed",
            "service-0-code": "standard",
            "service-0-level": "standard",
            "service-0-transit_days": "2",
            "service-0-zone-0-countries": "CA",
        },
    )

    assert refused.status_code == 422
    assert "Nothing was changed." in refused.content.decode()
    account.refresh_from_db()
    assert account.display_name == "Local Courier" and account.services.get().zones == zones


def test_a_scan_entered_on_the_page_moves_the_parcel_and_is_marked_as_entered_by_hand(
    manager, tenant, django_capture_on_commit_callbacks
):
    order, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S1")
    url = f"/shipping/shipments/{shipment.pk}/scans/"

    answer = manager.post(
        url,
        {"status": "out_for_delivery", "description": "Driver called", "location": "Ottawa ON",
         "occurred_at": "2026-03-02T08:30"},
    )  # fmt: skip
    page = manager.get(f"/shipping/shipments/{shipment.pk}/")

    assert answer.status_code == 302
    assert Shipment.objects.get(pk=shipment.pk).status == ShipmentStatus.OUT_FOR_DELIVERY
    event = shipment.tracking_events.get(source="manual")
    # 08:30 in the warehouse's time zone (Toronto), an hour and a half before the page was used
    assert event.occurred_at == datetime(2026, 3, 2, 8, 30, tzinfo=ZoneInfo("America/Toronto"))
    html = page.content.decode()
    assert 'id="tracking-status">Out For Delivery' in html and "entered by hand" in html
    assert f"/track/{shipment.public_token}/" in html
    assert "this carrier has no tracking to ask" in html  # the rate sheet is never polled


def test_a_scan_without_a_status_is_refused_and_nothing_is_stored(manager, tenant, django_capture_on_commit_callbacks):
    _, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="S1")
    before = shipment.tracking_events.count()

    answer = manager.post(f"/shipping/shipments/{shipment.pk}/scans/", {"status": "teleported"}, follow=True)

    assert "the scan was not recorded" in answer.content.decode()
    assert shipment.tracking_events.count() == before
    assert Shipment.objects.get(pk=shipment.pk).status == ShipmentStatus.LABEL_PURCHASED
