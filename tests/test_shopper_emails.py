"""The shipped e-mail through the real chain: packed, label bought, order shipped, e-mail with the tracking number.

Lives outside orders/ because it builds the shipment with the packing and shipping test helpers (the
orders package may not import later stages, its tests included).
"""

import pytest

from inventory.tests.factories import warehouse
from orders.models import OrderEvent, Status
from packing.tests.factories import ensure_default_boxes
from shipping.tests.factories import ensure_default_carrier, shipped, stocked_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant():
    ensure_default_boxes()
    ensure_default_carrier()
    shop = stocked_tenant(warehouse("MAIN"))
    shop.name, shop.shopper_emails, shop.email_from = "Acme Outfitters", True, "hello@acme.test"
    shop.save(update_fields=["name", "shopper_emails", "email_from"])
    return shop


def test_shipped_email_carries_the_carrier_service_and_tracking_number(
    tenant, mailoutbox, django_capture_on_commit_callbacks
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
    assert f"Tracking number: {shipment.tracking_number}" in mail.body
    assert list(OrderEvent.objects.filter(order=order, type="email_sent").values_list("data", flat=True)) == [
        {"kind": "confirmation", "to": "ada@example.com"},
        {"kind": "shipped", "to": "ada@example.com"},
    ]


def test_no_shipped_email_when_the_tenant_has_emails_off(tenant, mailoutbox, django_capture_on_commit_callbacks):
    tenant.shopper_emails = False
    tenant.save(update_fields=["shopper_emails"])
    order, _ = shipped(django_capture_on_commit_callbacks, tenant, external_id="SHOP-8")
    assert order.status == Status.SHIPPED
    assert mailoutbox == []
