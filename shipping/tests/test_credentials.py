import io
import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from shipping import credentials, services
from shipping.models import CarrierAccount

pytestmark = pytest.mark.django_db

FEDEX = {"api_key": "key-123", "secret_key": "s3cret-value", "account_number": "510087000"}


def _fedex(**extra):
    return services.carrier_account_create(
        carrier_name="fedex",
        carrier_id="fedex-main",
        credentials=FEDEX,
        services=[{"service_code": "fedex_ground", "level": "standard", "transit_days": 5}],
        **extra,
    )


def test_credentials_are_stored_encrypted_and_read_back(caplog):
    caplog.set_level(logging.DEBUG)
    account = _fedex()

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials_encrypted FROM shipping_carrieraccount WHERE id = %s", [account.pk])
        (stored,) = cursor.fetchone()
    assert "s3cret-value" not in stored and "key-123" not in stored
    assert credentials.decrypt(CarrierAccount.objects.get(pk=account.pk).credentials_encrypted) == FEDEX
    assert "s3cret-value" not in caplog.text


def test_rotation_re_encrypts_with_the_new_first_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CARRIER_CREDENTIALS_KEYS = [old]
    account = _fedex()
    settings.CARRIER_CREDENTIALS_KEYS = [new, old]
    out = io.StringIO()

    call_command("rotate_carrier_credentials", stdout=out)

    assert out.getvalue().strip() == "1 accounts re-encrypted"
    settings.CARRIER_CREDENTIALS_KEYS = [new]
    assert credentials.decrypt(CarrierAccount.objects.get(pk=account.pk).credentials_encrypted) == FEDEX


def test_patching_credentials_merges_them_and_missing_ones_are_refused_with_nothing_changed():
    account = _fedex()

    services.carrier_account_update(account_id=account.pk, credentials={"secret_key": "rotated"})
    merged = credentials.decrypt(CarrierAccount.objects.get(pk=account.pk).credentials_encrypted)
    assert merged == {**FEDEX, "secret_key": "rotated"}

    with pytest.raises(services.CarrierAccountError) as refused:
        services.carrier_account_create(
            carrier_name="ups", carrier_id="ups-main", credentials={"client_id": "x"}, services=[]
        )
    fields = {e["field"] for e in refused.value.errors}
    assert {"credentials.client_secret", "credentials.account_number"} <= fields
    assert not CarrierAccount.objects.filter(carrier_id="ups-main").exists()
