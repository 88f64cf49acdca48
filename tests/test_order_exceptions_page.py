"""The managers' exceptions page lists a shipped order whose shipment the carrier flagged (packing's Shipment).

Outside orders/ because it builds the shipment with the packing and shipping test helpers.
"""

import pytest

from fulfillment.tenancy.tests.factories import staff_with_token
from inventory.tests.factories import warehouse
from packing.models import ShipmentStatus
from packing.tests.factories import ensure_default_boxes
from shipping.tests.factories import ensure_default_carrier, shipped, stocked_tenant

pytestmark = pytest.mark.django_db


def test_a_shipment_in_exception_puts_its_order_on_the_exceptions_page(client, django_capture_on_commit_callbacks):
    ensure_default_boxes()
    ensure_default_carrier()
    main = warehouse("MAIN")
    tenant = stocked_tenant(main)
    flagged, shipment = shipped(django_capture_on_commit_callbacks, tenant, external_id="LOST-1")
    fine, _ = shipped(django_capture_on_commit_callbacks, tenant, external_id="FINE-1")
    type(shipment).objects.filter(pk=shipment.pk).update(status=ShipmentStatus.EXCEPTION)
    manager, _ = staff_with_token(username="mgr", warehouse=main)
    client.force_login(manager)

    groups = {g["key"]: g for g in client.get("/orders/exceptions/").context["groups"]}

    assert groups["exception"]["count"] == 1
    assert [o.number for o in groups["exception"]["orders"]] == [flagged.number]
    assert fine.number not in client.get("/orders/exceptions/").content.decode()
