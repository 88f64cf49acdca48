"""Prepaid return labels: bought on the policy's carrier account as karrio return shipments (the
rate sheet, and FedEx against its recorded answers), refused with nothing written, tracked by poll
and by pushed scans; the policy's label account, service and exchange trust by API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest.mock import patch

import pytest
import time_machine
from django.core import mail

from fulfillment.tenancy.models import Tenant
from fulfillment.tenancy.tests.factories import staff_with_token, tenant_with_key
from inventory.models import Warehouse
from orders.models import OrderEvent
from returns import services
from returns.models import LabelStatus, Return, ReturnLabel, ReturnPolicy, ReturnStatus
from shipping import selectors as shipping_selectors
from shipping import services as shipping_services
from shipping.carriers import gateway
from shipping.models import CarrierAccount
from shipping.tests.factories import ensure_default_carrier

pytestmark = pytest.mark.django_db

RECORDED = Path(__file__).resolve().parents[2] / "shipping" / "tests" / "recorded"
FEDEX = {"api_key": "key-123", "secret_key": "s3cret-value", "account_number": "510087000"}
NOW = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _fresh_gateways():
    gateway.forget()
    yield
    gateway.forget()


@pytest.fixture
def addressed(shop):
    Warehouse.objects.filter(pk=shop.wh.pk).update(
        company_name="Acme Fulfilment",
        contact_name="Returns desk",
        address_line1="100 Logistics Dr",
        city="Mississauga",
        region="ON",
        postal_code="L5T 2Z5",
        phone="9055550100",
    )
    return shop


def _policy(shop, account: str, service: str) -> ReturnPolicy:
    return services.return_policy_update(
        tenant_id=shop.tenant.pk, changes=services.PolicyInput(label_account=account, label_service=service)
    )


@pytest.fixture
def rate_sheet(addressed):
    ensure_default_carrier()
    _policy(addressed, "demo-post", "standard")
    return addressed


def _rma(shop, quantity: int = 1) -> Return:
    return services.return_create(
        tenant_id=shop.tenant.pk,
        order_id=shop.order.pk,
        lines=[{"sku": "TEE-RED-M", "quantity": quantity, "reason": "Too small"}],
    )


def _fedex_account() -> CarrierAccount:
    account = shipping_services.carrier_account_create(
        carrier_name="fedex",
        carrier_id="fedex-main",
        credentials=FEDEX,
        services=[{"service_code": "fedex_ground", "level": "standard", "transit_days": 3}],
    )
    conn = shipping_selectors.connection(CarrierAccount.objects.get(pk=account.pk))
    expiry = datetime.now() + timedelta(days=2)  # past the polls below
    gateway.token_cache(conn).set(
        f"fedex|{FEDEX['api_key']}|{FEDEX['secret_key']}",
        {"access_token": "recorded", "expiry": expiry.strftime("%Y-%m-%d %H:%M:%S")},
    )
    return account


@pytest.fixture
def fedex(addressed):
    _fedex_account()
    _policy(addressed, "fedex-main", "fedex_ground")
    with patch("karrio.lib.request") as carrier_request:
        yield addressed, carrier_request


def recorded(carrier: str, name: str) -> str:
    return (RECORDED / carrier / name).read_text()


# -- buying -------------------------------------------------------------------------------------


def test_a_rate_sheet_return_label_is_bought_from_the_shopper_to_the_warehouse(rate_sheet):
    rma = _rma(rate_sheet)

    label = services.return_label_issue(return_id=rma.pk, actor="shopper")

    rma.refresh_from_db()
    assert rma.status == ReturnStatus.LABEL_ISSUED
    assert (label.account.carrier_id, label.service_code, label.status) == ("demo-post", "standard", "issued")
    assert len(label.tracking_number) == 12 and label.tracking_number.isdigit()
    assert bytes(label.label).startswith(b"%PDF") and label.label_type == "PDF"
    assert label.next_poll_at is None  # the rate sheet cannot be asked: its scans are pushed
    note = OrderEvent.objects.get(order=rate_sheet.order, type="return_label_issued")
    assert note.data["tracking_number"] == label.tracking_number and rma.number in note.message
    assert services.return_label_document(rma=rma) == bytes(label.label)


def test_a_second_issue_answers_the_label_already_bought(rate_sheet):
    rma = _rma(rate_sheet)
    first = services.return_label_issue(return_id=rma.pk)

    again = services.return_label_issue(return_id=rma.pk)

    assert again.tracking_number == first.tracking_number
    assert ReturnLabel.objects.count() == 1
    assert OrderEvent.objects.filter(type="return_label_issued").count() == 1


def test_without_a_label_account_the_rma_stays_requested_without_a_label(addressed):
    rma = _rma(addressed)

    assert services.return_label_issue(return_id=rma.pk) is None

    rma.refresh_from_db()
    assert rma.status == ReturnStatus.REQUESTED and not ReturnLabel.objects.exists()


def test_a_received_rma_gets_no_label(rate_sheet):
    rma = _rma(rate_sheet)
    Return.objects.filter(pk=rma.pk).update(status=ReturnStatus.RECEIVED)

    with pytest.raises(services.ReturnError) as refused:
        services.return_label_issue(return_id=rma.pk)

    assert refused.value.status == 409 and not ReturnLabel.objects.exists()


def test_the_parcel_is_the_returned_units_in_one_box(rate_sheet):
    rma = _rma(rate_sheet, quantity=3)

    [parcel] = services.return_parcels(rma)

    assert parcel.weight_g >= 3 * 250 and parcel.reference == rma.number
    assert parcel.length_mm >= 200 and parcel.width_mm >= 150


def test_a_fedex_return_label_is_a_fedex_return_shipment_billed_to_the_account(fedex):
    shop, carrier_request = fedex
    carrier_request.return_value = recorded("fedex", "ship.json")
    rma = _rma(shop)

    label = services.return_label_issue(return_id=rma.pk)

    sent = json.loads(carrier_request.call_args.kwargs["data"])["requestedShipment"]
    assert sent["shipper"]["address"]["city"] == "Toronto"  # the shopper sends it
    assert sent["recipients"][0]["address"]["city"] == "Mississauga"  # to the warehouse
    assert sent["shipmentSpecialServices"]["returnShipmentDetail"]["returnType"] == "PRINT_RETURN_LABEL"
    assert sent["shippingChargesPayment"]["paymentType"] == "SENDER"
    assert label.tracking_number == "794699101410" and bytes(label.label).startswith(b"%PDF")
    assert label.next_poll_at == NOW + timedelta(hours=6)
    rma.refresh_from_db()
    assert rma.status == ReturnStatus.LABEL_ISSUED


def test_a_carrier_refusal_leaves_the_rma_requested_with_nothing_written(fedex):
    shop, carrier_request = fedex
    carrier_request.return_value = recorded("fedex", "error_ship_400.json")
    rma = _rma(shop)
    events = OrderEvent.objects.count()

    with pytest.raises(services.ReturnError) as refused:
        services.return_label_issue(return_id=rma.pk)

    assert refused.value.status == 422 and refused.value.code == "carrier_refused"
    assert "postal code" in refused.value.message
    rma.refresh_from_db()
    assert rma.status == ReturnStatus.REQUESTED
    assert not ReturnLabel.objects.exists() and OrderEvent.objects.count() == events


def test_an_unreachable_carrier_is_a_502_with_nothing_written(fedex):
    shop, carrier_request = fedex
    carrier_request.side_effect = TimeoutError()
    rma = _rma(shop)

    with pytest.raises(services.ReturnError) as refused:
        services.return_label_issue(return_id=rma.pk)

    assert refused.value.status == 502
    assert not ReturnLabel.objects.exists() and Return.objects.get(pk=rma.pk).status == ReturnStatus.REQUESTED


# -- tracking -------------------------------------------------------------------------------------


def test_the_poll_moves_the_label_and_the_rma_in_transit_on_the_first_scan(fedex):
    shop, carrier_request = fedex
    carrier_request.return_value = recorded("fedex", "ship.json")
    rma = _rma(shop)
    services.return_label_issue(return_id=rma.pk)
    carrier_request.return_value = recorded("fedex", "track.json")

    with time_machine.travel(NOW + timedelta(hours=7), tick=False):
        added = services.return_labels_poll()
        again = services.return_labels_poll()  # not due again yet

    label = ReturnLabel.objects.get(rma=rma)
    rma.refresh_from_db()
    assert (added, again) == (4, 0)
    assert (label.status, label.tracking_status) == (LabelStatus.IN_TRANSIT, "in_transit")
    assert [e["code"] for e in label.events] == ["OC", "PU", "AR", "IT"]
    assert label.next_poll_at == NOW + timedelta(hours=7) + timedelta(hours=4)
    assert rma.status == ReturnStatus.IN_TRANSIT
    assert OrderEvent.objects.filter(order=shop.order, type="return_in_transit").count() == 1


def test_a_failing_carrier_is_asked_again_later(fedex):
    shop, carrier_request = fedex
    carrier_request.return_value = recorded("fedex", "ship.json")
    rma = _rma(shop)
    services.return_label_issue(return_id=rma.pk)
    carrier_request.side_effect = TimeoutError()

    with time_machine.travel(NOW + timedelta(hours=7), tick=False):
        assert services.return_labels_poll() == 0

    label = ReturnLabel.objects.get(rma=rma)
    assert label.status == LabelStatus.ISSUED and label.next_poll_at == NOW + timedelta(hours=7, minutes=30)


def test_pushed_scans_move_the_label_in_transit_then_delivered_and_the_rma_waits_for_the_warehouse(rate_sheet):
    rma = _rma(rate_sheet)
    services.return_label_issue(return_id=rma.pk)

    first = services.return_label_scan_add(return_id=rma.pk, code="picked_up", occurred_at=NOW, location="Toronto ON")
    twice = services.return_label_scan_add(return_id=rma.pk, code="picked_up", occurred_at=NOW, location="Toronto ON")
    in_transit = Return.objects.get(pk=rma.pk).status
    services.return_label_scan_add(return_id=rma.pk, code="delivered", occurred_at=NOW + timedelta(minutes=1))

    label = ReturnLabel.objects.get(rma=rma)
    assert (first, twice, in_transit) == (1, 0, ReturnStatus.IN_TRANSIT)
    assert (label.status, label.tracking_status, len(label.events)) == (LabelStatus.DELIVERED, "delivered", 2)
    assert Return.objects.get(pk=rma.pk).status == ReturnStatus.IN_TRANSIT  # until return_receive
    types = list(
        OrderEvent.objects.filter(order=rate_sheet.order, type__startswith="return_").values_list("type", flat=True)
    )
    assert types.count("return_in_transit") == 1 and types.count("return_delivered") == 1


def test_an_unknown_pushed_code_is_refused_with_nothing_changed(rate_sheet):
    rma = _rma(rate_sheet)
    services.return_label_issue(return_id=rma.pk)

    with pytest.raises(services.ReturnError) as refused:
        services.return_label_scan_add(return_id=rma.pk, code="teleported", occurred_at=NOW)

    assert refused.value.errors[0]["field"] == "code"
    assert ReturnLabel.objects.get(rma=rma).events == []


# -- the policy's label account -------------------------------------------------------------------


URL = "/api/v1/return-policy/"


def test_the_policy_api_sets_the_label_account_service_and_exchange_trust(shop, api_as):
    ensure_default_carrier()

    answer = api_as(shop.key).put(
        URL, {"label_account": "demo-post", "label_service": "express", "exchange_before_receipt": True}, format="json"
    )

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["label_account"], body["label_service"], body["exchange_before_receipt"]) == (
        "demo-post",
        "express",
        True,
    )
    assert api_as(shop.key).get(URL).json()["label_account"] == "demo-post"
    cleared = api_as(shop.key).put(URL, {"label_account": None}, format="json").json()
    assert (cleared["label_account"], cleared["label_service"]) == (None, "")


def test_a_label_account_without_a_service_gets_its_quickest(shop, api_as):
    ensure_default_carrier()

    body = api_as(shop.key).put(URL, {"label_account": "demo-post"}, format="json").json()

    assert body["label_service"] == "same_day"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"label_account": "no-such-carrier"}, "label_account"),
        ({"label_account": "demo-post", "label_service": "teleport"}, "label_service"),
    ],
)
def test_an_unknown_label_account_or_service_is_422_with_nothing_changed(shop, api_as, payload, field):
    ensure_default_carrier()
    api_as(shop.key).put(URL, {"window_days": 20}, format="json")

    answer = api_as(shop.key).put(URL, {**payload, "window_days": 5}, format="json")

    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    policy = ReturnPolicy.objects.get(tenant=shop.tenant)
    assert (policy.window_days, policy.label_account_id) == (20, None)


def test_an_inactive_account_cannot_be_chosen(shop, api_as):
    ensure_default_carrier()
    CarrierAccount.objects.filter(carrier_id="demo-post").update(active=False)

    answer = api_as(shop.key).put(URL, {"label_account": "demo-post"}, format="json")

    assert answer.status_code == 422 and answer.json()["errors"][0]["code"] == "unknown_carrier_account"


def test_the_portal_policy_page_chooses_the_label_service_and_exchange_trust(shop, client):
    from fulfillment.tenancy import services as tenancy_services

    ensure_default_carrier()
    client.force_login(
        tenancy_services.merchant_user_create(tenant=shop.tenant, username="acme-web", password="pw-12345678")
    )
    form = {
        "window_days": "30",
        "restocking_fee_percent": "0",
        "return_shipping_fee": "0",
        "resolutions": ["refund", "exchange"],
        "reasons": "Too small\nArrived damaged",
    }

    shown = client.get("/portal/returns/policy/").content.decode()
    saved = client.post(
        "/portal/returns/policy/", {**form, "label_account": "demo-post/express", "exchange_before_receipt": "on"}
    )
    refused = client.post("/portal/returns/policy/", {**form, "label_account": "no-such/standard"})

    assert 'value="demo-post/standard"' in shown and "Demo Post Standard" in shown
    assert saved.status_code == 302 and refused.status_code == 422
    policy = ReturnPolicy.objects.get(tenant=shop.tenant)
    assert (policy.label_account.carrier_id, policy.label_service_code, policy.exchange_before_receipt) == (
        "demo-post",
        "express",
        True,
    )
    assert 'value="demo-post/express" selected' in client.get("/portal/returns/policy/").content.decode()


def test_the_beat_polls_return_labels(settings, rate_sheet):
    from returns import tasks

    rma = _rma(rate_sheet)
    services.return_label_issue(return_id=rma.pk)
    ReturnLabel.objects.filter(rma=rma).update(next_poll_at=NOW)  # as if its account could track

    assert settings.CELERY_BEAT_SCHEDULE["return-label-poll"]["task"] == "returns.tasks.poll_return_labels"
    assert tasks.poll_return_labels() == 0
    assert ReturnLabel.objects.get(rma=rma).next_poll_at is None  # the rate sheet is never asked again


def test_a_label_bought_for_an_rma_that_moved_on_during_the_call_is_voided(fedex, monkeypatch):
    shop, carrier_request = fedex
    carrier_request.side_effect = [recorded("fedex", "ship.json"), recorded("fedex", "cancel.json")]
    rma = _rma(shop)
    real_buy = gateway.buy

    def buy_while_the_parcel_arrives(*args, **kwargs):
        bought = real_buy(*args, **kwargs)
        Return.objects.filter(pk=rma.pk).update(status=ReturnStatus.RECEIVED)
        return bought

    monkeypatch.setattr(gateway, "buy", buy_while_the_parcel_arrives)

    with pytest.raises(services.ReturnError) as refused:
        services.return_label_issue(return_id=rma.pk)

    assert refused.value.status == 409 and not ReturnLabel.objects.exists()
    assert carrier_request.call_args.kwargs["url"].endswith("/ship/v1/shipments/cancel")


# -- pushed scans through the API -----------------------------------------------------------------


def test_staff_push_a_return_label_scan_and_the_return_is_in_transit(rate_sheet, api_as):
    rma = _rma(rate_sheet)
    services.return_label_issue(return_id=rma.pk)
    _, token = staff_with_token(username="ops", role="manager", warehouse=rate_sheet.wh)
    client = api_as(token)
    scan = {"code": "picked_up", "occurred_at": NOW.isoformat(), "location": "Toronto ON"}

    first = client.post(f"/api/v1/returns/{rma.pk}/tracking-events/", scan, format="json")
    again = client.post(f"/api/v1/returns/{rma.pk}/tracking-events/", scan, format="json")

    assert (first.status_code, again.status_code) == (201, 200), first.content
    assert first.json()["status"] == ReturnStatus.IN_TRANSIT
    assert len(ReturnLabel.objects.get(rma=rma).events) == 1


def test_a_pushed_scan_with_an_unknown_code_or_of_a_merchant_is_refused_with_nothing_changed(rate_sheet, api_as):
    rma = _rma(rate_sheet)
    services.return_label_issue(return_id=rma.pk)
    _, token = staff_with_token(username="ops", role="manager", warehouse=rate_sheet.wh)
    scan = {"code": "teleported", "occurred_at": NOW.isoformat()}

    unknown = api_as(token).post(f"/api/v1/returns/{rma.pk}/tracking-events/", scan, format="json")
    merchant = api_as(rate_sheet.key).post(
        f"/api/v1/returns/{rma.pk}/tracking-events/", scan | {"code": "picked_up"}, format="json"
    )

    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "code"
    assert merchant.status_code == 403
    assert ReturnLabel.objects.get(rma=rma).events == []
    assert Return.objects.get(pk=rma.pk).status == ReturnStatus.LABEL_ISSUED


# -- merchant-opened returns get their label too ----------------------------------------------------


def _open(client, shop, **extra):
    body = {"order": str(shop.order.pk), "lines": [{"sku": "TEE-RED-M", "quantity": 1, "reason": "Too small"}]}
    return client.post("/api/v1/returns/", {**body, **extra}, format="json")


def test_a_return_the_merchant_opens_by_api_comes_with_its_prepaid_label(rate_sheet, api_as):
    client = api_as(rate_sheet.key)

    answer = _open(client, rate_sheet)

    assert answer.status_code == 201, answer.content
    body = answer.json()
    label = ReturnLabel.objects.get(rma_id=body["id"])
    assert (body["status"], body["tracking_number"]) == (ReturnStatus.LABEL_ISSUED, label.tracking_number)
    pdf = client.get(body["label_url"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_label_false_opens_the_return_without_one_and_the_label_endpoint_buys_it_once(rate_sheet, api_as):
    client = api_as(rate_sheet.key)

    opened = _open(client, rate_sheet, label=False).json()
    bought = client.post(f"/api/v1/returns/{opened['id']}/label/")
    again = client.post(f"/api/v1/returns/{opened['id']}/label/")

    assert (opened["status"], opened["label_url"]) == (ReturnStatus.REQUESTED, None)
    assert (bought.status_code, bought.json()["status"]) == (200, ReturnStatus.LABEL_ISSUED)
    assert again.status_code == 200 and again.json()["tracking_number"] == bought.json()["tracking_number"]
    assert ReturnLabel.objects.count() == 1


def test_a_carrier_refusing_the_label_still_opens_the_return_and_the_label_endpoint_says_why(fedex, api_as):
    shop, carrier_request = fedex
    carrier_request.return_value = recorded("fedex", "error_ship_400.json")
    client = api_as(shop.key)

    opened = _open(client, shop)
    asked = client.post(f"/api/v1/returns/{opened.json()['id']}/label/")

    assert opened.status_code == 201 and opened.json()["status"] == ReturnStatus.REQUESTED
    assert opened.json()["label_url"] is None
    assert asked.status_code == 422 and asked.json()["errors"][0]["code"] == "carrier_refused"
    assert "postal code" in asked.json()["detail"]
    assert not ReturnLabel.objects.exists() and Return.objects.get().status == ReturnStatus.REQUESTED


def test_asking_a_label_without_a_label_account_is_409_with_nothing_changed(addressed, api_as):
    client = api_as(addressed.key)
    opened = _open(client, addressed).json()
    events = OrderEvent.objects.count()

    asked = client.post(f"/api/v1/returns/{opened['id']}/label/")

    assert asked.status_code == 409 and "carrier account" in asked.json()["detail"]
    assert Return.objects.get().status == ReturnStatus.REQUESTED
    assert not ReturnLabel.objects.exists() and OrderEvent.objects.count() == events


def test_a_label_for_another_merchants_return_is_404(rate_sheet, api_as):
    rma = _rma(rate_sheet)
    _, rival_key = tenant_with_key(slug="globex")

    asked = api_as(rival_key).post(f"/api/v1/returns/{rma.pk}/label/")

    assert asked.status_code == 404
    assert not ReturnLabel.objects.exists() and Return.objects.get().status == ReturnStatus.REQUESTED


def test_notify_shopper_emails_the_rma_and_its_label(rate_sheet, api_as, django_capture_on_commit_callbacks):
    Tenant.objects.filter(pk=rate_sheet.tenant.pk).update(shopper_emails=True)
    client = api_as(rate_sheet.key)

    with django_capture_on_commit_callbacks(execute=True):
        quiet = _open(client, rate_sheet, lines=[{"sku": "MUG-BLUE", "quantity": 1, "reason": "Too small"}])
    assert quiet.status_code == 201 and mail.outbox == []  # notify_shopper is off unless asked
    with django_capture_on_commit_callbacks(execute=True):
        told = _open(client, rate_sheet, notify_shopper=True)

    [email] = mail.outbox
    assert told.json()["number"] in email.subject
    [(name, content, kind)] = email.attachments
    assert kind == "application/pdf" and content.startswith(b"%PDF")
