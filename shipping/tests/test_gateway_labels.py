"""Rate-sheet labels drawn by karrio through gateway.buy: no database, no network."""

from __future__ import annotations

from decimal import Decimal

import jinja2
from karrio.addons import label as karrio_label

from shipping.carriers import gateway

CONN = gateway.Connection(
    key="test-labels:1",
    carrier_name="generic",
    carrier_id="demo-post",
    display_name="Demo Post",
    services=(gateway.Service("standard", "Standard", "CAD", 5, (gateway.Zone(rate=Decimal("9.50")),)),),
)
SHIPPER = gateway.Party(
    company="Bench Fulfillment Inc.", line1="100 Logistics Dr", city="Mississauga", region="ON",
    postal_code="L5T 2Z5", country="CA", phone="+19055550100",
)  # fmt: skip
PARCELS = [gateway.Parcel(weight_g=500, length_mm=200, width_mm=150, height_mm=100, reference="R1-1")]


def _zpl(city: str, key: str) -> bytes:
    recipient = gateway.Party(
        name="Shopper", line1="1 Main Street", city=city, region="ON", postal_code="M5V 2T6", country="CA"
    )
    return gateway.buy(
        CONN, shipper=SHIPPER, recipient=recipient, parcels=PARCELS, service_code="standard", purchase_key=key,
        label_type="ZPL",
    ).label  # fmt: skip


def test_a_rate_sheet_label_from_the_compiled_template_is_the_one_karrio_draws_itself(monkeypatch):
    first, other = _zpl("Toronto", "p1"), _zpl("Ottawa", "p1")

    monkeypatch.setattr(karrio_label, "Template", jinja2.Template)  # karrio's own: compiled for every label
    assert (_zpl("Toronto", "p1"), _zpl("Ottawa", "p1")) == (first, other)
    assert first != other  # the same key and number: only the address differs
