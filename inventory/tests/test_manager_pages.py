"""Manager pages: the inventory list (filters, CSV export) and the product page (ledger, demand chart)."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from fulfillment.tenancy.tests.factories import TenantFactory, staff_with_token, tenant_with_key
from inventory import services
from inventory.models import DemandDay, ReorderSuggestion
from inventory.tests.factories import product, stock, warehouse
from inventory.views import manager
from tests.api_clients import place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(django_capture_on_commit_callbacks, api_as):
    """Tenant acme: A has 10 in MAIN (an order took 4, another waits for 20) and 3 in EAST; 7 more A are inbound."""
    main, east = warehouse("MAIN"), warehouse("EAST")
    acme, key = tenant_with_key(slug="acme", default_warehouse_code="MAIN")
    item = product(acme, "A", reorder_point=6)
    stock(acme, item, main, "01-01-1", 10)
    stock(acme, item, east, "01-01-1", 3)
    services.inbound_create(tenant_id=acme.pk, warehouse=main, lines=[services.InboundLineInput(sku="A", quantity=7)])
    with django_capture_on_commit_callbacks(execute=True):
        place_order(api_as(key), "O-1", [("A", 4)])
        place_order(api_as(key), "O-2", [("A", 20)])
    user, _ = staff_with_token(username="main-mgr", warehouse=main)
    return {"main": main, "east": east, "acme": acme, "item": item, "user": user}


def rows_of(response):
    return [
        (r["tenant"].slug, r["product"].sku, r["warehouse"].code, r["on_hand"], r["allocated"], r["available"])
        + (r["backordered"], r["inbound"], r["low"])
        for r in response.context["page"].object_list
    ]


def test_anonymous_users_are_sent_to_the_login_page(client, world):
    response = client.get("/inventory/")
    assert response.status_code == 302
    assert "/login" in response["Location"]
    assert client.get(f"/inventory/products/{world['item'].pk}/").status_code == 302


def test_users_who_are_not_staff_get_403(client, world):
    user = get_user_model().objects.create_user("shopper", password="pass-word-123")
    client.force_login(user)
    assert client.get("/inventory/").status_code == 403
    assert client.get("/inventory/?export=csv").status_code == 403
    assert client.get(f"/inventory/products/{world['item'].pk}/").status_code == 403


def test_list_shows_exact_figures_of_the_users_warehouses_only(client, world):
    client.force_login(world["user"])
    response = client.get("/inventory/")
    assert response.status_code == 200
    assert rows_of(response) == [("acme", "A", "MAIN", 10, 4, 6, 20, 7, True)]
    assert b"EAST</td>" not in response.content


def test_a_staff_member_of_both_warehouses_sees_both_rows(client, world):
    user, _ = staff_with_token(username="both", warehouse=world["main"])
    world["east"].staff.add(user)
    client.force_login(user)
    rows = rows_of(client.get("/inventory/"))
    assert [(r[2], r[3]) for r in rows] == [("EAST", 3), ("MAIN", 10)]
    rows = rows_of(client.get("/inventory/?warehouse=east"))
    assert [(r[2], r[3]) for r in rows] == [("EAST", 3)]


def test_filters_by_tenant_sku_and_low(client, world):
    other = TenantFactory(slug="other")
    b = product(other, "B-1", reorder_point=0)
    stock(other, b, world["main"], "01-02-1", 5)
    client.force_login(world["user"])
    assert [r[0:2] for r in rows_of(client.get("/inventory/"))] == [("acme", "A"), ("other", "B-1")]
    assert [r[0:2] for r in rows_of(client.get("/inventory/?tenant=other"))] == [("other", "B-1")]
    assert rows_of(client.get("/inventory/?tenant=nobody")) == []
    assert [r[1] for r in rows_of(client.get("/inventory/?q=b-"))] == ["B-1"]
    assert [r[1] for r in rows_of(client.get("/inventory/?low=1"))] == ["A"]


def test_csv_export_neutralises_formulas(client, world):
    evil = TenantFactory(slug="evil")
    bad = product(evil, "-2+3", name='=HYPERLINK("http://x")', reorder_point=0)
    stock(evil, bad, world["main"], "01-03-1", 2)
    client.force_login(world["user"])
    response = client.get("/inventory/?export=csv&tenant=evil")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == manager.CSV_COLUMNS
    assert rows[1] == ["evil", "'-2+3", '\'=HYPERLINK("http://x")', "MAIN", "2", "0", "2", "0", "0", "0", "no"]
    assert len(rows) == 2


def test_csv_export_has_the_same_rows_as_the_page(client, world):
    client.force_login(world["user"])
    rows = list(csv.reader(io.StringIO(client.get("/inventory/?export=csv").content.decode())))
    assert rows[1:] == [["acme", "A", "Product A", "MAIN", "10", "4", "6", "20", "7", "6", "yes"]]


def test_product_page_shows_the_ledger_newest_first_and_paginated(client, world, monkeypatch):
    monkeypatch.setattr(manager, "LEDGER_PAGE_SIZE", 1)
    item = world["item"]
    stock(world["acme"], item, world["main"], "01-02-1", 2)
    client.force_login(world["user"])
    first = client.get(f"/inventory/products/{item.pk}/")
    assert first.status_code == 200
    ledger = first.context["ledger"]
    assert ledger.paginator.count == 2  # two receipts into MAIN; the EAST one is not shown
    assert [(m.to_location.code, m.quantity) for m in ledger.object_list] == [("01-02-1", 2)]
    second = client.get(f"/inventory/products/{item.pk}/?page=2")
    assert [(m.to_location.code, m.quantity) for m in second.context["ledger"].object_list] == [("01-01-1", 10)]


def test_product_page_says_no_forecast_yet_when_there_is_none(client, world):
    client.force_login(world["user"])
    response = client.get(f"/inventory/products/{world['item'].pk}/")
    assert b'id="no-forecast"' in response.content
    assert b"<svg" not in response.content


def test_product_page_draws_demand_and_forecast_as_inline_svg(client, world):
    item, main, acme = world["item"], world["main"], world["acme"]
    today = date.today()
    for back, units in ((3, 5), (2, 0), (1, 8)):
        DemandDay.objects.create(
            tenant=acme, product=item, warehouse=main, day=today - timedelta(days=back), quantity=units
        )
    DemandDay.objects.create(tenant=acme, product=item, warehouse=world["east"], day=today, quantity=99)
    ReorderSuggestion.objects.create(
        tenant=acme,
        product=item,
        warehouse=main,
        computed_at=timezone.now(),
        model="ses",
        daily_demand=Decimal("4.5"),
        forecast=[{"day": (today + timedelta(days=d)).isoformat(), "quantity": 4.5} for d in (1, 2)],
        available=6,
        inbound=7,
        days_of_cover=Decimal("1.3"),
        safety_stock=2,
        reorder_point=6,
        suggested_quantity=10,
    )
    client.force_login(world["user"])
    response = client.get(f"/inventory/products/{item.pk}/")
    html = response.content.decode()
    assert html.count('<rect class="demand"') == 3  # the EAST day is not the user's
    assert f"{(today - timedelta(days=1)).isoformat()}: 8</title>" in html
    assert '<polyline class="forecast"' in html
    assert 'id="no-forecast"' not in html
    assert "<script" not in html.split('<section class="card" id="demand">')[1].split("</section>")[0]
    assert response.context["series"]["forecast"] == [
        (today + timedelta(days=1), 4.5),
        (today + timedelta(days=2), 4.5),
    ]


def test_product_page_shows_only_the_users_warehouses_stock(client, world):
    client.force_login(world["user"])
    levels = client.get(f"/inventory/products/{world['item'].pk}/").context["levels"]
    assert [(r["warehouse"].code, r["on_hand"], r["available"], r["backordered"]) for r in levels] == [
        ("MAIN", 10, 6, 20)
    ]


def test_unknown_product_is_404(client, world):
    client.force_login(world["user"])
    assert client.get("/inventory/products/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_chart_is_empty_without_data():
    assert manager.demand_chart_svg([], []) == ""
