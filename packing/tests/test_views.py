import re

import pytest
from django.test import Client

from fulfillment.tenancy.services import merchant_user_create
from fulfillment.tenancy.tests.factories import TenantFactory, staff_client
from inventory.tests import factories as inv
from packing import services
from packing.models import MaterialBalance, MaterialMovement

pytestmark = pytest.mark.django_db

PAGE = "/packing/materials/"


@pytest.fixture
def world():
    main, west = inv.warehouse("MAIN"), inv.warehouse("WEST")
    services.material_create(code="M-BOX-S", name="Small box", kind="box", box_code="BOX-S", reorder_point=10)
    services.material_create(code="TAPE", name="Tape roll", kind="tape", reorder_point=2)
    services.material_receive(warehouse_id=main.pk, material_code="M-BOX-S", quantity=4, reference="DN-1")
    services.material_receive(warehouse_id=main.pk, material_code="TAPE", quantity=30)
    services.material_receive(warehouse_id=west.pk, material_code="M-BOX-S", quantity=77, reference="DN-WEST")
    return {"main": main, "west": west}


def _row(body: str, code: str) -> str:
    return re.search(rf'<tr data-material="{code}"[^>]*>', body).group(0)


def _state():
    return sorted(MaterialBalance.objects.values_list("warehouse__code", "material__code", "on_hand")), (
        MaterialMovement.objects.count()
    )


def test_a_manager_sees_the_balances_with_low_ones_highlighted_a_chart_alerts_and_movements(world):
    client = staff_client("mia", "manager", world["main"])

    response = client.get(PAGE)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="low"' in _row(body, "M-BOX-S") and 'class="low"' not in _row(body, "TAPE")
    assert '<g data-bar="M-BOX-S">' in body and '<g data-bar="TAPE">' in body
    # One scale per warehouse, 0 to 30 (TAPE's on hand) over 420 units: 4 boxes are 56 long, their reorder point at 140.
    assert '<rect class="bar low" x="150" y="4" width="56.0" height="16">' in body
    assert '<line class="marker" x1="290.0" x2="290.0"' in body
    assert 'data-alert="M-BOX-S"' in body and 'data-alert="TAPE"' not in body
    assert "DN-1" in body
    assert 'data-warehouse="WEST"' not in body and "DN-WEST" not in body and ">77<" not in body
    assert "{#" not in body and "{%" not in body  # no template comment or tag leaks onto the page


def test_the_menu_shows_materials_to_managers_only(world):
    manager = staff_client("mia", "manager", world["main"])
    associate = staff_client("sam", "associate", world["main"])

    assert 'href="/packing/materials/"' in manager.get("/").content.decode()
    assert 'href="/packing/materials/"' not in associate.get("/").content.decode()


def test_associates_and_merchants_may_not_open_the_page(world):
    associate = staff_client("sam", "associate", world["main"])
    merchant = Client()
    merchant.force_login(merchant_user_create(tenant=TenantFactory(), username="shop", password="pw-123456789"))

    assert associate.get(PAGE).status_code == 403
    assert merchant.get(PAGE).status_code == 403
    before = _state()
    assert (
        associate.post(PAGE, {"warehouse": "MAIN", "material": "TAPE", "reason": "received", "quantity": 5}).status_code
        == 403
    )
    assert _state() == before


def test_a_manager_records_a_delivery_from_the_form(world):
    client = staff_client("mia", "manager", world["main"])

    response = client.post(
        PAGE, {"warehouse": "MAIN", "material": "M-BOX-S", "reason": "received", "quantity": 20, "reference": "DN-2"}
    )

    assert (response.status_code, response["Location"]) == (302, PAGE)
    assert MaterialBalance.objects.get(warehouse=world["main"], material__code="M-BOX-S").on_hand == 24
    movement = MaterialMovement.objects.latest("at", "id")
    assert (movement.reason, movement.quantity_delta, movement.reference, movement.user.username) == (
        "received",
        20,
        "DN-2",
        "mia",
    )
    page = client.get(PAGE).content.decode()
    assert "M-BOX-S in MAIN: received (+20)." in page
    assert 'data-alert="M-BOX-S"' not in page  # 24 is above the reorder point: the alert is resolved


@pytest.mark.parametrize(
    "form",
    [
        {"warehouse": "MAIN", "material": "TAPE", "reason": "received", "quantity": 0},  # the service refuses
        {"warehouse": "WEST", "material": "TAPE", "reason": "received", "quantity": 5},  # not Mia's warehouse
        {"warehouse": "MAIN", "material": "NOPE", "reason": "received", "quantity": 5},
        {"warehouse": "MAIN", "material": "TAPE", "reason": "consumed", "quantity": 5},
    ],
)
def test_a_refused_form_shows_the_error_and_changes_nothing(world, form):
    client = staff_client("mia", "manager", world["main"])
    before = _state()

    response = client.post(PAGE, form)

    assert response.status_code == 422
    assert 'class="field-error"' in response.content.decode()
    assert _state() == before
