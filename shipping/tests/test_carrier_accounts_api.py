"""POST /api/v1/carrier-accounts/: what a manager may add, and what is refused (nothing saved)."""

import pytest

from fulfillment.tenancy.tests.factories import staff_with_token
from inventory.tests import factories as inv
from shipping import credentials as secrets
from shipping.models import CarrierAccount, CarrierService

pytestmark = pytest.mark.django_db

URL = "/api/v1/carrier-accounts/"
FEDEX_CREDENTIALS = {"api_key": "l7fedexKEY0042", "secret_key": "fedexSECRETd9c1", "account_number": "510087020"}
GROUND = {"service_code": "fedex_ground", "service_name": "FedEx Ground", "level": "standard", "transit_days": 3}


@pytest.fixture
def manager(api_as):
    _, token = staff_with_token(username="mia", role="manager", warehouse=inv.warehouse())
    return api_as(token)


def _state():
    return (
        sorted(CarrierAccount.objects.values_list("carrier_id", flat=True)),
        CarrierService.objects.count(),
    )


def _codes(body) -> dict:
    return {e["field"]: e["code"] for e in body.get("errors", [])}


def test_an_unknown_carrier_is_refused_with_unknown_carrier(manager):
    before = _state()

    response = manager.post(URL, {"carrier_name": "pigeon_post", "services": [GROUND]}, format="json")

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("carrier_name", "unknown_carrier")
    assert "pigeon_post" in error["message"] and "fedex" in error["message"]  # and what karrio has here
    assert _state() == before


def test_fedex_without_credentials_names_each_missing_one(manager):
    before = _state()

    response = manager.post(URL, {"carrier_name": "fedex", "services": [GROUND]}, format="json")

    assert response.status_code == 422
    assert _codes(response.json()) == {
        "credentials.api_key": "missing_credentials",
        "credentials.secret_key": "missing_credentials",
        "credentials.account_number": "missing_credentials",
    }
    assert _state() == before


def test_fedex_with_part_of_its_credentials_names_the_rest(manager):
    before = _state()

    response = manager.post(
        URL, {"carrier_name": "fedex", "credentials": {"api_key": "k"}, "services": [GROUND]}, format="json"
    )

    assert response.status_code == 422
    assert _codes(response.json()) == {
        "credentials.secret_key": "missing_credentials",
        "credentials.account_number": "missing_credentials",
    }
    assert _state() == before


def test_a_generic_zone_without_its_rate_is_refused(manager):
    before = _state()
    service = {
        "service_code": "standard",
        "service_name": "Local courier",
        "level": "standard",
        "transit_days": 2,
        "currency": "CAD",
        "zones": [{"country_codes": ["CA"], "rate": "8.00"}, {"country_codes": ["US"]}],
    }

    response = manager.post(
        URL, {"carrier_name": "generic", "carrier_id": "local-courier", "services": [service]}, format="json"
    )

    assert response.status_code == 422
    assert _codes(response.json()) == {"services[0].zones[1].rate": "required"}
    assert _state() == before


def test_a_created_account_answers_the_names_of_its_credentials_never_their_values(manager):
    response = manager.post(
        URL,
        {
            "carrier_name": "fedex",
            "display_name": "FedEx",
            "credentials": FEDEX_CREDENTIALS,
            "account_country": "CA",
            "services": [GROUND],
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["credentials_set"] == ["account_number", "api_key", "secret_key"]
    assert "credentials" not in body
    for value in FEDEX_CREDENTIALS.values():
        assert value not in response.content.decode()
    listed = manager.get(URL).content.decode()
    assert "fedex" in listed and all(value not in listed for value in FEDEX_CREDENTIALS.values())
    assert manager.get(f"{URL}{body['id']}/").json()["credentials_set"] == ["account_number", "api_key", "secret_key"]
    account = CarrierAccount.objects.get(carrier_id="fedex")
    assert secrets.decrypt(account.credentials_encrypted) == FEDEX_CREDENTIALS  # kept, encrypted
    assert FEDEX_CREDENTIALS["secret_key"] not in str(account.credentials_encrypted)
    assert [s.service_code for s in account.services.all()] == ["fedex_ground"]


def test_an_associate_cannot_add_an_account(api_as):
    _, token = staff_with_token(username="sam", role="associate", warehouse=inv.warehouse())
    before = _state()

    response = api_as(token).post(
        URL, {"carrier_name": "fedex", "credentials": FEDEX_CREDENTIALS, "services": [GROUND]}, format="json"
    )

    assert response.status_code == 403
    assert _state() == before
