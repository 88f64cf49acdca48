"""FedEx, UPS and DHL Express through shipping.carriers.gateway, against recorded answers.

karrio's own HTTP helper (karrio.lib.request, what every connector's proxy calls) is patched to
answer what the carrier answered (shipping/tests/recorded/<carrier>/): nothing here reaches the
network. The OAuth tokens of FedEx and UPS are put in the account's karrio cache beforehand, the
way karrio's proxies keep them, so that the only requests made are the ones under test.
"""

from __future__ import annotations

import base64
import email.message
import io
import json
import logging
import urllib.error
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
import time_machine
from loguru import logger as loguru_logger

from shipping.carriers import gateway

RECORDED = Path(__file__).parent / "recorded"
# Monday 7 December 2026, 09:00 in Toronto: the day the recorded labels were bought.
MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("America/Toronto"))

FEDEX_CREDENTIALS = {"api_key": "l7fedexKEY0042", "secret_key": "fedexSECRETd9c1", "account_number": "510087020"}
UPS_CREDENTIALS = {"client_id": "upsCLIENTid77", "client_secret": "upsSECRET5e2b", "account_number": "A1B2C3"}
DHL_CREDENTIALS = {"site_id": "fake-site-id", "password": "fake-dhl-password", "account_number": "123456789"}
SECRETS = [
    FEDEX_CREDENTIALS["api_key"],
    FEDEX_CREDENTIALS["secret_key"],
    UPS_CREDENTIALS["client_id"],
    UPS_CREDENTIALS["client_secret"],
    DHL_CREDENTIALS["password"],
]

SHIPPER = gateway.Party(
    name="Shipping desk",
    company="Acme Fulfilment",
    line1="100 Logistics Dr",
    city="Mississauga",
    region="ON",
    postal_code="L5T 2Z5",
    country="CA",
    phone="9055550100",
)
OTTAWA = gateway.Party(
    name="Jordan Lee",
    line1="90 Sparks St",
    city="Ottawa",
    region="ON",
    postal_code="K1P 5B4",
    country="CA",
    phone="6135550100",
    residential=True,
)
NEW_YORK = gateway.Party(
    name="Jordan Lee",
    line1="350 5th Ave",
    city="New York",
    region="NY",
    postal_code="10118",
    country="US",
    phone="2125550100",
    residential=True,
)
TWO_PARCELS = [
    gateway.Parcel(weight_g=1500, length_mm=200, width_mm=150, height_mm=50, reference="SO-1001-1"),
    gateway.Parcel(weight_g=1500, length_mm=200, width_mm=150, height_mm=50, reference="SO-1001-2"),
]


def recorded(carrier: str, name: str) -> str:
    return (RECORDED / carrier / name).read_text()


def urls(request) -> list[str]:
    return [call.kwargs["url"] for call in request.call_args_list]


def seed_token(conn: gateway.Connection, cache_key: str) -> None:
    """An unexpired OAuth token where karrio's proxy looks for one (karrio.core.utils.caching:
    the entry's ``access_token`` and its ``expiry`` as "%Y-%m-%d %H:%M:%S", local time)."""
    expiry = datetime.now() + timedelta(hours=4)
    gateway.token_cache(conn).set(
        cache_key,
        {
            "access_token": "recorded-access-token",
            "token_type": "bearer",
            "expires_in": 14399,
            "expiry": expiry.strftime("%Y-%m-%d %H:%M:%S"),
        },
    )


def pdf_pages(data: bytes) -> int:
    assert data.startswith(b"%PDF")
    return len(pdfium.PdfDocument(data))


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(MONDAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def _fresh_gateways():
    gateway.forget()
    yield
    gateway.forget()


@pytest.fixture
def carrier_request():
    """karrio.lib.request, as the connectors call it; the test sets what the carrier answers."""
    with patch("karrio.lib.request") as request:
        yield request


@pytest.fixture
def fedex():
    conn = gateway.Connection(
        key="test-fedex:1",
        carrier_name="fedex",
        carrier_id="fedex",
        display_name="FedEx",
        credentials=FEDEX_CREDENTIALS,
        account_country="CA",
        services=(gateway.Service("fedex_ground", "FedEx Ground", currency="CAD", transit_days=3),),
    )
    seed_token(conn, f"fedex|{FEDEX_CREDENTIALS['api_key']}|{FEDEX_CREDENTIALS['secret_key']}")
    return conn


@pytest.fixture
def ups():
    conn = gateway.Connection(
        key="test-ups:1",
        carrier_name="ups",
        carrier_id="ups",
        display_name="UPS",
        credentials=UPS_CREDENTIALS,
        account_country="CA",
        services=(gateway.Service("ups_standard_ca", "UPS Standard", currency="CAD", transit_days=2),),
    )
    seed_token(conn, f"ups|{UPS_CREDENTIALS['client_id']}|{UPS_CREDENTIALS['client_secret']}")
    return conn


@pytest.fixture
def dhl():
    return gateway.Connection(
        key="test-dhl:1",
        carrier_name="dhl_express",
        carrier_id="dhl",
        display_name="DHL Express",
        credentials=DHL_CREDENTIALS,
        account_country="CA",
    )


# -- FedEx ----------------------------------------------------------------------------------------

FEDEX = "https://apis-sandbox.fedex.com"


def test_fedex_rates_are_quotes_with_decimal_totals_and_transit_days(fedex, carrier_request):
    carrier_request.return_value = recorded("fedex", "rate.json")

    quotes = gateway.rates(fedex, shipper=SHIPPER, recipient=OTTAWA, parcels=TWO_PARCELS)

    assert [(q.service_code, q.total_charge, q.currency, q.transit_days, q.estimated_delivery) for q in quotes] == [
        ("fedex_ground", Decimal("27.14"), "CAD", 3, date(2026, 12, 10)),
        ("fedex_priority_overnight", Decimal("77.39"), "CAD", 1, date(2026, 12, 8)),
    ]
    assert all(isinstance(q.total_charge, Decimal) and q.carrier_id == "fedex" for q in quotes)
    assert quotes[0].service_name == "FedEx Ground"  # the account's name, not karrio's code
    assert urls(carrier_request) == [f"{FEDEX}/rate/v1/rates/quotes"]  # no token call: it was cached
    sent = json.loads(carrier_request.call_args.kwargs["data"])
    assert sent["accountNumber"]["value"] == "510087020"
    assert len(sent["requestedShipment"]["requestedPackageLineItems"]) == 2
    assert carrier_request.call_args.kwargs["headers"]["authorization"] == "Bearer recorded-access-token"


def test_fedex_rates_for_several_services_ask_fedex_for_all_and_keep_those_asked(fedex, carrier_request):
    carrier_request.return_value = recorded("fedex", "rate.json")

    both = gateway.rates(
        fedex,
        shipper=SHIPPER,
        recipient=OTTAWA,
        parcels=TWO_PARCELS,
        services=["fedex_ground", "fedex_priority_overnight"],
    )

    assert [q.service_code for q in both] == ["fedex_ground", "fedex_priority_overnight"]
    assert "serviceType" not in json.loads(carrier_request.call_args.kwargs["data"])["requestedShipment"]

    ground = gateway.rates(fedex, shipper=SHIPPER, recipient=OTTAWA, parcels=TWO_PARCELS, services=["fedex_ground"])

    assert [q.service_code for q in ground] == ["fedex_ground"]
    assert json.loads(carrier_request.call_args.kwargs["data"])["requestedShipment"]["serviceType"] == "FEDEX_GROUND"


def test_fedex_multi_piece_label_has_the_master_number_first_and_one_number_per_parcel(fedex, carrier_request):
    carrier_request.return_value = recorded("fedex", "ship.json")

    label = gateway.buy(
        fedex,
        shipper=SHIPPER,
        recipient=OTTAWA,
        parcels=TWO_PARCELS,
        service_code="fedex_ground",
        purchase_key="p-1",
        reference="SO-1001",
    )

    assert label.shipment_identifier == "794699101410"
    assert label.tracking_numbers == ["794699101410", "794699101421"]
    assert label.label_type == "PDF"
    assert pdf_pages(label.label) == 2  # the pieces' labels, bundled
    assert urls(carrier_request) == [f"{FEDEX}/ship/v1/shipments"]
    sent = json.loads(carrier_request.call_args.kwargs["data"])
    assert sent["requestedShipment"]["serviceType"] == "FEDEX_GROUND"
    assert sent["requestedShipment"]["shippingChargesPayment"]["paymentType"] == "SENDER"
    assert len(sent["requestedShipment"]["requestedPackageLineItems"]) == 2


def test_fedex_void_cancels_the_shipment_with_fedex(fedex, carrier_request):
    carrier_request.return_value = recorded("fedex", "cancel.json")

    assert gateway.void(fedex, shipment_identifier="794699101410", service_code="fedex_ground") is True

    assert urls(carrier_request) == [f"{FEDEX}/ship/v1/shipments/cancel"]
    assert carrier_request.call_args.kwargs["method"] == "PUT"
    assert json.loads(carrier_request.call_args.kwargs["data"])["trackingNumber"] == "794699101410"


def test_fedex_tracking_is_normalised_with_the_scan_times_fedex_gave(fedex, carrier_request):
    carrier_request.return_value = recorded("fedex", "track.json")

    [tracked] = gateway.track(fedex, tracking_numbers=["794699101410"])

    assert (tracked.tracking_number, tracked.status, tracked.delivered) == ("794699101410", "in_transit", False)
    assert tracked.estimated_delivery == date(2026, 12, 10)
    assert [(e.code, e.status) for e in tracked.events] == [
        ("IT", "in_transit"),
        ("AR", "in_transit"),
        ("PU", "picked_up"),
        ("OC", "pending"),
    ]
    # FedEx says 2026-12-07T16:40:00-05:00: the instant, not 16:40 UTC.
    assert tracked.events[2].occurred_at == datetime(2026, 12, 7, 21, 40, tzinfo=UTC)
    assert tracked.events[2].location == "MISSISSAUGA, ON, L5T, CA"
    assert all(e.occurred_at.tzinfo is not None for e in tracked.events)
    # The shipping key pair serves the Track API too: the same cached token, no login.
    assert urls(carrier_request) == [f"{FEDEX}/track/v1/trackingnumbers"]


def test_fedex_refusal_is_carrier_refused_with_fedex_message(fedex, carrier_request):
    carrier_request.return_value = recorded("fedex", "error_ship_400.json")

    with pytest.raises(gateway.CarrierError) as refused:
        gateway.buy(
            fedex,
            shipper=SHIPPER,
            recipient=OTTAWA,
            parcels=TWO_PARCELS,
            service_code="fedex_ground",
            purchase_key="p-2",
        )

    assert refused.value.code == "carrier_refused"
    assert refused.value.retryable is False
    assert "Recipient postal code or state/province code is invalid." in refused.value.message
    assert refused.value.details[0]["code"] == "RECIPIENTS.POSTALSTATE.MISMATCH"


def test_fedex_rating_refusal_is_carrier_refused(fedex, carrier_request):
    carrier_request.return_value = recorded("fedex", "error_ship_400.json")

    with pytest.raises(gateway.CarrierError) as refused:
        gateway.rates(fedex, shipper=SHIPPER, recipient=OTTAWA, parcels=TWO_PARCELS)

    assert (refused.value.code, refused.value.retryable) == ("carrier_refused", False)
    assert "Recipient postal code" in refused.value.message


def test_an_expired_fedex_token_is_fetched_once_and_kept_in_the_accounts_cache(fedex, carrier_request):
    gateway.token_cache(fedex).set(
        f"fedex|{FEDEX_CREDENTIALS['api_key']}|{FEDEX_CREDENTIALS['secret_key']}",
        {"access_token": "stale", "expiry": (datetime.now() - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S")},
    )
    # karrio decodes the token answer itself (decoder=lib.to_dict): the patched helper answers a dict
    carrier_request.side_effect = [json.loads(recorded("fedex", "oauth_token.json")), recorded("fedex", "rate.json")]

    gateway.rates(fedex, shipper=SHIPPER, recipient=OTTAWA, parcels=TWO_PARCELS)

    assert urls(carrier_request) == [f"{FEDEX}/oauth/token", f"{FEDEX}/rate/v1/rates/quotes"]
    assert "client_secret=fedexSECRETd9c1" in carrier_request.call_args_list[0].kwargs["data"]
    assert carrier_request.call_args.kwargs["headers"]["authorization"] == "Bearer fresh-fedex-token"

    carrier_request.reset_mock()
    carrier_request.side_effect = [recorded("fedex", "track.json")]
    gateway.track(fedex, tracking_numbers=["794699101410"])

    assert urls(carrier_request) == [f"{FEDEX}/track/v1/trackingnumbers"]
    assert carrier_request.call_args.kwargs["headers"]["authorization"] == "Bearer fresh-fedex-token"


# -- UPS ------------------------------------------------------------------------------------------

UPS = "https://wwwcie.ups.com"


def test_ups_rates_are_quotes_with_decimal_totals_and_transit_days(ups, carrier_request):
    carrier_request.return_value = recorded("ups", "rate.json")

    quotes = gateway.rates(ups, shipper=SHIPPER, recipient=OTTAWA, parcels=TWO_PARCELS)

    assert [(q.service_code, q.total_charge, q.currency, q.transit_days) for q in quotes] == [
        ("ups_standard_ca", Decimal("19.93"), "CAD", 2),
        ("ups_express_ca", Decimal("43.51"), "CAD", 1),
    ]
    assert quotes[0].service_name == "UPS Standard"
    assert urls(carrier_request) == [f"{UPS}/api/rating/v2409/Shop?additionalinfo=timeintransit"]
    assert carrier_request.call_args.kwargs["headers"]["authorization"] == "Bearer recorded-access-token"


def test_ups_label_has_one_number_per_package_and_a_pdf_of_both(ups, carrier_request):
    carrier_request.return_value = recorded("ups", "ship.json")

    label = gateway.buy(
        ups,
        shipper=SHIPPER,
        recipient=OTTAWA,
        parcels=TWO_PARCELS,
        service_code="ups_standard_ca",
        purchase_key="p-3",
        reference="SO-1001",
    )

    assert label.shipment_identifier == "1Z0A1B2C0412345678"
    assert label.tracking_numbers == ["1Z0A1B2C0412345678", "1Z0A1B2C0412345689"]
    assert label.label_type == "PDF"
    assert pdf_pages(label.label) == 2  # UPS sends GIFs; karrio makes them a PDF
    assert urls(carrier_request) == [f"{UPS}/api/shipments/v2409/ship"]


def test_ups_void_cancels_the_shipment_with_ups(ups, carrier_request):
    carrier_request.return_value = recorded("ups", "void.json")

    assert gateway.void(ups, shipment_identifier="1Z0A1B2C0412345678") is True

    assert urls(carrier_request) == [f"{UPS}/api/shipments/v2409/void/cancel/1Z0A1B2C0412345678"]
    assert carrier_request.call_args.kwargs["method"] == "DELETE"


def test_ups_tracking_is_delivered_with_utc_scan_times(ups, carrier_request):
    carrier_request.return_value = recorded("ups", "track.json")

    [tracked] = gateway.track(ups, tracking_numbers=["1Z0A1B2C0412345678"])

    assert (tracked.status, tracked.delivered, tracked.estimated_delivery) == ("delivered", True, date(2026, 12, 9))
    assert [(e.code, e.status) for e in tracked.events] == [
        ("KB", "delivered"),
        ("OT", "in_transit"),
        ("DP", "in_transit"),
        ("OR", "in_transit"),
    ]
    # local 14:15:12 in Ottawa, gmtTime 19:15:12
    assert tracked.events[0].occurred_at == datetime(2026, 12, 9, 19, 15, 12, tzinfo=UTC)
    assert tracked.events[0].location == "Ottawa, ON, K1P, CA"
    assert urls(carrier_request) == [f"{UPS}/api/track/v1/details/1Z0A1B2C0412345678?locale=en_US&returnSignature=true"]


def test_a_refused_ups_token_is_carrier_refused_without_the_secret(carrier_request):
    ups = gateway.Connection(
        key="test-ups:no-token",
        carrier_name="ups",
        carrier_id="ups",
        display_name="UPS",
        credentials=UPS_CREDENTIALS,
        account_country="CA",
    )
    carrier_request.side_effect = [json.loads(recorded("ups", "oauth_401.json"))]

    with pytest.raises(gateway.CarrierError) as refused:
        gateway.rates(ups, shipper=SHIPPER, recipient=OTTAWA, parcels=TWO_PARCELS)

    assert (refused.value.code, refused.value.retryable) == ("carrier_refused", False)
    assert "ClientId is Invalid" in refused.value.message
    assert UPS_CREDENTIALS["client_secret"] not in refused.value.message
    assert urls(carrier_request) == [f"{UPS}/security/v1/oauth/token"]


def test_ups_refusal_is_carrier_refused_with_ups_message(ups, carrier_request):
    carrier_request.return_value = recorded("ups", "error_ship_400.json")

    with pytest.raises(gateway.CarrierError) as refused:
        gateway.buy(
            ups,
            shipper=SHIPPER,
            recipient=OTTAWA,
            parcels=TWO_PARCELS,
            service_code="ups_standard_ca",
            purchase_key="p-4",
        )

    assert (refused.value.code, refused.value.retryable) == ("carrier_refused", False)
    assert "Address Validation Error on ShipTo address" in refused.value.message


# -- DHL Express ----------------------------------------------------------------------------------

DHL = "https://xmlpitest-ea.dhl.com/XMLShippingServlet"


def test_dhl_express_rates_are_quotes_with_decimal_totals_and_transit_days(dhl, carrier_request):
    carrier_request.return_value = recorded("dhl_express", "rate.xml")

    quotes = gateway.rates(dhl, shipper=SHIPPER, recipient=NEW_YORK, parcels=TWO_PARCELS[:1])

    assert [(q.service_code, q.service_name, q.total_charge, q.currency, q.transit_days) for q in quotes] == [
        ("dhl_express_worldwide_nondoc", "DHL EXPRESS WORLDWIDE", Decimal("96.42"), "CAD", 1),
        ("dhl_express_12_00_nondoc", "DHL EXPRESS 12:00", Decimal("118.73"), "CAD", 1),
    ]
    assert urls(carrier_request) == [DHL]
    assert "<SiteID>fake-site-id</SiteID>" in carrier_request.call_args.kwargs["data"]


def test_dhl_express_label_has_one_waybill_for_all_pieces(dhl, carrier_request):
    carrier_request.return_value = recorded("dhl_express", "ship.xml")

    label = gateway.buy(
        dhl,
        shipper=SHIPPER,
        recipient=NEW_YORK,
        parcels=TWO_PARCELS,
        service_code="dhl_express_worldwide_nondoc",
        purchase_key="p-5",
        reference="SO-1001",
    )

    assert label.shipment_identifier == "4815162342"
    assert label.tracking_numbers == ["4815162342"]  # DHL tracks the pieces under the waybill
    assert (label.label_type, pdf_pages(label.label)) == ("PDF", 1)
    assert (label.total_charge, label.currency) == (Decimal("96.42"), "CAD")
    assert urls(carrier_request) == [DHL]


def test_dhl_express_void_is_not_a_carrier_call(dhl, carrier_request):
    assert gateway.void(dhl, shipment_identifier="4815162342") is False
    carrier_request.assert_not_called()


def test_dhl_express_tracking_is_delivered_with_local_scan_times(dhl, carrier_request):
    carrier_request.return_value = recorded("dhl_express", "track.xml")

    [tracked] = gateway.track(dhl, tracking_numbers=["4815162342"])

    assert (tracked.tracking_number, tracked.status, tracked.delivered) == ("4815162342", "delivered", True)
    assert [(e.code, e.status) for e in tracked.events] == [
        ("OK", "delivered"),
        ("WC", "out_for_delivery"),
        ("AR", "in_transit"),
        ("PL", "picked_up"),
        ("PU", "picked_up"),
    ]
    # DHL gives the local time at the scan without an offset: it stays local (naive), not UTC.
    assert tracked.events[0].occurred_at == datetime(2026, 12, 8, 13, 37)
    assert tracked.events[0].description == "Delivered - Signed for by J LEE"
    assert urls(carrier_request) == [DHL]


def test_dhl_express_refusal_is_carrier_refused_without_the_echoed_password(dhl, carrier_request):
    carrier_request.return_value = recorded("dhl_express", "error_ship.xml")

    with pytest.raises(gateway.CarrierError) as refused:
        gateway.buy(
            dhl,
            shipper=SHIPPER,
            recipient=NEW_YORK,
            parcels=TWO_PARCELS,
            service_code="dhl_express_worldwide_nondoc",
            purchase_key="p-6",
        )

    assert (refused.value.code, refused.value.retryable) == ("carrier_refused", False)
    assert "not available based on your search criteria" in refused.value.message
    assert DHL_CREDENTIALS["password"] not in refused.value.message + json.dumps(refused.value.details)


# -- Canada Post ----------------------------------------------------------------------------------

CANADAPOST = "https://ct.soa-gw.canadapost.ca"
CANADAPOST_CREDENTIALS = {"username": "cpcUSER8a1f", "password": "cpcPASS77e0", "customer_number": "2004381"}
# Canada Post ships every parcel as a shipment of its own: one answer per parcel, told apart here
# by the weight each request carries, and a label fetched from each answer's artifact link.
CANADAPOST_PARCELS = [
    gateway.Parcel(weight_g=1500, length_mm=200, width_mm=150, height_mm=50, reference="SO-1001-1"),
    gateway.Parcel(weight_g=2500, length_mm=300, width_mm=200, height_mm=100, reference="SO-1001-2"),
    gateway.Parcel(weight_g=3500, length_mm=300, width_mm=200, height_mm=150, reference="SO-1001-3"),
]


@pytest.fixture
def canadapost():
    return gateway.Connection(
        key="test-canadapost:1",
        carrier_name="canadapost",
        carrier_id="canadapost",
        display_name="Canada Post",
        credentials=CANADAPOST_CREDENTIALS,
        account_country="CA",
        services=(gateway.Service("canadapost_expedited_parcel", "Expedited Parcel", currency="CAD"),),
    )


def canada_post_answers(url, method="GET", data=None, **_):
    if url == f"{CANADAPOST}/rs/ship/price":
        return recorded("canadapost", "rate.xml")
    if url == f"{CANADAPOST}/rs/2004381/2004381/shipment":
        weight = {"<weight>1.5</weight>": 1, "<weight>2.5</weight>": 2, "<weight>3.5</weight>": 3}
        return recorded("canadapost", f"ship_{next(n for w, n in weight.items() if w in data)}.xml")
    artifact = {"10238016": 1, "10238017": 2, "10238018": 3}
    for number, index in artifact.items():
        if url == f"{CANADAPOST}/rs/artifact/76108cb5192002d5/{number}/0":
            return base64.b64encode((RECORDED / "canadapost" / f"label_{index}.pdf").read_bytes()).decode()
    raise AssertionError(f"unexpected request to {url}")


def test_canada_post_rates_price_every_parcel_and_add_them_up(canadapost, carrier_request):
    carrier_request.side_effect = canada_post_answers

    quotes = gateway.rates(canadapost, shipper=SHIPPER, recipient=OTTAWA, parcels=CANADAPOST_PARCELS[:2])

    assert [(q.service_code, q.service_name, q.total_charge, q.currency, q.transit_days) for q in quotes] == [
        ("canadapost_expedited_parcel", "Expedited Parcel", Decimal("33.68"), "CAD", 1),
        ("canadapost_priority", "canadapost_priority", Decimal("63.76"), "CAD", 1),
    ]
    assert urls(carrier_request) == [f"{CANADAPOST}/rs/ship/price"] * 2


def test_canada_post_label_numbers_follow_the_parcels(canadapost, carrier_request):
    carrier_request.side_effect = canada_post_answers

    label = gateway.buy(
        canadapost,
        shipper=SHIPPER,
        recipient=OTTAWA,
        parcels=CANADAPOST_PARCELS,
        service_code="canadapost_expedited_parcel",
        purchase_key="p-7",
        reference="SO-1001",
    )

    # karrio merges the three shipments with their numbers in a set; the gateway keeps parcel order
    assert label.tracking_numbers == ["7023210039414604", "7023210039414611", "7023210039414628"]
    assert label.shipment_identifier == "340531309186521749"
    assert (label.label_type, pdf_pages(label.label)) == ("PDF", 3)
    assert sorted(urls(carrier_request)) == sorted(
        [f"{CANADAPOST}/rs/2004381/2004381/shipment"] * 3
        + [f"{CANADAPOST}/rs/artifact/76108cb5192002d5/{n}/0" for n in ("10238016", "10238017", "10238018")]
    )


def test_canada_post_refusal_is_carrier_refused_with_its_message(canadapost, carrier_request):
    carrier_request.return_value = recorded("canadapost", "error_rate.xml")

    with pytest.raises(gateway.CarrierError) as refused:
        gateway.rates(canadapost, shipper=SHIPPER, recipient=OTTAWA, parcels=CANADAPOST_PARCELS[:1])

    assert (refused.value.code, refused.value.retryable) == ("carrier_refused", False)
    assert "The destination postal code is invalid." in refused.value.message
    assert refused.value.details[0]["code"] == "1610"


# -- every carrier --------------------------------------------------------------------------------


def _call(operation: str, conn: gateway.Connection):
    recipient = NEW_YORK if conn.carrier_name == "dhl_express" else OTTAWA
    if operation == "rates":
        return gateway.rates(conn, shipper=SHIPPER, recipient=recipient, parcels=TWO_PARCELS)
    if operation == "buy":
        service = {
            "fedex": "fedex_ground",
            "ups": "ups_standard_ca",
            "dhl_express": "dhl_express_worldwide_nondoc",
            "canadapost": "canadapost_expedited_parcel",
        }
        return gateway.buy(
            conn,
            shipper=SHIPPER,
            recipient=recipient,
            parcels=TWO_PARCELS,
            service_code=service[conn.carrier_name],
            purchase_key="p-net",
        )
    if operation == "void":
        return gateway.void(conn, shipment_identifier="794699101410")
    return gateway.track(conn, tracking_numbers=["794699101410"])


@pytest.mark.parametrize(
    "failure", [urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")), TimeoutError("timed out")]
)
@pytest.mark.parametrize(
    "carrier, operation",
    [
        ("fedex", "rates"),
        ("fedex", "buy"),
        ("fedex", "void"),
        ("fedex", "track"),
        ("ups", "rates"),
        ("ups", "buy"),
        ("ups", "void"),
        ("dhl", "rates"),
        ("dhl", "buy"),
        ("dhl", "track"),
        ("canadapost", "rates"),
        ("canadapost", "buy"),
    ],
)
def test_an_unreachable_carrier_is_a_retryable_error(request, carrier_request, carrier, operation, failure):
    carrier_request.side_effect = failure

    with pytest.raises(gateway.CarrierError) as failed:
        _call(operation, request.getfixturevalue(carrier))

    assert failed.value.retryable is True
    assert failed.value.code == "carrier_unavailable"
    assert type(failure).__name__ in failed.value.message
    carrier_request.assert_called()


def test_a_request_the_connector_cannot_build_is_not_retried_and_not_sent(fedex, carrier_request):
    broken = patch("karrio.mappers.fedex.mapper.Mapper.create_shipment_request", side_effect=KeyError("paid_by"))
    with broken, pytest.raises(gateway.CarrierError) as failed:
        _call("buy", fedex)

    assert (failed.value.code, failed.value.retryable) == ("invalid_request", False)
    assert "KeyError" in failed.value.message
    carrier_request.assert_not_called()


def test_no_credentials_reach_the_logs(fedex, ups, dhl, canadapost, carrier_request, caplog):
    caplog.set_level(logging.DEBUG)
    karrio_lines: list[str] = []
    sink = loguru_logger.add(karrio_lines.append, level="TRACE")
    try:
        for conn, carrier in [(fedex, "fedex"), (ups, "ups")]:
            for operation, answer in [("rates", "rate.json"), ("buy", "ship.json"), ("track", "track.json")]:
                carrier_request.return_value = recorded(carrier, answer)
                _call(operation, conn)
            carrier_request.return_value = recorded(carrier, "error_ship_400.json")
            with pytest.raises(gateway.CarrierError):
                _call("buy", conn)
        for operation, answer in [("rates", "rate.xml"), ("buy", "ship.xml"), ("track", "track.xml")]:
            carrier_request.return_value = recorded("dhl_express", answer)
            _call(operation, dhl)
        carrier_request.return_value = recorded("dhl_express", "error_ship.xml")
        with pytest.raises(gateway.CarrierError):
            _call("buy", dhl)
        carrier_request.side_effect = canada_post_answers
        _call("rates", canadapost)
        _call("buy", canadapost)
        carrier_request.side_effect = urllib.error.URLError("refused")
        with pytest.raises(gateway.CarrierError):
            _call("rates", fedex)
    finally:
        loguru_logger.remove(sink)

    logged = caplog.text + "".join(karrio_lines)
    assert carrier_request.call_count == 19  # the calls were made (and could have logged)
    basic = base64.b64encode(b"cpcUSER8a1f:cpcPASS77e0").decode()
    for secret in [*SECRETS, *CANADAPOST_CREDENTIALS.values(), basic, "recorded-access-token"]:
        assert secret not in logged


# -- through karrio's HTTP helper (urllib's urlopen answers) --------------------------------------


class _Answer(io.BytesIO):
    """What urllib.request.urlopen returns, as karrio's helper reads it."""

    def __init__(self, body: str, status: int = 200):
        super().__init__(body.encode())
        self.status = status
        self.headers = email.message.Message()
        self.url = ""


@pytest.fixture
def urlopen():
    """urllib's urlopen as karrio's lib.request calls it: karrio's own request, error and
    decoding code runs; the test says what the carrier's server answers."""
    with patch("karrio.core.utils.helpers.urlopen") as opened:
        yield opened


def test_a_fedex_400_answer_is_carrier_refused_through_karrios_error_handling(fedex, urlopen):
    def server(request, timeout=None):
        assert request.full_url == f"{FEDEX}/ship/v1/shipments"
        body = recorded("fedex", "error_ship_400.json").encode()
        raise urllib.error.HTTPError(request.full_url, 400, "Bad Request", email.message.Message(), io.BytesIO(body))

    urlopen.side_effect = server

    with pytest.raises(gateway.CarrierError) as refused:
        gateway.buy(
            fedex,
            shipper=SHIPPER,
            recipient=OTTAWA,
            parcels=TWO_PARCELS,
            service_code="fedex_ground",
            purchase_key="p-8",
        )

    assert (refused.value.code, refused.value.retryable) == ("carrier_refused", False)
    assert "Recipient postal code or state/province code is invalid." in refused.value.message
    assert urlopen.call_count == 1


def test_a_refused_connection_is_retryable_through_karrios_http_helper(ups, urlopen):
    urlopen.side_effect = urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))

    with pytest.raises(gateway.CarrierError) as failed:
        gateway.rates(ups, shipper=SHIPPER, recipient=OTTAWA, parcels=TWO_PARCELS)

    assert (failed.value.code, failed.value.retryable) == ("carrier_unavailable", True)


def test_the_gateway_keeps_no_trace_of_requests_and_answers(dhl, urlopen):
    """karrio's tracer would keep every request (DHL's carries the password) and every answer
    (labels) of a cached gateway for the life of the process."""
    urlopen.side_effect = lambda request, timeout=None: _Answer(recorded("dhl_express", "ship.xml"))

    label = gateway.buy(
        dhl,
        shipper=SHIPPER,
        recipient=NEW_YORK,
        parcels=TWO_PARCELS,
        service_code="dhl_express_worldwide_nondoc",
        purchase_key="p-9",
    )

    assert label.tracking_numbers == ["4815162342"]
    sent = urlopen.call_args.args[0]
    assert b"<Password>fake-dhl-password</Password>" in sent.data  # what a trace would have kept
    tracer = gateway._gateway(dhl).tracer
    assert tracer.inner_recordings == {}
    assert tracer.records == []


# -- end to end: a packed order's FedEx label, bought by the service ------------------------------


@pytest.mark.django_db
def test_packed_order_buys_its_fedex_label_through_the_recorded_answer(carrier_request, caplog):
    from inventory.services import warehouse_update_address
    from inventory.tests import factories as inv
    from orders.models import Status
    from packing.models import Package, ShipmentStatus
    from packing.tests.factories import packed_order
    from shipping import selectors, services
    from shipping.models import CarrierAccount, LabelPurchase, PurchaseStatus
    from shipping.tests.factories import stocked_tenant

    caplog.set_level(logging.DEBUG)
    warehouse = inv.warehouse()
    warehouse_update_address(
        warehouse=warehouse,
        contact_name="Shipping desk",
        company_name="Acme Fulfilment",
        address_line1="100 Logistics Dr",
        city="Mississauga",
        region="ON",
        postal_code="L5T 2Z5",
        phone="+19055550100",
    )
    tenant = stocked_tenant(warehouse)
    services.carrier_account_deactivate(account_id=CarrierAccount.objects.get(carrier_id="demo-post").pk)
    account = services.carrier_account_create(
        carrier_name="fedex",
        display_name="FedEx",
        credentials=FEDEX_CREDENTIALS,
        account_country="CA",
        services=[
            {"service_code": "fedex_ground", "service_name": "FedEx Ground", "level": "standard", "transit_days": 3}
        ],
    )
    seed_token(selectors.connection(account), f"fedex|{FEDEX_CREDENTIALS['api_key']}|{FEDEX_CREDENTIALS['secret_key']}")
    order, shipment = packed_order(tenant, external_id="FX-1", lines=[("MUG", 30)])  # two cartons
    carrier_request.side_effect = [recorded("fedex", "rate.json"), recorded("fedex", "ship.json")]

    outcome = services.shipment_purchase_label(shipment_id=shipment.pk, actor="test")

    assert (outcome.result, outcome.message) == ("bought", "")
    assert urls(carrier_request) == [f"{FEDEX}/rate/v1/rates/quotes", f"{FEDEX}/ship/v1/shipments"]
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == ShipmentStatus.LABEL_PURCHASED
    assert (shipment.carrier_code, shipment.service_code) == ("fedex", "fedex_ground")
    assert shipment.tracking_number == "794699101410"
    assert (shipment.rate_amount, shipment.rate_currency) == (Decimal("27.14"), "CAD")  # FedEx's quote
    assert pdf_pages(bytes(shipment.label_pdf)) == 2
    purchase = LabelPurchase.objects.get(shipment=shipment)
    assert (purchase.status, purchase.tracking_numbers) == (
        PurchaseStatus.BOUGHT,
        ["794699101410", "794699101421"],
    )
    packages = list(Package.objects.filter(shipment=shipment).order_by("number"))
    assert [p.tracking_number for p in packages] == ["794699101410", "794699101421"]
    sent = json.loads(carrier_request.call_args_list[1].kwargs["data"])["requestedShipment"]
    assert [item["weight"]["value"] for item in sent["requestedPackageLineItems"]] == [
        round(p.weight_g / 1000, 2) for p in packages
    ]
    assert sent["shipper"]["address"]["postalCode"] == "L5T2Z5"  # the warehouse's ship-from address
    assert order.status == Status.SHIPPED

    zpl = services.label_document(shipment=shipment, kind="zpl")

    assert zpl.count("^XA") == 2 and "^GFA," in zpl  # each PDF page rasterised (shipping.documents.pdf_to_zpl)
    shipment.refresh_from_db()
    assert shipment.label_zpl == zpl
    assert carrier_request.call_count == 2  # the ZPL was made here, not bought again
    for secret in SECRETS:
        assert secret not in caplog.text
