"""The packing slip in the merchant's branding: logo and name at the top, its colour as the accent,
its slip message at the foot; prices and totals unless the order is a gift, which gets a gift note."""

from __future__ import annotations

import re

import pytest

from fulfillment.tenancy import services as tenancy
from fulfillment.tenancy.tests.factories import image_bytes, staff_with_token, tenant_with_key
from inventory.tests import factories as inv
from packing.documents import packing_slip_pdf
from packing.tests.factories import picked_order
from packing.tests.pdf import pdf_image_count, pdf_streams, pdf_text

pytestmark = pytest.mark.django_db

GIFT = "Happy birthday, Sam!\nLove, Alex"
PRICES = {"19.99", "39.98", "7.50", "Unit price", "Total CAD", "47.48"}


@pytest.fixture
def shop():
    tenant, key = tenant_with_key(slug="acme", name="Acme Apparel")
    main = inv.warehouse("MAIN")
    for sku, name in (("TEE", "Red tee, size M"), ("MUG", "Black mug")):
        item = inv.product(tenant, sku, name=name)
        inv.stock(tenant, item, main, "01-01-1", 10)
    return tenant, key, main


def _order(tenant, external_id="A1", **fields):
    return picked_order(tenant, external_id=external_id, lines=[("TEE", 2, "19.99"), ("MUG", 1, "7.50")], **fields)


def _brand(tenant, **changes):
    tenancy.tenant_branding_update(tenant_id=tenant.pk, **changes)


def _colours(pdf: bytes) -> set[tuple[float, float, float]]:
    """Every RGB fill and stroke colour set in the page streams."""
    found = set()
    for stream in pdf_streams(pdf):
        for r, g, b in re.findall(rb"([\d.]+) ([\d.]+) ([\d.]+) (?:rg|RG)\b", stream):
            found.add((round(float(r), 2), round(float(g), 2), round(float(b), 2)))
    return found


def test_an_order_with_prices_shows_unit_prices_line_totals_and_the_total(shop):
    tenant, _key, _main = shop

    text = pdf_text(packing_slip_pdf(order=_order(tenant)))

    assert set(text) >= PRICES
    assert "A gift for you" not in text


def test_a_gift_order_leaves_every_price_off_and_prints_the_gift_note(shop):
    tenant, _key, _main = shop

    text = pdf_text(packing_slip_pdf(order=_order(tenant, gift_message=GIFT)))

    assert not PRICES & set(text)
    assert not [t for t in text if "19.99" in t or "Total" in t]
    assert {"A gift for you", "Happy birthday, Sam!", "Love, Alex"} <= set(text)
    assert {"TEE", "MUG", "2", "1"} <= set(text)  # the lines are still there, without prices


def test_an_order_without_prices_shows_no_price_columns(shop):
    tenant, _key, _main = shop
    plain = picked_order(tenant, external_id="A2", lines=[("TEE", 1)])

    text = pdf_text(packing_slip_pdf(order=plain))

    assert "Unit price" not in text and "Total CAD" not in text


def test_the_merchants_name_logo_colour_and_slip_message_are_on_the_slip(shop):
    tenant, _key, _main = shop
    _brand(tenant, brand_color="#C2410C", slip_message="Thanks for shopping with us", logo=image_bytes())

    pdf = packing_slip_pdf(order=_order(tenant))

    text = pdf_text(pdf)
    assert text.index("Acme Apparel") < text.index("Packing slip")  # at the top, above the title
    assert "Thanks for shopping with us" in text
    assert "Thank you for your order." not in text
    assert pdf_image_count(pdf) == 1
    assert (0.76, 0.25, 0.05) in _colours(pdf)  # #C2410C: rules and headings


def test_a_jpeg_logo_is_embedded_too(shop):
    tenant, _key, _main = shop
    _brand(tenant, logo=image_bytes((200, 80), kind="JPEG"))

    assert pdf_image_count(packing_slip_pdf(order=_order(tenant))) == 1


def test_an_unbranded_slip_has_no_image_no_accent_and_the_default_message(shop):
    tenant, _key, _main = shop

    pdf = packing_slip_pdf(order=_order(tenant))

    assert pdf_image_count(pdf) == 0
    assert (0.76, 0.25, 0.05) not in _colours(pdf)
    assert "Thank you for your order." in pdf_text(pdf)
    assert "Acme Apparel" in pdf_text(pdf)


def test_the_slip_message_is_at_the_foot_of_a_gift_slip_too(shop):
    tenant, _key, _main = shop
    _brand(tenant, slip_message="See you soon")

    text = pdf_text(packing_slip_pdf(order=_order(tenant, gift_message="Enjoy")))

    assert {"See you soon", "Enjoy"} <= set(text)


def test_the_slip_api_serves_the_branded_gift_slip_to_staff_and_the_merchant(shop, api_as):
    tenant, key, main = shop
    _brand(tenant, brand_color="#0F766E", slip_message="Thanks!", logo=image_bytes())
    gift = _order(tenant, gift_message="Enjoy your mug")
    _, staff = staff_with_token(username="sam", role="associate", warehouse=main)

    for client in (api_as(staff), api_as(key)):
        response = client.get(f"/api/v1/orders/{gift.pk}/packing-slip.pdf")

        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        text = pdf_text(response.content)
        assert {"Enjoy your mug", "Thanks!", "Acme Apparel"} <= set(text)
        assert not PRICES & set(text)
        assert pdf_image_count(response.content) == 1
