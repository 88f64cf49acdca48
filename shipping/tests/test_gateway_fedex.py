"""gateway.buy against karrio's FedEx connector, its HTTP answered in-process (no network)."""

from __future__ import annotations

import base64
import io
import json
from datetime import datetime, timedelta

import karrio.core.utils.helpers as karrio_helpers
import pytest
from reportlab.pdfgen import canvas

from shipping.carriers import gateway


def _pdf() -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=(288, 432))  # 4 x 6 in
    page.drawString(20, 400, "FedEx Ground 794699001234")
    page.showPage()
    page.save()
    return out.getvalue()


LABEL = _pdf()
SHIP_ANSWER = {
    "output": {
        "transactionShipments": [
            {
                "serviceType": "FEDEX_GROUND",
                "masterTrackingNumber": "794699001234",
                "pieceResponses": [
                    {
                        "trackingNumber": "794699001234",
                        "trackingIdType": "FEDEX",
                        "serviceCategory": "GROUND",
                        "packageDocuments": [
                            {"contentType": "LABEL", "docType": "PDF", "encodedLabel": base64.b64encode(LABEL).decode()}
                        ],
                    }
                ],
            }
        ]
    }
}


class _Answer:
    headers: dict = {}

    def __init__(self, body: bytes):
        self.body = body

    def read(self) -> bytes:
        return self.body

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def fedex(monkeypatch):
    """A FedEx connection whose OAuth token is cached and whose ship endpoint answers SHIP_ANSWER;
    the request bodies sent are collected."""
    sent: list[dict] = []

    def urlopen(request, timeout=None):
        assert request.full_url.endswith("/ship/v1/shipments"), request.full_url
        sent.append(json.loads(request.data))
        return _Answer(json.dumps(SHIP_ANSWER).encode())

    monkeypatch.setattr(karrio_helpers, "_urlopen_with_span", urlopen)
    conn = gateway.Connection(
        key="test-fedex:1",
        carrier_name="fedex",
        carrier_id="fedex-main",
        display_name="FedEx",
        credentials={"api_key": "key", "secret_key": "secret", "account_number": "510087020"},
        account_country="CA",
    )
    gateway.forget(conn.key)
    expiry = datetime.now() + timedelta(hours=1)
    gateway.token_cache(conn).set(
        "fedex|key|secret", {"access_token": "token", "expiry": expiry.strftime("%Y-%m-%d %H:%M:%S")}
    )
    yield conn, sent
    gateway.forget(conn.key)


def test_a_fedex_label_is_bought_billed_to_the_account(fedex):
    conn, sent = fedex
    shipper = gateway.Party(
        company="Bench Fulfillment Inc.",
        name="Shipping Desk",
        line1="100 Logistics Dr",
        city="Mississauga",
        region="ON",
        postal_code="L5T 2Z5",
        country="CA",
        phone="+19055550100",
    )
    recipient = gateway.Party(
        name="Shopper", line1="1 Main Street", city="Toronto", region="ON", postal_code="M5V 2T6", country="CA"
    )

    label = gateway.buy(
        conn,
        shipper=shipper,
        recipient=recipient,
        parcels=[gateway.Parcel(weight_g=500, length_mm=200, width_mm=150, height_mm=100, reference="R1-1")],
        service_code="fedex_ground",
        purchase_key="purchase-1",
        reference="R1",
    )

    assert (label.tracking_numbers, label.label_type) == (["794699001234"], "PDF")
    assert label.label.startswith(b"%PDF") and b"/Count 1" in label.label  # karrio re-bundles the pages
    charges = sent[0]["requestedShipment"]["shippingChargesPayment"]
    assert charges["paymentType"] == "SENDER"
    assert charges["payor"]["responsibleParty"]["accountNumber"]["value"] == "510087020"
