import pytest
from django.db import DatabaseError, transaction

from fulfillment.tenancy.tests.factories import TenantFactory
from inventory.models import StockMovement
from inventory.tests import factories as inv

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def movement():
    tenant = TenantFactory()
    wh = inv.warehouse()
    inv.stock(tenant, inv.product(tenant, "TEE"), wh, "01-01-1", 5)
    return StockMovement.objects.get()


def test_database_refuses_to_update_a_movement(movement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StockMovement.objects.filter(pk=movement.pk).update(quantity=50)
    assert StockMovement.objects.get(pk=movement.pk).quantity == 5


def test_database_refuses_to_delete_a_movement(movement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StockMovement.objects.filter(pk=movement.pk).delete()
    assert StockMovement.objects.filter(pk=movement.pk).exists()
