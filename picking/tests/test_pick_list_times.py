"""The handheld list of pick lists shows its times in the warehouse's time zone, as the manager pages do."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from fulfillment.tenancy.tests.factories import staff_with_token
from inventory.models import Warehouse
from picking import services
from picking.models import PickList, Wave
from picking.tests.factories import allocated_orders

pytestmark = pytest.mark.django_db


def test_pick_list_times_are_the_warehouses_local_times(django_capture_on_commit_callbacks):
    _, wh, _, _ = allocated_orders(django_capture_on_commit_callbacks, count=1)
    assert wh.timezone == "America/Toronto"
    user, _ = staff_with_token(username="picker", role="associate", warehouse=wh)
    pick_list = services.wave_build(warehouse=wh, strategy="discrete", max_orders=1).pick_lists.get()
    PickList.objects.filter(pk=pick_list.pk).update(created_at=datetime(2026, 7, 1, 16, 5, tzinfo=UTC))
    Wave.objects.filter(pk=pick_list.wave_id).update(cutoff=datetime(2026, 7, 1, 21, 0, tzinfo=UTC))
    client = Client()
    client.force_login(user)

    toronto = client.get("/handheld/pick/").content.decode()
    Warehouse.objects.filter(pk=wh.pk).update(timezone="Europe/Berlin")
    berlin = client.get("/handheld/pick/").content.decode()

    # Toronto is UTC-4 in July, Berlin UTC+2: the same instants, each warehouse's clock.
    assert "data-cutoff>17:00</time>" in toronto and "data-created>12:05</time>" in toronto
    assert 'datetime="2026-07-01T17:00:00-04:00"' in toronto
    assert "data-cutoff>23:00</time>" in berlin and "data-created>18:05</time>" in berlin
    assert "21:00" not in toronto and "16:05" not in toronto
